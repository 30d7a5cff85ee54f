//! The in-process login behind the callback benchmark and the callback fuzz targets: a genuine
//! callback logs in, attacker-made ones never do.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use http::StatusCode;
use paved_auth::fuzzing::{self, CallbackFixture};

#[tokio::test]
async fn genuine_callback_logs_in_and_forged_token_responses_are_502() {
    let fixture = CallbackFixture::new().unwrap();
    let pending = fixture.begin().await.unwrap();
    let query = fixture.callback_query(&pending).unwrap();
    assert_eq!(
        fixture.callback(&query, &pending.cookie).await,
        StatusCode::SEE_OTHER
    );
    for body in [
        &b"<html>"[..],
        br#"{"access_token":"a","token_type":"mac","id_token":"x"}"#,
        br#"{"access_token":"a","token_type":"Bearer","expires_in":"soon"}"#,
        br#"{"access_token":"a","token_type":"Bearer"}"#,
        br#"{"access_token":"a","token_type":"Bearer","id_token":"eyJhbGciOiJub25lIn0.e30."}"#,
    ] {
        let pending = fixture.begin().await.unwrap();
        assert_eq!(
            fixture.callback_with_token_response(&pending, body).await,
            StatusCode::BAD_GATEWAY,
            "{}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn fuzz_entries_hold_their_invariants_on_seeds() {
    let fixture = CallbackFixture::new().unwrap();
    fuzzing::oidc_token_response(&fixture, br#"{"access_token":"a","token_type":"Bearer"}"#);
    fuzzing::oidc_callback_query(&fixture, b"code=a&state=b\n__Host-paved-tx-b=c");
}
