//! The local demo (`cargo xtask demo`) and what the browser test runs: the real identity
//! provider, `examples/api` and `examples/webapp`, the two examples over https with a
//! certificate from a local development CA.
//!
//! [`Demo::start`] wires them together the way a deployment would:
//!
//! - the provider (npm `oidc-provider`, a development provider: any password logs in the
//!   scripted users) on `https://localhost:PORT`, with one confidential client for the web app (`client_secret_basic`, ES256 ID tokens, the web
//!   app's callback and post-logout URIs) and the API registered as an RFC 8707 resource
//!   server, so the web app's access tokens are RFC 9068 JWTs whose `aud` is the API;
//! - `examples/api` checking those tokens against the provider's JWKS;
//! - `examples/webapp` logging users in and calling the API server-side, trusting the local CA
//!   for that call.
//!
//! Nothing runs in a development mode that relaxes the transport: every hop is https, verified
//! against the public roots plus the local CA, and the examples run with the settings a
//! deployment uses.
//!
//! The CA is made once per folder ([`DevCa::load_or_create`]: the demo keeps it under
//! `target/demo/`, so a browser told to trust it keeps working across runs); the server
//! certificate is made anew on every start, for `localhost`, `127.0.0.1` and `::1`.

use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum_server::Handle;
use axum_server::tls_rustls::RustlsConfig;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use paved_secrets::SecretString;
use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    NameConstraints, PublicKeyData as _,
};
use ring::digest;
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use serde_json::json;
use tokio::task::JoinHandle;

use crate::idp::{Idp, IdpOptions, IdpTls, random_secret};

/// The web app's client id at the provider.
pub const WEBAPP_CLIENT: &str = "paved-webapp";
/// The scopes of the API (the resource server registered at the provider).
pub const API_SCOPES: &str = "items:read items:write";
/// The CA certificate's file name in the demo folder (what a browser is told to trust). The
/// `-v2` names the CA with name constraints and a one-year validity: a folder holding an older,
/// unconstrained CA gets a new one instead of reusing it.
pub const CA_FILE: &str = "paved-dev-ca-v2.pem";
const CA_KEY_FILE: &str = "paved-dev-ca-v2-key.pem";
/// How long the CA is valid: long enough not to re-import it every week, short enough that a
/// forgotten import does not stay trusted for years.
const CA_VALIDITY_DAYS: i64 = 365;
/// How long a server certificate is valid (they are made anew at every start).
const SERVER_CERT_VALIDITY_DAYS: i64 = 30;
/// The web app's host name in the demo. The app sends HSTS as in production, and a browser
/// would then pin `localhost` itself — every local port — to https for two years; a name of
/// its own under `.localhost` (RFC 6761 §6.3: always loopback; Chromium, Firefox and curl
/// resolve it themselves) keeps that pin on the demo.
pub const WEBAPP_HOST: &str = "paved.localhost";
/// The common name of the development CA, as browsers show it.
pub const CA_NAME: &str = "paved local development CA";
/// How long a graceful shutdown may take before connections are cut.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(2);

/// Why the demo could not start.
#[derive(Debug)]
#[non_exhaustive]
pub enum DemoError {
    /// The development CA or certificate could not be made or read.
    Certificate(String),
    /// The identity provider did not start.
    Idp(crate::idp::HarnessError),
    /// An example refused its configuration or could not discover the provider.
    Example(String),
    /// Binding a port or writing a file failed.
    Io(io::Error),
}

impl fmt::Display for DemoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Certificate(e) => write!(f, "development certificate: {e}"),
            Self::Idp(e) => write!(f, "identity provider: {e}"),
            Self::Example(e) => write!(f, "example: {e}"),
            Self::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for DemoError {}

impl From<io::Error> for DemoError {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

fn cert_error(e: impl fmt::Display) -> DemoError {
    DemoError::Certificate(e.to_string())
}

/// The local development CA: a self-signed root whose key stays in the demo folder (mode
/// 0600). Never trust it anywhere but on the machine that made it.
pub struct DevCa {
    key: KeyPair,
    params: CertificateParams,
    cert_pem: String,
    cert_path: PathBuf,
}

impl fmt::Debug for DevCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DevCa")
            .field("cert_path", &self.cert_path)
            .finish_non_exhaustive()
    }
}

/// A server certificate and its key, as rustls wants them.
pub struct ServerCert {
    chain: Vec<CertificateDer<'static>>,
    key: PrivatePkcs8KeyDer<'static>,
    cert_pem: String,
    key_pem: String,
    spki_sha256: String,
}

impl fmt::Debug for ServerCert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerCert")
            .field("chain_len", &self.chain.len())
            .finish_non_exhaustive()
    }
}

fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(1);
    params.not_after = now + time::Duration::days(CA_VALIDITY_DAYS);
    // A browser told to trust this CA trusts it for loopback names and addresses only
    // (RFC 5280 §4.2.1.10; `localhost` covers `paved.localhost`): a stolen key cannot
    // impersonate any other site.
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: vec![
            GeneralSubtree::DnsName("localhost".to_owned()),
            GeneralSubtree::IpAddress(CidrSubnet::V4([127, 0, 0, 0], [255, 0, 0, 0])),
            GeneralSubtree::IpAddress(CidrSubnet::V6(
                std::net::Ipv6Addr::LOCALHOST.octets(),
                [0xff; 16],
            )),
        ],
        excluded_subtrees: Vec::new(),
    });
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, CA_NAME);
    name.push(DnType::OrganizationName, "paved demo");
    params.distinguished_name = name;
    // A root for one purpose: it signs server certificates, nothing below it signs further.
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params
}

fn write_file(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)?;
    file.write_all(contents)?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}

impl DevCa {
    /// Loads the CA from `dir`, or makes one there (ECDSA P-256) when there is none.
    ///
    /// A stored CA is used only if the folder is not writable by group or others, the key is
    /// readable by its owner only, and the certificate holds that key's public key: a CA
    /// planted by someone else is refused, not trusted.
    ///
    /// # Errors
    /// [`DemoError::Certificate`] when the stored CA is refused, the key does not parse or
    /// signing fails, and I/O errors.
    pub fn load_or_create(dir: &Path) -> Result<Self, DemoError> {
        use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
        let refuse = |why: String| {
            DemoError::Certificate(format!(
                "{why}; delete {} to make a new development CA",
                dir.display()
            ))
        };
        if fs::metadata(dir)?.permissions().mode() & 0o022 != 0 {
            return Err(refuse(format!(
                "{} is writable by other users",
                dir.display()
            )));
        }
        let cert_path = dir.join(CA_FILE);
        let key_path = dir.join(CA_KEY_FILE);
        let params = ca_params();
        if let (Ok(key_pem), Ok(cert_pem)) = (
            fs::read_to_string(&key_path),
            fs::read_to_string(&cert_path),
        ) {
            if fs::metadata(&key_path)?.permissions().mode() & 0o077 != 0 {
                return Err(refuse(format!(
                    "{} is readable by other users",
                    key_path.display()
                )));
            }
            let key = KeyPair::from_pem(&key_pem).map_err(cert_error)?;
            let cert_der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
                .map_err(|e| refuse(format!("{}: {e}", cert_path.display())))?;
            let spki = key.subject_public_key_info();
            if !cert_der.windows(spki.len()).any(|w| w == spki.as_slice()) {
                return Err(refuse(format!(
                    "{} does not belong to its key",
                    cert_path.display()
                )));
            }
            return Ok(Self {
                key,
                params,
                cert_pem,
                cert_path,
            });
        }
        let key = KeyPair::generate().map_err(cert_error)?;
        let cert = params.self_signed(&key).map_err(cert_error)?;
        let cert_pem = cert.pem();
        write_file(&key_path, key.serialize_pem().as_bytes(), 0o600)?;
        write_file(&cert_path, cert_pem.as_bytes(), 0o644)?;
        Ok(Self {
            key,
            params,
            cert_pem,
            cert_path,
        })
    }

    /// The CA certificate, PEM.
    #[must_use]
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// Where the CA certificate is stored.
    #[must_use]
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// A new server certificate for `localhost`, [`WEBAPP_HOST`], `127.0.0.1` and `::1`,
    /// signed by this CA.
    ///
    /// # Errors
    /// [`DemoError::Certificate`] when key generation or signing fails.
    pub fn server_cert(&self) -> Result<ServerCert, DemoError> {
        let mut params = CertificateParams::new(vec![
            "localhost".to_owned(),
            WEBAPP_HOST.to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ])
        .map_err(cert_error)?;
        params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(SERVER_CERT_VALIDITY_DAYS);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().map_err(cert_error)?;
        let issuer = Issuer::from_params(&self.params, &self.key);
        let cert = params.signed_by(&key, &issuer).map_err(cert_error)?;
        let spki = digest::digest(&digest::SHA256, &key.subject_public_key_info());
        Ok(ServerCert {
            chain: vec![cert.der().clone()],
            key: PrivatePkcs8KeyDer::from(key.serialize_der()),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            spki_sha256: STANDARD.encode(spki),
        })
    }
}

impl ServerCert {
    /// The SHA-256 of the certificate's public key (SPKI), standard base64: what
    /// Chromium's `--ignore-certificate-errors-spki-list` takes.
    #[must_use]
    pub fn spki_sha256_base64(&self) -> &str {
        &self.spki_sha256
    }

