//! The web app in a real browser (headless Chromium through chromedriver), against the real
//! identity provider and the real API, all over the demo's https setup
//! (`paved_tests::demo`): what a user does, and what page JavaScript can and cannot see.
//!
//! On failure each test saves a screenshot under `target/browser/`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::error::Error;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use fantoccini::{Client, Locator};
use paved_tests::browser::{Chromedriver, eval, screenshot};
use paved_tests::demo::{Demo, DemoOptions, ScratchDir, WEBAPP_HOST};
use paved_tests::idp::USER;

type TestResult = Result<(), Box<dyn Error + Send + Sync>>;

/// How long a page may take to show what a step waits for.
const STEP_TIMEOUT: Duration = Duration::from_secs(15);

struct Setup {
    demo: Demo,
    _driver: Chromedriver,
    client: Client,
    _dir: ScratchDir,
}

async fn setup(name: &str) -> Result<Setup, Box<dyn Error + Send + Sync>> {
    let dir = ScratchDir::new(&format!("browser-{name}"))?;
    let demo = Demo::start(DemoOptions::ephemeral(dir.path().to_path_buf())).await?;
    let driver = Chromedriver::start().await?;
    let client = driver.session(demo.server_spki_sha256_base64()).await?;
    Ok(Setup {
        demo,
        _driver: driver,
        client,
        _dir: dir,
    })
}

/// Runs `body`; on failure saves `target/browser/<name>-failure.png` and the page URL, then
/// fails the test with the error. The browser session is closed either way.
async fn run<F, Fut>(name: &str, body: F)
where
    F: FnOnce(Client, String, String, SocketAddr) -> Fut,
    Fut: Future<Output = TestResult>,
{
    let setup = setup(name).await.unwrap();
    let origin = setup.demo.webapp_origin().to_owned();
    let ca_pem = setup.demo.ca().cert_pem().to_owned();
    let client = setup.client.clone();
    let addr = setup.demo.webapp_addr();
    let result = body(setup.client.clone(), origin, ca_pem, addr).await;
    if let Err(e) = result {
        let url = client.current_url().await.map(|u| u.to_string());
        let shot = screenshot(&client, &format!("{name}-failure")).await;
        let _ = client.close().await;
        panic!(
            "{name} failed: {e}\n  page: {url:?}\n  screenshot: {shot:?}\n  provider log:\n{}",
            setup.demo.idp().log_tail()
        );
    }
    let _ = client.close().await;
    setup.demo.shutdown().await;
}

async fn text_of(client: &Client, css: &str) -> Result<String, Box<dyn Error + Send + Sync>> {
    let element = client
        .wait()
        .at_most(STEP_TIMEOUT)
        .for_element(Locator::Css(css))
        .await
        .map_err(|e| format!("waiting for `{css}`: {e}"))?;
    Ok(element.text().await?)
}

async fn click(client: &Client, css: &str) -> TestResult {
    client
        .wait()
        .at_most(STEP_TIMEOUT)
        .for_element(Locator::Css(css))
        .await
        .map_err(|e| format!("waiting for `{css}`: {e}"))?
        .click()
        .await?;
    Ok(())
}

