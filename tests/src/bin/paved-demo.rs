//! `cargo xtask demo`: the identity provider, `examples/api` and `examples/webapp` on this
//! machine, the examples over https (see `paved_tests::demo`). Ctrl-C stops everything.
//!
//! `paved-demo [--dir DIR]`: DIR holds the development CA (default `target/demo`).
//! Ports: `PAVED_DEMO_WEBAPP_PORT` (8443), `PAVED_DEMO_API_PORT` (8081),
//! `PAVED_DEMO_IDP_PORT` (8090); all listen on 127.0.0.1 only.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use paved_tests::demo::{API_SCOPES, Demo, DemoOptions, WEBAPP_HOST};
use paved_tests::idp::{OTHER_USER, USER};

fn port(var: &str, default: u16) -> Result<u16, String> {
    match std::env::var(var) {
        Ok(value) => value
            .parse()
            .map_err(|_| format!("{var}={value:?} is not a port number")),
        Err(_) => Ok(default),
    }
}

fn options() -> Result<DemoOptions, String> {
    let mut args = std::env::args().skip(1);
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/demo");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--dir" => dir = args.next().ok_or("--dir needs a folder")?.into(),
            other => {
                return Err(format!(
                    "unknown argument {other:?} (usage: paved-demo [--dir DIR])"
                ));
            }
        }
    }
    Ok(DemoOptions {
        dir,
        webapp_port: port("PAVED_DEMO_WEBAPP_PORT", 8443)?,
        api_port: port("PAVED_DEMO_API_PORT", 8081)?,
        idp_port: port("PAVED_DEMO_IDP_PORT", 8090)?,
        webapp_host: WEBAPP_HOST.to_owned(),
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .init();
    let options = match options() {
        Ok(options) => options,
        Err(e) => {
            eprintln!("paved-demo: {e}");
            return ExitCode::from(2);
        }
    };
    println!("starting the identity provider, the API and the web app…");
    let demo = match Demo::start(options).await {
        Ok(demo) => demo,
        Err(e) => {
            eprintln!("paved-demo: could not start: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ca = demo.ca().cert_path().display().to_string();
    println!(
        "\n\
         paved demo is running\n\
         \n  web app       {webapp}/\n\
         \x20 API           {api}/healthz   (needs a bearer token with {API_SCOPES:?})\n\
         \x20 identity      {issuer}   (the development identity provider)\n\
         \n\
         Sign in as `{USER}` or `{OTHER_USER}` with any password, on the provider's own login page.\n\
         \n\
         The examples' certificate comes from a local development CA: {ca}\n\
         \x20 Chromium/Chrome: Settings → Privacy and security → Security → Manage certificates →\n\
         \x20   Authorities → Import (on Linux also: certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n paved-dev -i {ca});\n\
         \x20 Firefox: Settings → Certificates → View Certificates → Authorities → Import;\n\
         \x20 curl: curl --cacert {ca} {webapp}/\n\
         It can vouch for localhost names and loopback addresses only (X.509 name constraints)\n\
         and expires in a year; trust it on this machine only, and remove it when you are done.\n\
         \n\
         The web app is on {WEBAPP_HOST} (always this machine) because it sends HSTS as in\n\
         production: your browser pins that name to https, not localhost.\n\
         \n\
         Ctrl-C stops everything.",
        webapp = demo.webapp_origin(),
        api = demo.api_origin(),
        issuer = demo.idp().issuer(),
    );
    let _ = tokio::signal::ctrl_c().await;
    println!("stopping…");
    demo.shutdown().await;
    ExitCode::SUCCESS
}
