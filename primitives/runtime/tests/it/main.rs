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

mod extrinsic {
    //! The signed extrinsic's golden bytes: a master-key signature encodes
    //! exactly as `Signature` (indices 0-3), a multi-signature is index 4 and
    //! a regular-key signature index 5. The address and the signed
    //! extensions are Substrate's (`MultiAddress` Id 0 / Raw 2; era, compact
    //! nonce, compact tip), a ticket flagged in the nonce.
    use codec::{Decode, Encode};
    use qstack_core::crypto::{FalconSignature, MlDsaSignature, Sr25519Signature};
    use qstack_core::{AccountId, PublicKey, Signature};
    use qstack_runtime_primitives::{
        Era, ExtrinsicSignature, MultiAddress, SignedExtra, SignerKey, SignerSignature,
        UncheckedExtrinsic,
    };

    type Xt = UncheckedExtrinsic<[u8; 2]>;

    fn extra(nonce: u32, ticket: Option<u32>) -> SignedExtra {
        SignedExtra {
            era: Era::Immortal,
            nonce,
            ticket,
            tip: 0,
        }
    }

    fn sr(b: u8) -> Signature {
        Signature::Sr25519(Sr25519Signature([b; 64]))
    }

    #[test]
    fn single_signature_golden_bytes() {
        let xt = Xt::new_signed(
            [2, 0],
            MultiAddress::Id(AccountId([1; 32])),
            sr(7),
            extra(5, None),
        );
        let expected = [
            "a101", // compact length 104
            "84",   // signed, version 4
            "00",
            &"01".repeat(32), // MultiAddress::Id
            "00",
            &"07".repeat(64), // sr25519 signature, exactly as `Signature`
            "00",             // CheckMortality: immortal
            "14",             // CheckNonce: compact 5
            "00",             // ChargeTransactionPayment: tip 0
            "0200",           // call
        ]
        .concat();
        assert_eq!(hex::encode(xt.encode()), expected);
        assert_eq!(Xt::decode(&mut &xt.encode()[..]).unwrap(), xt);
    }

    #[test]
    fn master_signatures_encode_as_signature_in_every_scheme() {
        let f = FalconSignature([3; 666]);
        let m = MlDsaSignature([4; 2420]);
        for sig in [
            sr(1),
            Signature::Falcon512(f.clone()),
            Signature::MlDsa44(m.clone()),
            Signature::Hybrid(f.clone(), m.clone()),
        ] {
            let wrapped = ExtrinsicSignature::Master(sig.clone());
            assert_eq!(wrapped.encode(), sig.encode());
            assert_eq!(
                ExtrinsicSignature::decode(&mut &sig.encode()[..]).unwrap(),
                wrapped
            );
            let regular = ExtrinsicSignature::Regular(sig.clone());
            assert_eq!(regular.encode(), [&[5u8][..], &sig.encode()].concat());
            assert_eq!(
                ExtrinsicSignature::decode(&mut &regular.encode()[..]).unwrap(),
                regular
            );
        }
        assert!(ExtrinsicSignature::decode(&mut &[6u8, 0][..]).is_err());
    }

    #[test]
    fn multi_signature_and_ticket_golden_bytes() {
        let multi = ExtrinsicSignature::Multi(vec![
            SignerSignature {
                signer: SignerKey::Regular(AccountId([9; 32])),
                signature: sr(8),
            },
            SignerSignature {
                signer: SignerKey::Key(PublicKey::Sr25519([6; 32])),
                signature: sr(5),
            },
        ]);
        let xt = Xt::new_signed(
            [2, 0],
            MultiAddress::Id(AccountId([1; 32])),
            multi,
            extra(0, Some(300)),
        );
        let body = [
            "84",
            "00",
            &"01".repeat(32),
            "04", // multi
            "08", // two entries
            "01",
            &"09".repeat(32), // SignerKey::Regular(account)
            "00",
            &"08".repeat(64),
            "02",
            "00",
            &"06".repeat(32), // SignerKey::Key(sr25519 key)
            "00",
            &"05".repeat(64),
            "00",
            "032c010080", // CheckNonce: compact 2^31 + 300, the ticket 300
            "00",
            "0200",
        ]
        .concat();
        let len = body.len() / 2;
        let expected = [hex::encode(codec::Compact(len as u32).encode()), body].concat();
        assert_eq!(hex::encode(xt.encode()), expected);
        assert_eq!(Xt::decode(&mut &xt.encode()[..]).unwrap(), xt);
    }

    #[test]
    fn the_key_travels_as_substrates_raw_address() {
        let key = PublicKey::Sr25519([6; 32]);
        let address = MultiAddress::Key(key.clone());
        // Raw (2), compact length 33, then the SCALE key (scheme tag 0).
        let expected = ["02", "84", "00", &"06".repeat(32)].concat();
        assert_eq!(hex::encode(address.encode()), expected);
        assert_eq!(
            MultiAddress::decode(&mut &address.encode()[..]).unwrap(),
            address
        );
        // Substrate's Index, Address32 and Address20, trailing bytes inside
        // Raw, and a Raw that is no key are refused.
        for bad in [
            "0100",
            &["03", &"00".repeat(32)].concat(),
            &["04", &"00".repeat(20)].concat(),
            &["0288", "00", &"06".repeat(33)].concat(),
            "020409",
        ] {
            let bytes = hex::decode(bad).unwrap();
            assert!(MultiAddress::decode(&mut &bytes[..]).is_err(), "{bad}");
        }
    }
}