    /// Writes the certificate and its key (mode 0600) as PEM files in `dir`, for a server
    /// that reads files (the identity provider); returns their paths.
    ///
    /// # Errors
    /// I/O errors.
    pub fn write_pem(&self, dir: &Path) -> io::Result<(PathBuf, PathBuf)> {
        let cert = dir.join("localhost.pem");
        let key = dir.join("localhost-key.pem");
        write_file(&cert, self.cert_pem.as_bytes(), 0o644)?;
        write_file(&key, self.key_pem.as_bytes(), 0o600)?;
        Ok((cert, key))
    }

    /// A rustls server configuration on the ring provider (the workspace's one crypto library)
    /// serving this certificate, HTTP/2 and HTTP/1.1.
    ///
    /// # Errors
    /// [`DemoError::Certificate`] when rustls refuses the certificate or key.
    pub fn rustls_config(&self) -> Result<RustlsConfig, DemoError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(cert_error)?
            .with_no_client_auth()
            .with_single_cert(
                self.chain.clone(),
                PrivateKeyDer::Pkcs8(self.key.clone_key()),
            )
            .map_err(cert_error)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(RustlsConfig::from_config(Arc::new(config)))
    }
}

/// Where and how to start the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The folder holding the development CA.
    pub dir: PathBuf,
    /// The web app's port (0: a free one).
    pub webapp_port: u16,
    /// The API's port (0: a free one).
    pub api_port: u16,
    /// The provider's port (0: a free one).
    pub idp_port: u16,
    /// The web app's host name: [`WEBAPP_HOST`], or `localhost` for a client that resolves
    /// no other name under `.localhost` (Node's resolver, the header scanner).
    pub webapp_host: String,
}

impl DemoOptions {
    /// Free ports, CA in `dir`, the web app on [`WEBAPP_HOST`]: what tests use.
    #[must_use]
    pub fn ephemeral(dir: PathBuf) -> Self {
        Self {
            dir,
            webapp_port: 0,
            api_port: 0,
            idp_port: 0,
            webapp_host: WEBAPP_HOST.to_owned(),
        }
    }
}

/// The running demo. Dropping it stops the two servers and the provider.
pub struct Demo {
    idp: Idp,
    ca: DevCa,
    spki_sha256: String,
    webapp_origin: String,
    webapp_addr: SocketAddr,
    api_origin: String,
    handles: Vec<Handle<SocketAddr>>,
    tasks: Vec<JoinHandle<()>>,
}

impl fmt::Debug for Demo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Demo")
            .field("webapp_origin", &self.webapp_origin)
            .field("api_origin", &self.api_origin)
            .field("issuer", &self.idp.issuer())
            .finish_non_exhaustive()
    }
}

fn bind(port: u16) -> Result<(TcpListener, u16), DemoError> {
    let listener = TcpListener::bind(("127.0.0.1", port))?;
    let port = listener.local_addr()?.port();
    Ok((listener, port))
}

