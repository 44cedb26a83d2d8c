//! Builds this crate for `wasm32-unknown-unknown` with a nested cargo, in its
//! own target directory, so a plain `cargo build` yields both the native crate
//! and the Wasm blob (`WASM_BINARY`). Set `QSTACK_SKIP_WASM_BUILD=1` to skip
//! (the blob is then empty and executor tests that need it fail loudly).

#[path = "wasm_builder.rs"]
mod wasm_builder;

use std::path::PathBuf;

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
    wasm_builder::rerun_if_changed(&root);
    println!("cargo:rerun-if-env-changed=QSTACK_SPEC_VERSION");
    if std::env::var_os("QSTACK_SKIP_WASM_BUILD").is_some() {
        std::fs::write(&out_file, []).expect("write empty wasm");
        return;
    }
    let spec_version = std::env::var("QSTACK_SPEC_VERSION").ok();
    let env: Vec<(&str, &str)> = spec_version
        .as_deref()
        .map(|v| ("QSTACK_SPEC_VERSION", v))
        .into_iter()
        .collect();
    wasm_builder::build(&wasm_builder::WasmBuild {
        package: "qstack-runtime",
        root,
        out_dir,
        out_file,
        features: &[],
        env: &env,
        suffix: "",
    });
}
