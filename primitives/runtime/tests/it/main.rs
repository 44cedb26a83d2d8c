//! Wire-format golden files and encoding round trips. A failing golden test
//! means a format changed: make that a deliberate, reviewed act (and bump
//! `transaction_version` when it is the extrinsic format).

use codec::{Decode, Encode};
use proptest::prelude::*;
use qstack_core::H256;
use qstack_runtime_primitives::{Digest, DigestItem, Era, Header};

fn golden_header() -> Header {
    Header {
        parent_hash: H256([0x11; 32]),
        number: 1234,
        state_root: H256([0x22; 32]),
        extrinsics_root: H256([0x33; 32]),
        digest: Digest {
            logs: vec![
                DigestItem::PreRuntime(*b"BFT0", vec![1, 2]),
                DigestItem::Seal(*b"POW_", vec![3]),
                DigestItem::RuntimeEnvironmentUpdated,
            ],
        },
    }
}

#[test]
fn header_golden_bytes() {
    // Substrate's header layout: parent, compact number, state root,
    // extrinsics root, digest (Vec<DigestItem> with Substrate's indices).
    let expected = concat!(
        "1111111111111111111111111111111111111111111111111111111111111111",
        "4913", // compact(1234)
        "2222222222222222222222222222222222222222222222222222222222222222",
        "3333333333333333333333333333333333333333333333333333333333333333",
        "0c", // 3 items
        "06",
        "42465430",
        "080102", // PreRuntime(BFT0, [1,2])
        "05",
        "504f575f",
        "0403", // Seal(POW_, [3])
        "08"    // RuntimeEnvironmentUpdated
    );
    let h = golden_header();
    assert_eq!(hex::encode(h.encode()), expected);
    assert_eq!(Header::decode(&mut &h.encode()[..]).unwrap(), h);
}

#[test]
fn genesis_header_uses_empty_trie_root() {
    let h = Header::genesis(H256([7; 32]));
    assert_eq!(h.number, 0);
    assert_eq!(h.parent_hash, H256::zero());
    assert_eq!(h.extrinsics_root.0, qstack_trie::empty_root());
}

fn digest_item() -> impl Strategy<Value = DigestItem> {
    let id = any::<[u8; 4]>();
    let data = proptest::collection::vec(any::<u8>(), 0..64);
    prop_oneof![
        data.clone().prop_map(DigestItem::Other),
        (id, data.clone()).prop_map(|(i, d)| DigestItem::Consensus(i, d)),
        (id, data.clone()).prop_map(|(i, d)| DigestItem::Seal(i, d)),
        (id, data).prop_map(|(i, d)| DigestItem::PreRuntime(i, d)),
        Just(DigestItem::RuntimeEnvironmentUpdated),
    ]
}

proptest! {
    #[test]
    fn header_round_trip(parent in any::<[u8; 32]>(), number in any::<u32>(), logs in proptest::collection::vec(digest_item(), 0..4)) {
        let h = Header { parent_hash: H256(parent), number, state_root: H256([1; 32]), extrinsics_root: H256([2; 32]), digest: Digest { logs } };
        let bytes = h.encode();
        prop_assert_eq!(Header::decode(&mut &bytes[..]).unwrap(), h);
    }

    #[test]
    fn era_round_trip(period in 4u64..=65536, current in any::<u32>()) {
        let e = Era::mortal(period, u64::from(current));
        prop_assert_eq!(Era::decode(&mut &e.encode()[..]).unwrap(), e);
        if let Era::Mortal(p, _) = e {
            let birth = e.birth(u64::from(current));
            prop_assert!(birth <= u64::from(current) && u64::from(current) < birth + p);
        }
    }
}