impl Demo {
    /// Starts the provider, the API and the web app (see the [module documentation](self)).
    ///
    /// # Errors
    /// [`DemoError`] naming the part that failed.
    pub async fn start(options: DemoOptions) -> Result<Self, DemoError> {
        let ca = DevCa::load_or_create(&options.dir)?;
        let server_cert = ca.server_cert()?;
        let tls = server_cert.rustls_config()?;
        // Bound first: the origins go into the provider's client registration.
        let (webapp_listener, webapp_port) = bind(options.webapp_port)?;
        let (api_listener, api_port) = bind(options.api_port)?;
        let webapp_origin = format!("https://{}:{webapp_port}", options.webapp_host);
        let api_origin = format!("https://localhost:{api_port}");

        let (cert_file, key_file) = server_cert.write_pem(&options.dir)?;
        let secret = random_secret().map_err(DemoError::Idp)?;
        let idp = Idp::start(
            IdpOptions::new()
                .port(options.idp_port)
                .tls(IdpTls {
                    cert_file,
                    key_file,
                    ca_pem: ca.cert_pem().to_owned(),
                })
                .resource_server(&api_origin, API_SCOPES)
                // The API's access token cannot be used at UserInfo (its audience is the API),
                // so the web app reads the user's name from the ID token.
                .conform_id_token_claims(false)
                .client(json!({
                    "client_id": WEBAPP_CLIENT,
                    "client_secret": secret,
                    "token_endpoint_auth_method": "client_secret_basic",
                    "id_token_signed_response_alg": "ES256",
                    "redirect_uris": [format!("{webapp_origin}/callback")],
                    "post_logout_redirect_uris": [format!("{webapp_origin}/")],
                    "grant_types": ["authorization_code", "refresh_token"],
                    "response_types": ["code"],
                })),
        )
        .await
        .map_err(DemoError::Idp)?;

        let api_config = example_api::ApiConfig::from_lookup(|name| match name {
            "PAVED_API_ISSUER" => Some(idp.issuer().to_owned()),
            "PAVED_API_AUDIENCE" => Some(api_origin.clone()),
            "PAVED_API_JWKS_URL" => Some(idp.jwks_url().to_owned()),
            "PAVED_API_CA_FILE" => Some(ca.cert_path().display().to_string()),
            _ => None,
        })
        .map_err(|e| DemoError::Example(format!("example-api: {e}")))?;
        let api = example_api::app(&api_config)
            .await
            .map_err(|e| DemoError::Example(format!("example-api: {e}")))?;

        let webapp_config = example_webapp::WebappConfig::new(
            idp.issuer(),
            WEBAPP_CLIENT,
            webapp_origin.clone(),
            api_origin.clone(),
        )
        .client_secret(SecretString::from(secret))
        .root_certificates_pem(ca.cert_pem().as_bytes().to_vec());
        let webapp = example_webapp::app(&webapp_config)
            .await
            .map_err(|e| DemoError::Example(format!("example-webapp: {e}")))?;

        let mut demo = Self {
            idp,
            ca,
            spki_sha256: server_cert.spki_sha256,
            webapp_origin,
            webapp_addr: SocketAddr::from(([127, 0, 0, 1], webapp_port)),
            api_origin,
            handles: Vec::new(),
            tasks: Vec::new(),
        };
        demo.serve(api_listener, tls.clone(), api)?;
        demo.serve(webapp_listener, tls, webapp)?;
        Ok(demo)
    }

    fn serve(
        &mut self,
        listener: TcpListener,
        tls: RustlsConfig,
        router: axum::Router,
    ) -> Result<(), DemoError> {
        let handle = Handle::new();
        let server = axum_server::from_tcp_rustls(listener, tls)?.handle(handle.clone());
        self.tasks.push(tokio::spawn(async move {
            if let Err(e) = server.serve(router.into_make_service()).await {
                tracing::error!(error = %e, "demo: a server stopped");
            }
        }));
        self.handles.push(handle);
        Ok(())
    }

    /// The web app's origin, `https://HOST:PORT`.
    #[must_use]
    pub fn webapp_origin(&self) -> &str {
        &self.webapp_origin
    }

    /// Where the web app listens (for a client that does not resolve [`WEBAPP_HOST`]).
    #[must_use]
    pub fn webapp_addr(&self) -> SocketAddr {
        self.webapp_addr
    }

    /// The API's origin, `https://localhost:PORT`.
    #[must_use]
    pub fn api_origin(&self) -> &str {
        &self.api_origin
    }

    /// The provider.
    #[must_use]
    pub fn idp(&self) -> &Idp {
        &self.idp
    }

    /// The SHA-256 of the server certificate's public key, base64 (see
    /// [`ServerCert::spki_sha256_base64`]).
    #[must_use]
    pub fn server_spki_sha256_base64(&self) -> &str {
        &self.spki_sha256
    }

    /// The development CA.
    #[must_use]
    pub fn ca(&self) -> &DevCa {
        &self.ca
    }

    /// Stops both servers (requests in flight get two seconds) and then the provider.
    pub async fn shutdown(mut self) {
        for handle in &self.handles {
            handle.graceful_shutdown(Some(SHUTDOWN_GRACE));
        }
        for task in self.tasks.drain(..) {
            let _ = tokio::time::timeout(SHUTDOWN_GRACE * 2, task).await;
        }
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        for handle in &self.handles {
            handle.shutdown();
        }
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A fresh private folder (mode 0700, random name under the temporary directory) for a test's
/// development CA, removed on drop: never a predictable path another user could prepare.
pub struct ScratchDir(PathBuf);

impl fmt::Debug for ScratchDir {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ScratchDir").field(&self.0).finish()
    }
}

impl ScratchDir {
    /// Creates it; fails rather than reuse a folder that exists.
    ///
    /// # Errors
    /// When the random generator or the file system fails.
    pub fn new(name: &str) -> io::Result<Self> {
        use std::os::unix::fs::DirBuilderExt as _;
        let mut suffix = [0u8; 8];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut suffix)
            .map_err(|_| io::Error::other("the system random generator failed"))?;
        let path = std::env::temp_dir().join(format!(
            "paved-{name}-{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(suffix)
        ));
        fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(Self(path))
    }

    /// Its path.
    #[must_use]
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
