//! The dev engine on the generic shell ([`crate::shell::Shell`]): one node
//! authors every block (instant or interval seal) from the pool's ready
//! transactions and imports it final at once; a follower never builds
//! (blocks come by sync). The dev engine persists nothing.
//!
//! Every block carries its author's seal: the last digest item,
//! `Seal(*b"qsda", signature)`, a signature by one of the spec's
//! `consensus.authorities` over [`seal_payload`] (domain, genesis hash,
//! the header's hash without the seal). Followers import only blocks whose
//! seal checks ([`check_seal`]); the block's hash covers the seal.

use crate::shell::{Shell, ShellConfig};
use crate::txpool::TxPool;
use anyhow::Result;
use codec::{DecodeAll, Encode};
use qstack_client::Client;
use qstack_consensus::dev::{seal_payload, DEV_SEAL_ENGINE};
use qstack_consensus::dev::{DevEngine, SealMode};
use qstack_consensus::NothingDurable;
use qstack_core::{AccountId, Pair, PublicKey, Signature, H256};
use qstack_network::{ConsensusInbox, NetworkHandle};
use qstack_runtime_primitives::{DigestItem, Header};
use std::sync::Arc;

/// Seals `header` with `pair` (the last digest item; the hash changes).
pub fn seal(pair: &Pair, genesis: &H256, header: &mut Header) {
    let signature = pair.sign(&seal_payload(genesis, &header.hash()));
    header
        .digest
        .push(DigestItem::Seal(DEV_SEAL_ENGINE, signature.encode()));
}

/// Whether `header` is sealed by one of `authorities` (why not, if not).
pub fn check_seal(
    authorities: &[PublicKey],
    genesis: &H256,
    header: &Header,
) -> Result<(), String> {
    let mut pre = header.clone();
    let number = header.number;
    let seal = match pre.digest.logs.pop() {
        Some(DigestItem::Seal(id, seal)) if id == DEV_SEAL_ENGINE => seal,
        _ => return Err(format!("block #{number} carries no author's seal")),
    };
    let signature = Signature::decode_all(&mut &seal[..])
        .map_err(|e| format!("block #{number}: the seal does not decode: {e}"))?;
    let payload = seal_payload(genesis, &pre.hash());
    if authorities
        .iter()
        .any(|a| qstack_core::verify(&signature, &payload, a))
    {
        Ok(())
    } else {
        Err(format!(
            "block #{number} is not sealed by one of the chain's authorities"
        ))
    }
}

/// The key a dev-engine node authors with: the keystore's, else (on a
/// Development or Local chain only) the well-known `//Alice` sr25519 key;
/// it must be one of the chain's authorities.
pub fn authoring_key(
    keystore: &std::path::Path,
    chain_type: crate::chain_spec::ChainType,
    authorities: &[PublicKey],
) -> Result<Pair> {
    use crate::chain_spec::ChainType;
    let pair = if keystore.exists() {
        crate::keystore::load(keystore)?
    } else if matches!(chain_type, ChainType::Development | ChainType::Local) {
        tracing::info!(target: "qstack", "no key in {}: authoring with the well-known development key //Alice (sr25519)", keystore.display());
        Pair::from_suri(qstack_core::KeyScheme::Sr25519, "//Alice")
            .map_err(|e| anyhow::anyhow!("the development key: {e:?}"))?
    } else {
        anyhow::bail!(
            "--validator: no authoring key at {} (put one there with `qstack key insert`)",
            keystore.display()
        );
    };
    if !authorities.contains(&pair.public()) {
        anyhow::bail!(
            "--validator: this node's key (account {}) is not one of the chain's consensus.authorities, so followers would refuse its blocks",
            pair.account_id()
        );
    }
    Ok(pair)
}

