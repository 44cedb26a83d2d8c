//! Builds qstack-runtime for Wasm a second time, as the next version the
//! upgrade tests install: `--features upgrade-demo` with `spec_version` 2,
//! in a nested target directory of its own (`…-next`); and its broken twin
//! (`upgrade-demo-broken`, `spec_version` 3) for `qstack try-upgrade`.

#[path = "../wasm_builder.rs"]
mod wasm_builder;

use std::path::PathBuf;

fn main() {
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let root = manifest_dir
        .ancestors()
        .nth(2)
        .expect("runtime/next sits two levels below the workspace root")
        .to_path_buf();
    wasm_builder::rerun_if_changed(&root);
    if std::env::var_os("QSTACK_SKIP_WASM_BUILD").is_some() {
        for file in ["qstack_runtime_next.wasm", "qstack_runtime_broken.wasm"] {
            std::fs::write(out_dir.join(file), []).expect("write empty wasm");
        }
        return;
    }
    // Two builds in one nested target directory (they share every
    // dependency), one after the other under its lock; each blob is copied
    // out and checked to be the version it should be.
    for (features, version, file) in [
        (
            &["upgrade-demo"][..],
            NEXT_SPEC_VERSION,
            "qstack_runtime_next.wasm",
        ),
        (
            &["upgrade-demo-broken"][..],
            BROKEN_SPEC_VERSION,
            "qstack_runtime_broken.wasm",
        ),
    ] {
        let out_file = out_dir.join(file);
        wasm_builder::build(&wasm_builder::WasmBuild {
            package: "qstack-runtime",
            root: root.clone(),
            out_dir: out_dir.clone(),
            out_file: out_file.clone(),
            features,
            env: &[("QSTACK_SPEC_VERSION", version)],
            suffix: "-next",
        });
        let code = std::fs::read(&out_file).expect("read the blob");
        let want: u32 = version.parse().expect("a number");
        assert!(
            wasm_builder::spec_version_of(&code) == Some(want),
            "{file}: the blob is not spec_version {version}"
        );
    }
}

/// The next runtime's spec_version (the shipped one's is 1).
const NEXT_SPEC_VERSION: &str = "2";

/// The broken twin's spec_version.
const BROKEN_SPEC_VERSION: &str = "3";
