//! Builds this crate for `wasm32-unknown-unknown` with a nested cargo (the
//! runtime's builder), so the native crate carries the module the
//! JavaScript client loads ([`WASM`](../src/lib.rs)). With
//! `QSTACK_SKIP_WASM_BUILD=1` the module is empty.

#[path = "../../../runtime/wasm_builder.rs"]
#[allow(dead_code)] // The runtime's rerun list is not ours.
mod wasm_builder;

use std::path::PathBuf;

fn main() {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let out_file = out_dir.join("qstack_keys_wasm.wasm");
    if std::env::var("TARGET")
        .unwrap_or_default()
        .starts_with("wasm32")
    {
        // We are the nested build.
        return;
    }
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest_dir
        .ancestors()
        .nth(3)
        .expect("clients/js/keys sits three levels below the workspace root")
        .to_path_buf();
    for dir in [
        "primitives/core",
        "clients/js/keys/src",
        "clients/js/keys/Cargo.toml",
        "runtime/wasm_builder.rs",
        "Cargo.lock",
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(dir).display());
    }
    println!("cargo:rerun-if-env-changed=QSTACK_SKIP_WASM_BUILD");
    if std::env::var_os("QSTACK_SKIP_WASM_BUILD").is_some() {
        std::fs::write(&out_file, []).expect("write empty wasm");
        return;
    }
    wasm_builder::build(&wasm_builder::WasmBuild {
        package: "qstack-keys-wasm",
        root,
        out_dir,
        out_file,
        features: &[],
        env: &[],
        suffix: "-keys",
    });
}