/// Runs the dev engine in `mode` until `shutdown` resolves; builds blocks
/// only with a `seal` key (an authority's), naming `author` in them.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    client: Arc<Client>,
    txpool: Arc<TxPool>,
    network: NetworkHandle,
    messages: ConsensusInbox,
    mode: SealMode,
    seal: Option<Pair>,
    author: Option<AccountId>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let config = ShellConfig {
        author: seal.is_some(),
        author_account: author,
        seal,
        ..ShellConfig::default()
    };
    let engine = DevEngine::new(mode);
    Shell::new(
        client,
        txpool,
        network,
        engine,
        Box::new(NothingDurable),
        config,
    )
    .run(messages, shutdown)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chain_spec::{ChainSpec, ChainType};
    use qstack_core::KeyScheme;
    use qstack_network::sync::ImportResult;
    use qstack_network::ChainApi;

    fn key(suri: &str, scheme: KeyScheme) -> Pair {
        Pair::from_suri(scheme, suri).unwrap()
    }

    #[test]
    fn followers_import_only_blocks_their_authorities_sealed() {
        // M7: a follower of a dev-engine chain used to import and finalise
        // any peer's block.
        let spec = ChainSpec::load("local").unwrap();
        let genesis_source = spec.genesis_source().unwrap();
        let executor = Arc::new(
            qstack_executor::Executor::new(qstack_executor::ExecutorConfig::default()).unwrap(),
        );
        let author = crate::client_on(&executor, &genesis_source, None).unwrap();
        let follower = Arc::new(crate::client_on(&executor, &genesis_source, None).unwrap());
        let info = author.info().unwrap();
        let genesis = info.genesis_hash;
        let alice = key("//Alice", KeyScheme::Sr25519);
        let authorities = vec![alice.public()];
        let inherents = std::collections::BTreeMap::from([(
            qstack_runtime::timestamp::INHERENT_IDENTIFIER,
            crate::clock::now_ms().encode(),
        )]);
        let block = author
            .build_block(&info.best_hash, &inherents, Default::default(), &[])
            .unwrap()
            .block;
        let justify: crate::Justify = {
            let authorities = authorities.clone();
            Arc::new(move |h: &Header, _: Option<&[u8]>| check_seal(&authorities, &genesis, h))
        };
        let chain = crate::NetChain {
            client: follower.clone(),
            txpool: None,
            finalize_on_import: true,
            justify: Some(justify),
        };
        let offer = |header: Header| {
            chain.import(qstack_network::protocol::BlockData {
                header,
                body: Some(block.extrinsics.clone()),
                justification: None,
            })
        };
        let refused = |r: ImportResult, why: &str| match r {
            ImportResult::Bad(m) => assert!(m.contains(why), "{m}"),
            other => panic!("expected a refusal ({why}), got {other:?}"),
        };
        // Unsealed, sealed by a stranger (in any scheme), sealed for another
        // chain, or changed after sealing: refused, and nothing imported.
        refused(offer(block.header.clone()), "carries no author's seal");
        for stranger in [
            key("//Mallory", KeyScheme::Sr25519),
            key("//Alice", KeyScheme::Falcon512),
        ] {
            let mut h = block.header.clone();
            seal(&stranger, &genesis, &mut h);
            refused(offer(h), "not sealed by one of the chain's authorities");
        }
        let mut other_chain = block.header.clone();
        seal(&alice, &H256([1; 32]), &mut other_chain);
        refused(
            offer(other_chain),
            "not sealed by one of the chain's authorities",
        );
        let mut tampered = block.header.clone();
        seal(&alice, &genesis, &mut tampered);
        tampered.state_root = H256([9; 32]);
        refused(
            offer(tampered),
            "not sealed by one of the chain's authorities",
        );
        let mut garbage = block.header.clone();
        garbage
            .digest
            .push(DigestItem::Seal(DEV_SEAL_ENGINE, vec![1, 2, 3]));
        refused(offer(garbage), "the seal does not decode");
        assert_eq!(follower.info().unwrap().best_number, 0, "nothing imported");
        // The authority's seal: imported and final; the seal is part of the
        // block's hash, and the runtime executes the sealed block.
        let mut sealed = block.header.clone();
        seal(&alice, &genesis, &mut sealed);
        assert_ne!(sealed.hash(), block.header.hash());
        assert!(matches!(offer(sealed.clone()), ImportResult::Imported));
        let now = follower.info().unwrap();
        assert_eq!(
            (now.finalized_number, now.finalized_hash),
            (1, sealed.hash())
        );
    }

    #[test]
    fn the_authoring_key_must_be_an_authority() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("keystore/validator.json");
        let alice = key("//Alice", KeyScheme::Sr25519);
        let authorities = vec![alice.public()];
        // No keystore key: //Alice on development and local chains only.
        for t in [ChainType::Development, ChainType::Local] {
            let k = authoring_key(&missing, t, &authorities).unwrap();
            assert_eq!(k.public(), alice.public());
        }
        let err = authoring_key(&missing, ChainType::Live, &authorities).unwrap_err();
        assert!(format!("{err}").contains("qstack key insert"), "{err}");
        // A key that is no authority is refused before it authors anything.
        let bob = key("//Bob", KeyScheme::Sr25519);
        let err = authoring_key(&missing, ChainType::Local, &[bob.public()]).unwrap_err();
        assert!(
            format!("{err}").contains("not one of the chain's consensus.authorities"),
            "{err}"
        );
        // The keystore's key wins.
        let path = dir.path().join("keystore/validator.json");
        crate::keystore::insert(&path, KeyScheme::Sr25519, "//Bob").unwrap();
        let k = authoring_key(&path, ChainType::Live, &[bob.public()]).unwrap();
        assert_eq!(k.public(), bob.public());
    }
}
