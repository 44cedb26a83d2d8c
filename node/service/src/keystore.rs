//! The node's keystore: the validator's consensus key, stored as its secret
//! URI and scheme in `<base>/chains/<id>/keystore/validator.json`, readable
//! by the owner only (as Substrate's keystore stores SURIs). `qstack key
//! insert` writes it; `qstack --validator` on a BFT chain reads it.

use anyhow::{bail, Context, Result};
use qstack_core::{KeyScheme, Pair};
use std::path::{Path, PathBuf};

/// Where a chain's validator key lives under `base`.
pub fn validator_key_path(base: &Path, chain_id: &str) -> PathBuf {
    base.join("chains")
        .join(chain_id)
        .join("keystore")
        .join("validator.json")
}

/// Stores the key of `suri` in `scheme` at `path` (never overwriting one).
pub fn insert(path: &Path, scheme: KeyScheme, suri: &str) -> Result<Pair> {
    let pair = Pair::from_suri(scheme, suri).map_err(|e| anyhow::anyhow!("--suri: {e}"))?;
    if path.exists() {
        bail!(
            "{} already holds a validator key; delete it first to replace it",
            path.display()
        );
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let json = serde_json::json!({ "scheme": scheme.name(), "suri": suri }).to_string();
    qstack_network::node_key::write_private(path, json.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(pair)
}

/// Loads the key stored at `path`.
pub fn load(path: &Path) -> Result<Pair> {
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "reading the validator key {} (store one with `qstack key insert`)",
            path.display()
        )
    })?;
    let v: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let scheme = v["scheme"]
        .as_str()
        .and_then(KeyScheme::from_name)
        .with_context(|| format!("{}: no valid \"scheme\"", path.display()))?;
    let suri = v["suri"]
        .as_str()
        .with_context(|| format!("{}: no \"suri\"", path.display()))?;
    Pair::from_suri(scheme, suri).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_then_load_gives_the_same_key_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let path = validator_key_path(dir.path(), "local_bft");
        let stored = insert(&path, KeyScheme::Hybrid, "//Alice").unwrap();
        assert_eq!(load(&path).unwrap().public(), stored.public());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "only the owner may read the key");
        }
        let e = insert(&path, KeyScheme::Sr25519, "//Bob").unwrap_err();
        assert!(
            e.to_string().contains("already holds a validator key"),
            "{e}"
        );
        assert_eq!(load(&path).unwrap().public(), stored.public());
    }

    #[test]
    fn bad_keystore_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("validator.json");
        let e = format!("{:#}", load(&path).unwrap_err());
        assert!(e.contains("qstack key insert"), "{e}");
        std::fs::write(&path, "not json").unwrap();
        assert!(format!("{:#}", load(&path).unwrap_err()).contains("is not JSON"));
        std::fs::write(&path, r#"{"scheme":"rsa","suri":"//A"}"#).unwrap();
        assert!(format!("{:#}", load(&path).unwrap_err()).contains("scheme"));
        std::fs::write(&path, r#"{"scheme":"sr25519"}"#).unwrap();
        assert!(format!("{:#}", load(&path).unwrap_err()).contains("suri"));
    }
}