/// Plays the user at the provider's own login and consent pages (oidc-provider's development
/// interactions): a login form, then a consent form on first use.
async fn sign_in(client: &Client, origin: &str) -> TestResult {
    client.goto(&format!("{origin}/")).await?;
    click(client, "#login").await?;
    let login = client
        .wait()
        .at_most(STEP_TIMEOUT)
        .for_element(Locator::Css("input[name=login]"))
        .await
        .map_err(|e| format!("the provider's login form: {e}"))?;
    login.send_keys(USER).await?;
    client
        .find(Locator::Css("input[name=password]"))
        .await?
        .send_keys("any password")
        .await?;
    client
        .find(Locator::Css("button[type=submit]"))
        .await?
        .click()
        .await?;
    // Then the consent page ("Authorize", unless the provider already has the grant) or the
    // app. Polled until one of them is there: right after the click the login page may still
    // be the one shown, and an element found on it goes stale when the next page loads.
    let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
    loop {
        let url = client.current_url().await?;
        if url.as_str().starts_with(origin) && client.find(Locator::Css("#user-name")).await.is_ok()
        {
            break;
        }
        if client
            .find(Locator::Css("input[name=prompt][value=consent]"))
            .await
            .is_ok()
        {
            // A stale button (the page moved on meanwhile) is simply looked up again.
            if let Ok(button) = client.find(Locator::Css("button[type=submit]")).await {
                let _ = button.click().await;
            }
        }
        if tokio::time::Instant::now() > deadline {
            return Err(format!("the login did not come back to the app: {url}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let name = text_of(client, "#user-name").await?;
    if name != "Alice Liddell" {
        return Err(format!("the signed-in page shows {name:?}, not the user's name").into());
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_login_shows_the_name_and_no_token_reaches_page_scripts() {
    run("login", |client, origin, _ca, _addr| async move {
        sign_in(&client, &origin).await?;
        screenshot(&client, "logged-in").await?;

        // The session cookie is HttpOnly: page JavaScript sees no cookie at all, and nothing
        // is kept in web storage.
        let visible = eval(
            &client,
            "return { cookie: document.cookie, local: localStorage.length, \
             session: sessionStorage.length, html: document.documentElement.outerHTML };",
        )
        .await?;
        if visible["cookie"] != "" {
            return Err(format!("document.cookie is {:?}", visible["cookie"]).into());
        }
        if visible["local"] != 0 || visible["session"] != 0 {
            return Err(format!("web storage is used: {visible}").into());
        }
        // No JWT (ID token or access token) anywhere in the page.
        let html = visible["html"].as_str().unwrap_or_default();
        if html.contains("eyJ") {
            return Err("the page contains a JWT".into());
        }
        // The browser holds the session cookie with the flags that keep it from scripts, from
        // plain http and from cross-site subrequests; its value is not a token.
        let cookies = client.get_all_cookies().await?;
        let session = cookies
            .iter()
            .find(|c| c.http_only() == Some(true) && c.secure() == Some(true))
            .ok_or("no Secure HttpOnly session cookie")?;
        // (fantoccini does not re-export the `cookie` crate's `SameSite`.)
        if format!("{:?}", session.same_site()) != "Some(Lax)" {
            return Err(format!("the session cookie is SameSite {:?}", session.same_site()).into());
        }
        if session.value().contains("eyJ") {
            return Err("the session cookie carries a JWT".into());
        }
        for cookie in &cookies {
            if cookie.http_only() != Some(true) || cookie.secure() != Some(true) {
                return Err(format!("cookie {} is not Secure HttpOnly", cookie.name()).into());
            }
        }
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_csp_nonce_runs_the_page_script_and_blocks_injected_scripts() {
    run("csp", |client, origin, _ca, _addr| async move {
        client.goto(&format!("{origin}/")).await?;
        // The page's own inline script carries the response's nonce and ran.
        let status = text_of(&client, "#script-status").await?;
        if status != "script ran" {
            return Err(format!("the nonce'd script did not run: {status:?}").into());
        }
        // The nonce is not readable from the DOM attribute (nonce hiding), so injected markup
        // cannot copy it.
        let attribute = eval(
            &client,
            "return document.querySelector('script').getAttribute('nonce');",
        )
        .await?;
        if attribute.as_str().is_some_and(|a| !a.is_empty()) {
            return Err(format!("the nonce is readable from the DOM: {attribute}").into());
        }
        // What an HTML injection adds, parsed by the browser's HTML parser: an inline event
        // handler in this document, and in a same-origin `srcdoc` frame (which inherits the
        // page's policy) an inline script without the nonce next to one with it. Scripts that
        // WebDriver itself creates are not the model: 'strict-dynamic' trusts scripts that
        // trusted scripts insert, by design; injected markup is parser-inserted and is not.
        // The nonce'd script in the frame is the control: it must run, or the check proves
        // nothing; it comes after the injected one, so when it has run the injected one has
        // had its turn.
        eval(
            &client,
            "window.__violations = 0;\
             document.addEventListener('securitypolicyviolation', () => { window.__violations += 1; });\
             document.body.insertAdjacentHTML('beforeend', '<img src=\"data:,x\" onerror=\"window.__injected_handler = 1\">');\
             const nonce = document.querySelector('script').nonce;\
             const frame = document.createElement('iframe');\
             frame.srcdoc = '<script>parent.__injected_script = 1<\\/script>' +\
               '<script nonce=\"' + nonce + '\">parent.__control = 1<\\/script>';\
             document.body.appendChild(frame);\
             return true;",
        )
        .await?;
        let mut outcome = serde_json::Value::Null;
        for _ in 0..50 {
            outcome = eval(
                &client,
                "return { control: window.__control === 1, handler: window.__injected_handler === 1, \
                 script: window.__injected_script === 1, violations: window.__violations };",
            )
            .await?;
            if outcome["control"] == true && outcome["violations"].as_u64() >= Some(1) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if outcome["control"] != true {
            return Err(format!("the nonce'd script in the frame did not run: {outcome}").into());
        }
        if outcome["handler"] != false || outcome["script"] != false {
            return Err(format!("an injected script ran: {outcome}").into());
        }
        if outcome["violations"].as_u64() < Some(1) {
            return Err(format!("the CSP reported no violation: {outcome}").into());
        }
        Ok(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browser_api_call_then_logout_ends_the_session() {
    run("api-logout", |client, origin, ca_pem, addr| async move {
        sign_in(&client, &origin).await?;

        // The button posts to the web app, which calls the API server-side with the session's
        // access token; the API answers for the signed-in subject.
        click(&client, "#call-api").await?;
        let result = text_of(&client, "#api-result").await?;
        if !result.starts_with("200") || !result.contains(USER) {
            return Err(format!("the API call shows {result:?}").into());
        }

        // The session cookie as it was before logout, to replay afterwards.
        let before: Vec<(String, String)> = client
            .get_all_cookies()
            .await?
            .iter()
            .map(|c| (c.name().to_owned(), c.value().to_owned()))
            .collect();

        client.goto(&format!("{origin}/")).await?;
        click(&client, "#logout").await?;
        // The provider asks to confirm ending its own session (RP-Initiated Logout) when it
        // still has one; the app's `Clear-Site-Data: "cookies"` clears only the app's site
        // (`paved.localhost`), not the provider's (`localhost`).
        let deadline = tokio::time::Instant::now() + STEP_TIMEOUT;
        loop {
            let url = client.current_url().await?;
            if url.as_str().starts_with(&origin)
                && client.find(Locator::Css("#login")).await.is_ok()
            {
                break;
            }
            if let Ok(confirm) = client.find(Locator::Css("button[name=logout]")).await {
                confirm.click().await?;
            }
            if tokio::time::Instant::now() > deadline {
                return Err(format!("logout did not come back to the app: {url}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let url = client.current_url().await?;
        if !url.as_str().starts_with(&origin) {
            return Err(format!("logout ended at {url}, not back at the app").into());
        }

        // The account page now sends the user to log in again.
        client.goto(&format!("{origin}/account")).await?;
        client
            .wait()
            .at_most(STEP_TIMEOUT)
            .for_element(Locator::Css("input[name=login]"))
            .await
            .map_err(|e| format!("after logout /account did not lead to the login form: {e}"))?;

        // Replaying the old cookie does not bring the session back: it was ended on the
        // server, not only deleted from the browser.
        let replay = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(ca_pem.as_bytes())?)
            .resolve(WEBAPP_HOST, addr)
            .build()?;
        let cookie_header = before
            .iter()
            .map(|(n, v)| format!("{n}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let answer = replay
            .get(format!("{origin}/account"))
            .header("cookie", cookie_header)
            .send()
            .await?;
        if answer.status().is_success() {
            return Err("the old session cookie still opens /account".into());
        }
        Ok(())
    })
    .await;
}
