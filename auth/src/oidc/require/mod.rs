//! [`RequireLoginLayer`]: only requests with a live session reach the inner service.
//!
//! Without a session, a browser navigation (`Sec-Fetch-Mode: navigate`, or no Fetch Metadata
//! and an `Accept` that lists `text/html`) to a `GET`/`HEAD` route is redirected to the login
//! with the current path as `return_to`; every other request (`fetch`, XHR, API clients,
//! unsafe methods) gets a bare `401`, so scripts see the failure instead of a login page.

mod layer;
pub(crate) mod service;

pub use layer::RequireLoginLayer;
pub use service::RequireLogin;
