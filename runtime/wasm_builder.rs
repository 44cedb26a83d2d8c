//! Builds a workspace crate for `wasm32-unknown-unknown` with a nested
//! cargo, in a target directory of its own: shared by the runtime's
//! `build.rs` (the runtime itself), `runtime/next`'s (the upgrade tests'
//! second runtime, with other features and a higher `spec_version`) and
//! `clients/js/keys`' (the JavaScript client's key code).

use std::path::{Path, PathBuf};
use std::process::Command;

/// What to build.
pub struct WasmBuild<'a> {
    /// The package (`qstack-runtime`); its lib is built as a `cdylib`.
    pub package: &'a str,
    /// The workspace root.
    pub root: PathBuf,
    /// The calling build script's `OUT_DIR`.
    pub out_dir: PathBuf,
    /// Where to copy the blob.
    pub out_file: PathBuf,
    /// Features of the package (beyond none of its defaults).
    pub features: &'a [&'a str],
    /// Extra environment for the nested build (`QSTACK_SPEC_VERSION`).
    pub env: &'a [(&'a str, &'a str)],
    /// Appended to the nested target directory's name.
    pub suffix: &'a str,
}

/// Tells cargo what the blob depends on.
pub fn rerun_if_changed(root: &Path) {
    for dir in [
        "primitives",
        "pallets",
        "runtime/src",
        "runtime/wasm_builder.rs",
        "Cargo.lock",
        "Cargo.toml",
        "runtime/Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    println!("cargo:rerun-if-env-changed=QSTACK_SKIP_WASM_BUILD");
}

/// Builds the blob and copies it to `out_file`.
pub fn build(b: &WasmBuild<'_>) {
    let root = &b.root;
    // <target-dir>/<profile>/build/<pkg>/out → <target-dir>
    let target_dir = b
        .out_dir
        .ancestors()
        .nth(4)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| root.join("target"));
    // Several checkouts (git worktrees) may share this target directory. Cargo
    // hashes workspace crates by their path relative to the workspace root and
    // judges freshness by mtime, so two checkouts would reuse each other's
    // artefacts (a checkout whose sources are older than the other's last
    // build gets the other's blob, or compile errors): each checkout gets its
    // own nested target directory, named after its path. The lock still
    // serialises concurrent builds of one checkout.
    let checkout = {
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        root.hash(&mut h);
        let name: String = root
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        format!("{name}-{:016x}{}", h.finish(), b.suffix)
    };
    let wasm_target_dir = target_dir.join("wasm-runtime").join(checkout);
    std::fs::create_dir_all(&wasm_target_dir).expect("create the Wasm target directory");
    let lock = std::fs::File::create(wasm_target_dir.join(".qstack-runtime-build.lock"))
        .expect("create the Wasm build lock file");
    lock.lock().expect("lock the Wasm build");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(root).args([
        "rustc",
        "-p",
        b.package,
        "--lib",
        "--target",
        "wasm32-unknown-unknown",
        "--release",
        "--no-default-features",
    ]);
    if !b.features.is_empty() {
        cmd.args(["--features", &b.features.join(",")]);
    }
    cmd.args(["--crate-type", "cdylib", "--quiet"])
        .env("CARGO_TARGET_DIR", &wasm_target_dir)
        // Host-specific flags must not leak into the Wasm build.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        // Under `cargo clippy` the outer build sets a rustc wrapper; the blob
        // must come from plain rustc (lints run on the native build).
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTC_WRAPPER")
        .env_remove("QSTACK_SPEC_VERSION");
    for (k, v) in b.env {
        cmd.env(k, v);
    }
    let status = cmd
        .status()
        .expect("failed to run cargo for the Wasm build");
    if !status.success() {
        panic!(
            "building {} for Wasm failed (compiler errors above). If the wasm32 target is \
             missing, run scripts/setup.sh (it runs `rustup target add wasm32-unknown-unknown`).",
            b.package
        );
    }
    let built = wasm_target_dir.join(format!(
        "wasm32-unknown-unknown/release/{}.wasm",
        b.package.replace('-', "_")
    ));
    std::fs::copy(&built, &b.out_file).unwrap_or_else(|e| panic!("copy {}: {e}", built.display()));
    drop(lock);
}

/// The `spec_version` in a blob's version section (the last one), if any:
/// the section's payload starts with SCALE `spec_name` and `impl_name`,
/// then `authoring_version` and `spec_version` as little-endian u32.
#[allow(dead_code)] // Used by runtime/next only.
pub fn spec_version_of(code: &[u8]) -> Option<u32> {
    fn leb(b: &[u8], at: &mut usize) -> Option<usize> {
        let mut v = 0usize;
        let mut shift = 0;
        loop {
            let byte = *b.get(*at)?;
            *at += 1;
            v |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(v);
            }
            shift += 7;
        }
    }
    fn compact_str(b: &[u8], at: &mut usize) -> Option<()> {
        let first = *b.get(*at)?;
        // Single-byte compact lengths only (names below 64 bytes).
        if first & 3 != 0 {
            return None;
        }
        *at += 1 + usize::from(first >> 2);
        Some(())
    }
    let mut at = 8;
    let mut found = None;
    while at < code.len() {
        let id = *code.get(at)?;
        at += 1;
        let size = leb(code, &mut at)?;
        let end = at.checked_add(size)?;
        if id == 0 {
            let mut p = at;
            let name_len = leb(code, &mut p)?;
            if code.get(p..p + name_len) == Some(b"runtime_version") {
                p += name_len;
                compact_str(code, &mut p)?;
                compact_str(code, &mut p)?;
                p += 4;
                let v = code.get(p..p + 4)?;
                found = Some(u32::from_le_bytes([v[0], v[1], v[2], v[3]]));
            }
        }
        at = end;
    }
    found
}
