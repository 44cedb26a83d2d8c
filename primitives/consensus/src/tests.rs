//! Golden encodings (wire and signing formats, pinned byte for byte against
//! the node's original definitions), evidence checks with real signatures of
//! two schemes, and encoding round trips.

use super::*;
use codec::DecodeAll;
use proptest::prelude::*;
use qstack_core::crypto::Sr25519Signature;
use qstack_core::{KeyScheme, Pair};

fn chain() -> H256 {
    H256([7; 32])
}

fn vote(value: Option<H256>) -> Vote {
    Vote {
        height: 5,
        round: 2,
        kind: VoteKind::Precommit,
        value,
        validator: 3,
    }
}

fn proposal(value: H256) -> Proposal {
    Proposal {
        height: 5,
        round: 2,
        value,
        valid_round: Some(1),
        proposer: 3,
    }
}

fn fake_sig() -> Signature {
    Signature::Sr25519(Sr25519Signature([0xab; 64]))
}

// Produced by the node's types before they moved here (same derives, same
// field order); a change to any of these breaks every signature and peer.
const VOTE: &str = "0500000000000000020000000101090909090909090909090909090909090909090909090909090909090909090903000000";
const VOTE_SIGN: &str = "3471737461636b2f6266742f76310707070707070707070707070707070707070707070707070707070707070707020500000000000000020000000101090909090909090909090909090909090909090909090909090909090909090903000000";
const PROP: &str = "0500000000000000020000000808080808080808080808080808080808080808080808080808080808080808010100000003000000";
const PROP_SIGN: &str = "3471737461636b2f6266742f76310707070707070707070707070707070707070707070707070707070707070707000500000000000000020000000808080808080808080808080808080808080808080808080808080808080808010100000003000000";
const EVID: &str = "00050000000000000002000000010109090909090909090909090909090909090909090909090909090909090909090300000000abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab05000000000000000200000001000300000000abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab";
const EVIDP: &str = "01050000000000000002000000080808080808080808080808080808080808080808080808080808080808080801010000000300000000abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab050000000000000002000000080808080808080808080808080808080808080808080808080808080808080801010000000300000000abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab";
const CERT: &str = "0500000000000000020000000909090909090909090909090909090909090909090909090909090909090909040300000000abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab";

#[test]
fn encodings_are_pinned() {
    let v = vote(Some(H256([9; 32])));
    let p = proposal(H256([8; 32]));
    assert_eq!(hex::encode(v.encode()), VOTE);
    assert_eq!(hex::encode(v.sign_bytes(&chain())), VOTE_SIGN);
    assert_eq!(hex::encode(p.encode()), PROP);
    assert_eq!(hex::encode(p.sign_bytes(&chain())), PROP_SIGN);
    let sv = |v| SignedVote {
        vote: v,
        signature: fake_sig(),
    };
    let e = Evidence::Votes(sv(v.clone()), sv(vote(None)));
    assert_eq!(hex::encode(e.encode()), EVID);
    let sp = SignedProposal {
        proposal: p,
        signature: fake_sig(),
    };
    assert_eq!(
        hex::encode(Evidence::Proposals(sp.clone(), sp).encode()),
        EVIDP
    );
    let c = CommitCertificate {
        height: 5,
        round: 2,
        value: H256([9; 32]),
        precommits: vec![(3, fake_sig())],
    };
    assert_eq!(hex::encode(c.encode()), CERT);
    assert_eq!(
        (
            Step::Propose,
            Step::Prevote,
            Step::Precommit,
            VoteKind::Prevote,
            VoteKind::Precommit
        )
            .encode(),
        vec![0, 1, 2, 0, 1]
    );
}

/// A one-validator "set" at index 3 for the closure-based checks.
struct Keys(Vec<(PublicKey, u64)>);

