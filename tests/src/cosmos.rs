//! A Cosmos DB SQL-API server on loopback for the Cosmos suites: npm
//! `@vercel/cosmosdb-server` behind the test-only bridge of
//! `tests/cosmos/server.mjs` (its divergences from the real service, one by
//! one), over HTTPS with a certificate made here for 127.0.0.1 and signed by
//! a CA of its own.
//!
//! The Cosmos SDK is pointed at it by the environment only
//! ([`CosmosServer::client_env`]): HTTP/1.1 (the server has no HTTP/2), JSON
//! bodies (it cannot parse the binary encoding) and the CA as the trusted
//! roots. The product has no knowledge of it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The Cosmos DB emulator's published account key (the server checks none).
pub const KEY: &str =
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";

/// How long the server may take to listen (it is ready in ~0.5 s).
const READY: Duration = Duration::from_secs(20);

/// The directory of the bridge and its npm package.
pub fn package_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("cosmos")
}

/// Why the server cannot start here, if it cannot: no `node`, or the npm
/// package not installed (`./dev test` installs it).
pub fn unavailable() -> Option<String> {
    let node = Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if !node.is_ok_and(|s| s.success()) {
        return Some("needs node on PATH".into());
    }
    let package = package_dir().join("node_modules/@vercel/cosmosdb-server");
    if !package.is_dir() {
        return Some(format!(
            "needs {} (`./dev test` runs npm ci there)",
            package.display()
        ));
    }
    None
}

/// Whether this run requires the server (`SWITCHBOARD_REQUIRE_COSMOS_EMULATOR=1`,
/// as `./dev test` sets): then a server that cannot start is a failure,
/// not a skip.
pub fn required() -> bool {
    std::env::var("SWITCHBOARD_REQUIRE_COSMOS_EMULATOR").is_ok_and(|v| v == "1")
}

/// A server for the test `test`, or `None` (with a `SKIPPED:` line) when it
/// cannot start here; a panic instead when the run [`required`] it.
pub fn start_or_skip(test: &str) -> Option<CosmosServer> {
    match CosmosServer::start() {
        Ok(server) => Some(server),
        Err(reason) if required() => {
            panic!("{test}: the Cosmos test server is required but cannot start: {reason}")
        }
        Err(reason) => {
            eprintln!("SKIPPED: {test} ({reason})");
            None
        }
    }
}

/// A running server; stopped and its files removed on drop.
pub struct CosmosServer {
    child: Child,
    endpoint: String,
    ca: PathBuf,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl CosmosServer {
    /// Makes the certificates, starts the server on a free loopback port and
    /// waits until it listens.
    pub fn start() -> Result<Self, String> {
        if let Some(reason) = unavailable() {
            return Err(reason);
        }
        let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
        let (ca, cert, key) = write_certificates(dir.path())?;
        let log = dir.path().join("server.log");
        let stderr = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
        let mut child = Command::new("node")
            .current_dir(package_dir())
            .arg("server.mjs")
            .arg("--cert")
            .arg(&cert)
            .arg("--key")
            .arg(&key)
            .args(["--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("starting node: {e}"))?;
        let Some(stdout) = child.stdout.take() else {
            return Err("node's stdout was not captured".into());
        };
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(endpoint) = line.strip_prefix("listening ") {
                    let _ = tx.send(endpoint.to_owned());
                }
            }
        });
        let endpoint = match rx.recv_timeout(READY) {
            Ok(endpoint) => endpoint,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                let stderr = std::fs::read_to_string(&log).unwrap_or_default();
                return Err(format!(
                    "the Cosmos server did not listen within {READY:?}: {stderr}"
                ));
            }
        };
        Ok(Self {
            child,
            endpoint,
            ca,
            log,
            _dir: dir,
        })
    }

    /// `https://127.0.0.1:PORT/`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The environment a process using the Cosmos SDK needs to talk to this
    /// server: HTTP/1.1, JSON bodies, and this server's CA as the roots.
    pub fn client_env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "AZURE_COSMOS_CONNECTION_POOL_IS_HTTP2_ALLOWED",
                "false".into(),
            ),
            ("AZURE_COSMOS_BINARY_ENCODING_ENABLED", "false".into()),
            ("SSL_CERT_FILE", self.ca.display().to_string()),
        ]
    }

    /// What the server wrote on stderr so far (its errors, and one line per
    /// request with `COSMOS_BRIDGE_LOG=1`).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for CosmosServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA and a server certificate for 127.0.0.1 and localhost signed by it,
/// as PEM files: (CA, certificate, key).
fn write_certificates(dir: &Path) -> Result<(PathBuf, PathBuf, PathBuf), String> {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let err = |e: rcgen::Error| format!("making the test certificates: {e}");
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name
        .push(DnType::CommonName, "switchboard test CA");
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate().map_err(err)?).map_err(err)?;
    let mut server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .map_err(err)?;
    server
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    let key = KeyPair::generate().map_err(err)?;
    let cert = server.signed_by(&key, &ca).map_err(err)?;
    let paths = (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    );
    for (path, pem) in [
        (&paths.0, ca.pem()),
        (&paths.1, cert.pem()),
        (&paths.2, key.serialize_pem()),
    ] {
        std::fs::write(path, pem).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(paths)
}
