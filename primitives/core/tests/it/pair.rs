use qstack_core::hashing::blake2_256;
use qstack_core::*;
use codec::Encode;

#[test]
fn print_golden() {
    for k in KeyScheme::ALL {
        for suri in ["//Alice", "//Alice//stash///pw"] {
            let p = Pair::from_suri(k, suri).unwrap();
            println!("{} {suri} {}", k.name(), hex::encode(p.seed()));
        }
    }
}
