//! The node's network identity: an ed25519 key whose public half is the
//! libp2p peer id. Stored as 64 hex characters (raw 32 bytes are read too,
//! as Substrate writes them), generated on first start, readable by the
//! owner only.

use libp2p::identity::{self, Keypair};
use std::path::Path;

/// Why a node key could not be loaded or stored.
#[derive(Debug, thiserror::Error)]
pub enum NodeKeyError {
    /// The file could not be read or written.
    #[error("node key file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file holds something else than a key.
    #[error("node key file {path}: {why}")]
    Invalid {
        /// The file.
        path: String,
        /// What is wrong.
        why: String,
    },
}

/// A new random node key.
pub fn generate() -> Keypair {
    Keypair::generate_ed25519()
}

/// The secret as 64 hex characters.
pub fn secret_hex(key: &Keypair) -> Option<String> {
    let ed = key.clone().try_into_ed25519().ok()?;
    Some(
        ed.secret()
            .as_ref()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
    )
}

/// Parses a secret: 64 hex characters (surrounding whitespace allowed) or 32 raw bytes.
pub fn parse(bytes: &[u8]) -> Result<Keypair, String> {
    let text = std::str::from_utf8(bytes).map(str::trim).ok();
    let mut secret = match text {
        Some(t) if t.len() == 64 => {
            let mut out = [0u8; 32];
            for (i, o) in out.iter_mut().enumerate() {
                let pair = t.get(2 * i..2 * i + 2).ok_or("not hex")?;
                *o = u8::from_str_radix(pair, 16).map_err(|_| "not 64 hex characters")?;
            }
            out
        }
        _ if bytes.len() == 32 => {
            let mut out = [0u8; 32];
            out.copy_from_slice(bytes);
            out
        }
        _ => {
            return Err(format!(
                "expected 64 hex characters or 32 bytes, found {} bytes",
                bytes.len()
            ))
        }
    };
    let key = identity::ed25519::SecretKey::try_from_bytes(&mut secret)
        .map_err(|e| format!("not an ed25519 secret: {e}"))?;
    Ok(identity::ed25519::Keypair::from(key).into())
}

/// Loads the key at `path`, or creates one there (with its folder) if there is none.
pub fn load_or_generate(path: &Path) -> Result<Keypair, NodeKeyError> {
    let shown = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => parse(&bytes).map_err(|why| NodeKeyError::Invalid { path: shown, why }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = generate();
            let hex = secret_hex(&key).unwrap_or_default();
            let io = |source| NodeKeyError::Io {
                path: shown.clone(),
                source,
            };
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            write_private(path, hex.as_bytes()).map_err(io)?;
            Ok(key)
        }
        Err(source) => Err(NodeKeyError::Io {
            path: shown,
            source,
        }),
    }
}

/// Writes `bytes` to a new file at `path`, readable by its owner only (mode
/// 0600 on Unix), synced to disk; fails if the file exists.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reloaded_with_the_same_peer_id() {
        let dir = std::env::temp_dir().join(format!("qstack-nodekey-{}", std::process::id()));
        let path = dir.join("network").join("secret_ed25519");
        let _ = std::fs::remove_dir_all(&dir);
        let a = load_or_generate(&path).unwrap();
        let b = load_or_generate(&path).unwrap();
        assert_eq!(a.public().to_peer_id(), b.public().to_peer_id());
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.len(), 64);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "only the owner may read the key");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_files_are_named() {
        assert!(parse(b"zz").unwrap_err().contains("found 2 bytes"));
        assert!(parse(&[b'g'; 64]).unwrap_err().contains("hex"));
        let raw = [7u8; 32];
        let k = parse(&raw).unwrap();
        assert_eq!(
            parse(secret_hex(&k).unwrap().as_bytes()).unwrap().public(),
            k.public()
        );
    }
}
