//! Key material: the master key, the tenant keys derived from it, and the
//! AEAD (XChaCha20-Poly1305) that seals texts and wraps data keys.
//!
//! The master key comes from outside the log and outside NATS: a file, or
//! an environment variable (which is how an Azure Key Vault reference
//! reaches a container app). Each tenant's key is derived from it, so a
//! deployment holds one secret; each customer's key is wrapped by the
//! tenant key and each conversation's key by the customer's, in the
//! `SWITCHBOARD_KEYS` bucket.

use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

/// Why a key could not be had or used.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// The master key file or variable is not 64 hex digits.
    #[error("the personal-data master key {source_name} is not 64 hex digits")]
    Malformed {
        /// Where it came from (a path or a variable name).
        source_name: String,
    },
    /// The key file could not be read or written.
    #[error("the personal-data master key file {path}: {message}")]
    File {
        /// The file.
        path: String,
        /// What the system said.
        message: String,
    },
    /// No randomness was available.
    #[error("no randomness for a new key: {0}")]
    Random(String),
}

/// 32 bytes of key.
#[derive(Clone)]
pub struct Key([u8; 32]);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(***)")
    }
}

impl Key {
    /// A fresh random key.
    pub fn generate() -> Result<Self, KeyError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| KeyError::Random(e.to_string()))?;
        Ok(Self(bytes))
    }

    /// A key from 64 hex digits; `source_name` names where they came from.
    pub fn from_hex(text: &str, source_name: &str) -> Result<Self, KeyError> {
        hex::decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .map(Self)
            .ok_or_else(|| KeyError::Malformed {
                source_name: source_name.to_owned(),
            })
    }

    /// The key in a file, made (mode 0600) if the file does not exist: the
    /// embedded default, `./data/privacy.key`.
    pub fn load_or_create_file(path: &Path) -> Result<Self, KeyError> {
        let file_error = |e: std::io::Error| KeyError::File {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        match std::fs::read_to_string(path) {
            Ok(text) => Self::from_hex(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let key = Self::generate()?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(file_error)?;
                }
                write_private(path, &hex::encode(key.0)).map_err(file_error)?;
                Ok(key)
            }
            Err(e) => Err(file_error(e)),
        }
    }

    /// The key of `tenant`, derived from this master key.
    pub fn tenant_key(&self, tenant: &str) -> Key {
        Key(digest(&[
            b"switchboard-tenant-key-v1",
            &self.0,
            tenant.as_bytes(),
        ]))
    }

    /// A keyed, stable pseudonym of `customer_id` under this (tenant) key:
    /// the customer's name in the key bucket, which says nothing about who
    /// they are to someone without the key.
    pub fn pseudonym(&self, customer_id: &str) -> String {
        let d = digest(&[
            b"switchboard-customer-ref-v1",
            &self.0,
            customer_id.as_bytes(),
        ]);
        hex::encode(&d[..16])
    }

    fn aead(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.0).into())
    }

    /// Seals `plain` bound to `aad`: base64url of nonce and ciphertext.
    pub fn seal(&self, plain: &[u8], aad: &[u8]) -> Result<String, KeyError> {
        let mut nonce = [0u8; 24];
        getrandom::fill(&mut nonce).map_err(|e| KeyError::Random(e.to_string()))?;
        // Encryption with a valid key and nonce cannot fail.
        let sealed = self
            .aead()
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
            .expect("XChaCha20-Poly1305 encryption does not fail");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(URL_SAFE_NO_PAD.encode(out))
    }

    /// Opens what [`seal`](Self::seal) made with the same `aad`; `None`
    /// when it is malformed or does not authenticate.
    pub fn open(&self, sealed: &str, aad: &[u8]) -> Option<Vec<u8>> {
        let bytes = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if bytes.len() < 24 {
            return None;
        }
        let (nonce, body) = bytes.split_at(24);
        self.aead()
            .decrypt(XNonce::from_slice(nonce), Payload { msg: body, aad })
            .ok()
    }

    /// This key wrapped (sealed) by `wrapping`, bound to `aad`.
    pub fn wrap(&self, wrapping: &Key, aad: &[u8]) -> Result<String, KeyError> {
        wrapping.seal(&self.0, aad)
    }

    /// A key unwrapped by `wrapping`; `None` if it does not authenticate.
    pub fn unwrap_with(wrapped: &str, wrapping: &Key, aad: &[u8]) -> Option<Key> {
        let bytes = wrapping.open(wrapped, aad)?;
        <[u8; 32]>::try_from(bytes).ok().map(Key)
    }
}

fn digest(parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    for part in parts {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    h.finalize().into()
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn given_a_sealed_text_when_opened_with_another_aad_or_key_then_nothing() {
        let key = Key::generate().expect("randomness");
        let sealed = key.seal(b"ana@example.com", b"acme/c1/0").expect("seals");
        assert!(!sealed.contains("ana"));
        assert_eq!(
            key.open(&sealed, b"acme/c1/0").as_deref(),
            Some(&b"ana@example.com"[..])
        );
        assert_eq!(key.open(&sealed, b"acme/c1/1"), None);
        let other = Key::generate().expect("randomness");
        assert_eq!(other.open(&sealed, b"acme/c1/0"), None);
        assert_eq!(key.open("not base64!", b""), None);
    }

    #[test]
    fn given_a_master_key_then_tenant_keys_and_pseudonyms_are_stable_and_distinct() {
        let master = Key::from_hex(&"ab".repeat(32), "test").expect("hex");
        let acme = master.tenant_key("acme");
        assert_eq!(acme.0, master.tenant_key("acme").0);
        assert_ne!(acme.0, master.tenant_key("other").0);
        assert_eq!(acme.pseudonym("cust-1"), acme.pseudonym("cust-1"));
        assert_ne!(acme.pseudonym("cust-1"), acme.pseudonym("cust-2"));
        assert_ne!(
            acme.pseudonym("cust-1"),
            master.tenant_key("other").pseudonym("cust-1")
        );
        assert!(matches!(
            Key::from_hex("abc", "SWITCHBOARD_PRIVACY_KEY"),
            Err(KeyError::Malformed { source_name }) if source_name == "SWITCHBOARD_PRIVACY_KEY"
        ));
    }

    #[test]
    fn given_no_key_file_when_loaded_then_made_once_and_read_back() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("sub/privacy.key");
        let first = Key::load_or_create_file(&path).expect("made");
        let again = Key::load_or_create_file(&path).expect("read");
        assert_eq!(first.0, again.0);
        let wrapped = first.wrap(&again, b"x").expect("wraps");
        assert_eq!(
            Key::unwrap_with(&wrapped, &again, b"x").map(|k| k.0),
            Some(first.0)
        );
    }
}