impl ValidatorKeys for Keys {
    fn key(&self, index: u32) -> Option<&PublicKey> {
        self.0.get(index as usize).map(|(k, _)| k)
    }
    fn power(&self, index: u32) -> u64 {
        self.0.get(index as usize).map_or(0, |(_, p)| *p)
    }
    fn is_quorum(&self, power: u64) -> bool {
        let total: u64 = self.0.iter().map(|(_, p)| p).sum();
        u128::from(power) * 3 > u128::from(total) * 2
    }
}

fn keys_with(pair: &Pair) -> Keys {
    let other = Pair::from_seed(KeyScheme::Sr25519, &[200; 32]).public();
    Keys(vec![
        (other.clone(), 1),
        (Pair::from_seed(KeyScheme::Sr25519, &[201; 32]).public(), 1),
        (Pair::from_seed(KeyScheme::Sr25519, &[202; 32]).public(), 1),
        (pair.public(), 1),
    ])
}

fn double_vote(pair: &Pair) -> Evidence {
    Evidence::Votes(
        SignedVote::sign(pair, &chain(), vote(Some(H256([1; 32])))),
        SignedVote::sign(pair, &chain(), vote(Some(H256([2; 32])))),
    )
}

fn check(e: &Evidence, keys: &Keys) -> Result<Offence, EvidenceError> {
    e.check(&chain(), |i| keys.key(i), qstack_core::verify)
}

#[test]
fn double_votes_and_proposals_prove_an_offence_in_every_scheme() {
    for scheme in [KeyScheme::Sr25519, KeyScheme::Hybrid, KeyScheme::MlDsa44] {
        let pair = Pair::from_seed(scheme, &[scheme as u8; 32]);
        let keys = keys_with(&pair);
        let e = double_vote(&pair);
        let offence = check(&e, &keys).expect("real evidence");
        assert_eq!(
            offence,
            Offence {
                validator: 3,
                height: 5,
                round: 2,
                step: Step::Precommit,
                values: (Some(H256([1; 32])), Some(H256([2; 32]))),
            }
        );
        assert!(e.verify(&chain(), &keys));
        // Either order describes the same offence.
        let Evidence::Votes(a, b) = e else {
            unreachable!()
        };
        assert_eq!(
            check(&Evidence::Votes(b, a), &keys),
            Ok(offence),
            "{scheme:?}"
        );
        let e = Evidence::Proposals(
            SignedProposal::sign(&pair, &chain(), proposal(H256([4; 32]))),
            SignedProposal::sign(&pair, &chain(), proposal(H256([3; 32]))),
        );
        let offence = check(&e, &keys).expect("real evidence");
        assert_eq!(offence.step, Step::Propose);
        assert_eq!(offence.values, (Some(H256([3; 32])), Some(H256([4; 32]))));
    }
}

