//! Builds this crate for `wasm32-unknown-unknown` with a nested cargo, in its
//! own target directory, so a plain `cargo build` yields both the native crate
//! and the Wasm blob (`WASM_BINARY`). Set `QSTACK_SKIP_WASM_BUILD=1` to skip
//! (the blob is then empty and executor tests that need it fail loudly).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let target = std::env::var("TARGET").unwrap_or_default();
    let out_file = out_dir.join("qstack_runtime.wasm");
    if target.starts_with("wasm32") {
        // We are the nested build.
        return;
    }
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest_dir
        .parent()
        .expect("runtime/ sits in the workspace root")
        .to_path_buf();
    for dir in [
        "primitives",
        "pallets",
        "runtime/src",
        "Cargo.lock",
        "Cargo.toml",
        "runtime/Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    println!("cargo:rerun-if-env-changed=QSTACK_SKIP_WASM_BUILD");
    println!("cargo:rerun-if-env-changed=QSTACK_SPEC_VERSION");
    if std::env::var_os("QSTACK_SKIP_WASM_BUILD").is_some() {
        std::fs::write(&out_file, []).expect("write empty wasm");
        return;
    }
    // <target-dir>/<profile>/build/<pkg>/out → <target-dir>
    let target_dir = out_dir
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
        format!("{name}-{:016x}", h.finish())
    };
    let wasm_target_dir = target_dir.join("wasm-runtime").join(checkout);
    std::fs::create_dir_all(&wasm_target_dir).expect("create the Wasm target directory");
    let lock = std::fs::File::create(wasm_target_dir.join(".qstack-runtime-build.lock"))
        .expect("create the Wasm build lock file");
    lock.lock().expect("lock the Wasm build");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args([
            "rustc",
            "-p",
            "qstack-runtime",
            "--lib",
            "--target",
            "wasm32-unknown-unknown",
            "--release",
            "--no-default-features",
            "--crate-type",
            "cdylib",
            "--quiet",
        ])
        .env("CARGO_TARGET_DIR", &wasm_target_dir)
        // Host-specific flags must not leak into the Wasm build.
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        // Under `cargo clippy` the outer build sets a rustc wrapper; the blob
        // must come from plain rustc (lints run on the native build).
        .env_remove("RUSTC_WORKSPACE_WRAPPER")
        .env_remove("RUSTC_WRAPPER");
    let status = cmd
        .status()
        .expect("failed to run cargo for the Wasm runtime");
    if !status.success() {
        panic!(
            "building the Wasm runtime failed (compiler errors above). If the wasm32 target is \
             missing, run scripts/setup.sh (it runs `rustup target add wasm32-unknown-unknown`)."
        );
    }
    let built = wasm_target_dir.join("wasm32-unknown-unknown/release/qstack_runtime.wasm");
    std::fs::copy(&built, &out_file).unwrap_or_else(|e| panic!("copy {}: {e}", built.display()));
    drop(lock);
}
