//! How a process proves who it is to NATS, and whether it checks the
//! server's certificate: a credentials file (JWT + seed, decentralised
//! auth), an nkey seed file (the per-role users of [`crate::broker`]), and
//! TLS verified against a CA file.
//!
//! TLS needs a process-wide rustls crypto provider: the `switchboard`
//! binary installs ring's at start (with two back-ends linked, rustls picks
//! none by itself and the connection would panic).
//!
//! Files are read when connecting, so a missing or unreadable file fails
//! with its path and the reason, before any connection is attempted.

use std::path::{Path, PathBuf};

/// Broker credentials and TLS settings; the default is none (an open
/// loopback server, as `switchboard up` runs by default).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConnectAuth {
    /// A `.creds` file (user JWT and nkey seed).
    pub creds: Option<PathBuf>,
    /// A file holding an nkey user seed (`SU...`), as `streams broker-config` writes.
    pub nkey: Option<PathBuf>,
    /// A PEM file of the CA that signed the server's certificate; setting
    /// it requires TLS.
    pub ca: Option<PathBuf>,
}

/// Why the settings could not be applied (always names the file).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// A file is missing or unreadable.
    #[error("{what} {path}: {source}")]
    Unreadable {
        /// Which setting.
        what: &'static str,
        /// The file.
        path: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// The nkey file does not hold a user seed.
    #[error("nkey seed file {path}: not an nkey user seed (expected one line starting with SU)")]
    BadSeed {
        /// The file.
        path: String,
    },
    /// Both a credentials file and an nkey were given.
    #[error("give a credentials file or an nkey seed file, not both")]
    Both,
}

fn unreadable(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> AuthError {
    let path = path.display().to_string();
    move |source| AuthError::Unreadable { what, path, source }
}

impl ConnectAuth {
    /// Whether anything is set.
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }

    /// `options` with these credentials and TLS settings applied.
    pub async fn apply(
        &self,
        mut options: async_nats::ConnectOptions,
    ) -> Result<async_nats::ConnectOptions, AuthError> {
        if self.creds.is_some() && self.nkey.is_some() {
            return Err(AuthError::Both);
        }
        if let Some(path) = &self.creds {
            // Read first: the client's own error does not name the file.
            tokio::fs::metadata(path)
                .await
                .map_err(unreadable("credentials file", path))?;
            options = options
                .credentials_file(path)
                .await
                .map_err(unreadable("credentials file", path))?;
        }
        if let Some(path) = &self.nkey {
            options = options.nkey(read_seed(path).await?);
        }
        if let Some(path) = &self.ca {
            tokio::fs::metadata(path)
                .await
                .map_err(unreadable("CA file", path))?;
            options = options
                .add_root_certificates(path.clone())
                .require_tls(true);
        }
        Ok(options)
    }
}

/// The user seed in `path` (the first non-empty line, trimmed).
pub async fn read_seed(path: &Path) -> Result<String, AuthError> {
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(unreadable("nkey seed file", path))?;
    let seed = text.lines().map(str::trim).find(|l| !l.is_empty());
    match seed {
        Some(seed) if seed.starts_with("SU") => Ok(seed.to_owned()),
        _ => Err(AuthError::BadSeed {
            path: path.display().to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_file_is_named_in_the_error() {
        let auth = ConnectAuth {
            nkey: Some("/nonexistent/critic.nk".into()),
            ..ConnectAuth::default()
        };
        let err = auth
            .apply(async_nats::ConnectOptions::new())
            .await
            .err()
            .map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(
            err.starts_with("nkey seed file /nonexistent/critic.nk:"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_file_that_is_not_a_seed_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.nk");
        std::fs::write(&path, "hello\n").expect("write");
        let err = read_seed(&path).await.err().map(|e| e.to_string());
        assert!(
            err.is_some_and(|e| e.contains("not an nkey user seed")),
            "a non-seed was accepted"
        );
    }
}