#[test]
fn non_evidence_is_refused_with_its_reason() {
    let pair = Pair::from_seed(KeyScheme::Sr25519, &[1; 32]);
    let keys = keys_with(&pair);
    let signed = |v: Vote| SignedVote::sign(&pair, &chain(), v);
    let a = signed(vote(Some(H256([1; 32]))));
    let with = |f: fn(&mut Vote)| {
        let mut v = vote(Some(H256([2; 32])));
        f(&mut v);
        Evidence::Votes(a.clone(), signed(v))
    };
    assert_eq!(
        check(&Evidence::Votes(a.clone(), a.clone()), &keys),
        Err(EvidenceError::NotConflicting)
    );
    assert_eq!(
        check(&with(|v| v.validator = 2), &keys),
        Err(EvidenceError::NotSameSigner)
    );
    assert_eq!(
        check(&with(|v| v.height = 6), &keys),
        Err(EvidenceError::DifferentHeights)
    );
    assert_eq!(
        check(&with(|v| v.round = 3), &keys),
        Err(EvidenceError::DifferentRounds)
    );
    assert_eq!(
        check(&with(|v| v.kind = VoteKind::Prevote), &keys),
        Err(EvidenceError::DifferentSteps)
    );
    // Signed by someone else than the key at the offender's index.
    let stranger = Pair::from_seed(KeyScheme::Sr25519, &[99; 32]);
    let forged = Evidence::Votes(
        a.clone(),
        SignedVote::sign(&stranger, &chain(), vote(Some(H256([2; 32])))),
    );
    assert_eq!(check(&forged, &keys), Err(EvidenceError::BadSignature));
    // Signed for another chain.
    let other_chain = Evidence::Votes(
        a.clone(),
        SignedVote::sign(&pair, &H256([8; 32]), vote(Some(H256([2; 32])))),
    );
    assert_eq!(check(&other_chain, &keys), Err(EvidenceError::BadSignature));
    // An index outside the set.
    let mut v = vote(Some(H256([1; 32])));
    v.validator = 9;
    let mut w = v.clone();
    w.value = None;
    let unknown = Evidence::Votes(signed(v), signed(w));
    assert_eq!(
        check(&unknown, &keys),
        Err(EvidenceError::UnknownValidator(9))
    );
    // Same proposal twice is no offence; a different valid_round is.
    let p = SignedProposal::sign(&pair, &chain(), proposal(H256([4; 32])));
    assert_eq!(
        check(&Evidence::Proposals(p.clone(), p.clone()), &keys),
        Err(EvidenceError::NotConflicting)
    );
    let mut q = proposal(H256([4; 32]));
    q.valid_round = None;
    let e = Evidence::Proposals(p, SignedProposal::sign(&pair, &chain(), q));
    assert_eq!(
        check(&e, &keys).map(|o| o.values),
        Ok((Some(H256([4; 32])), Some(H256([4; 32]))))
    );
}

#[test]
fn certificates_verify_through_the_trait() {
    let pairs: Vec<Pair> = (0..4u8)
        .map(|i| Pair::from_seed(KeyScheme::Sr25519, &[i + 50; 32]))
        .collect();
    let keys = Keys(pairs.iter().map(|p| (p.public(), 1)).collect());
    let mut cert = CommitCertificate {
        height: 9,
        round: 0,
        value: H256([5; 32]),
        precommits: vec![],
    };
    for i in 0..3u32 {
        let v = cert.precommit(i);
        let s = SignedVote::sign(&pairs[i as usize], &chain(), v).signature;
        cert.precommits.push((i, s));
    }
    assert_eq!(cert.verify(&chain(), &keys), Ok(()));
    cert.precommits.pop();
    assert_eq!(
        cert.verify(&chain(), &keys),
        Err(CertificateError::NoQuorum)
    );
}

#[test]
fn evidence_has_a_size_bound() {
    // Two hybrid signatures and two small messages: every evidence fits.
    let max = Evidence::max_encoded_len();
    assert!(max < 7_000, "{max}");
}

fn arb_vote() -> impl Strategy<Value = Vote> {
    (
        any::<u64>(),
        any::<u32>(),
        any::<bool>(),
        proptest::option::of(any::<[u8; 32]>()),
        any::<u32>(),
    )
        .prop_map(|(height, round, pre, value, validator)| Vote {
            height,
            round,
            kind: if pre {
                VoteKind::Precommit
            } else {
                VoteKind::Prevote
            },
            value: value.map(H256),
            validator,
        })
}

proptest! {
    #[test]
    fn evidence_round_trips(a in arb_vote(), b in arb_vote(), sig in any::<[u8; 32]>()) {
        let s = Signature::Sr25519(Sr25519Signature([sig[0]; 64]));
        let e = Evidence::Votes(
            SignedVote { vote: a, signature: s.clone() },
            SignedVote { vote: b, signature: s },
        );
        let bytes = e.encode();
        prop_assert!(bytes.len() <= Evidence::max_encoded_len());
        prop_assert_eq!(Evidence::decode_all(&mut &bytes[..]).ok(), Some(e));
    }
}
