//! Writes the key module to the path given (for `npm run build` in
//! `clients/js`): `cargo run -p qstack-keys-wasm --example write-wasm -- <path>`.

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: write-wasm <path>");
        std::process::exit(2);
    };
    if qstack_keys_wasm::WASM.is_empty() {
        eprintln!("the module was not built (QSTACK_SKIP_WASM_BUILD is set)");
        std::process::exit(1);
    }
    let path = std::path::Path::new(&path);
    if let Some(dir) = path.parent() {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("{}: {e}", dir.display());
            std::process::exit(1);
        }
    }
    if let Err(e) = std::fs::write(path, qstack_keys_wasm::WASM) {
        eprintln!("{}: {e}", path.display());
        std::process::exit(1);
    }
    println!(
        "wrote {} ({} bytes)",
        path.display(),
        qstack_keys_wasm::WASM.len()
    );
}
