//! subxt, Parity's Rust client for Substrate chains, on qstack chains:
//! [`QstackConfig`] (subxt's [`Config`] for them), [`connect`] (a
//! WebSocket connection over the workspace's jsonrpsee with the subxt
//! backend of your choice), [`PairSigner`] (a subxt signer holding a qstack
//! key) and [`with_key_address`] (for an account's first transaction).
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use qstack_core::{KeyScheme, Pair};
//! use qstack_subxt::subxt::dynamic;
//! use qstack_subxt::subxt::utils::{AccountId32, MultiAddress};
//! use qstack_subxt::{connect, BackendKind, PairSigner};
//!
//! let api = connect("ws://127.0.0.1:9944", BackendKind::ChainHead).await?;
//! let alice = PairSigner::new(Pair::from_suri(KeyScheme::Sr25519, "//Alice")?);
//! let bob = AccountId32(Pair::from_suri(KeyScheme::Sr25519, "//Bob")?.account_id().0);
//! let call = dynamic::tx(
//!     "Balances",
//!     "transfer_keep_alive",
//!     (MultiAddress::<AccountId32, ()>::Id(bob), 1_000u128),
//! );
//! api.tx()
//!     .await?
//!     .sign_and_submit_then_watch_default(&call, &alice)
//!     .await?
//!     .wait_for_finalized_success()
//!     .await?;
//! # Ok(())
//! # }
//! ```
//!
//! # What differs from `SubstrateConfig`
//!
//! qstack keeps Substrate's wire formats (extrinsic v4, the header, the
//! standard signed extensions, the signed payload, metadata V14/V15 with
//! FRAME's type paths), so subxt decodes blocks, events and storage from
//! the metadata alone, and most of [`subxt::SubstrateConfig`] carries over.
//! What does not:
//!
//! - **Signature.** A signature is qstack's multi-scheme
//!   [`qstack_core::Signature`], sr25519 as variant 0 (in Substrate's
//!   `MultiSignature`, 0 is Ed25519 and sr25519 is 1), the post-quantum
//!   schemes kilobytes long. [`Signature`] carries its SCALE encoding as it
//!   is, which is exactly what a master-key signed extrinsic holds.
//! - **Account ids** are the blake2-256 hash of the SCALE-encoded public
//!   key, not the key: the "account id" of an sr25519 keypair from
//!   `subxt-signer` (its public key) is not a qstack account. Sign with
//!   [`PairSigner`] over a [`qstack_core::Pair`] of any scheme (an sr25519
//!   pair derives from a SURI exactly as Substrate's does).
//! - **Address.** Only `MultiAddress::Id` (index 0) and `Raw` (index 2,
//!   the SCALE-encoded key) exist; the index type is `()`. An account's
//!   first transaction must carry its key (`Raw`): subxt makes the address
//!   from the account id, so such a transaction goes through
//!   [`with_key_address`] before it is submitted.
//! - **Hasher.** Always blake2-256 ([`BlakeTwo256`]): the chain's hasher
//!   is named in metadata V16 only, which qstack does not serve.
//! - **Header.** [`SubstrateHeader`]: qstack's block number is a `u32`,
//!   compact-encoded, so subxt's `u64` field reads and hashes it unchanged.
//! - **Asset id** is `()`: qstack has no `ChargeAssetTxPayment`.
//! - **SS58.** [`AccountId32`]'s `Display` uses Substrate's prefix 42;
//!   qstack addresses use 59 (`qstack_core::Address::to_ss58`).
//!
//! Signed extensions are Substrate's default set ([`SubstrateExtrinsicParams`]):
//! qstack lists `CheckSpecVersion`, `CheckTxVersion`, `CheckGenesis`,
//! `CheckMortality`, `CheckNonce` and `ChargeTransactionPayment`, which
//! subxt encodes by name. A ticket (a `CheckNonce` value with bit 31 set), a
//! regular-key signature and a multi-signature sign another payload
//! (`qstack_runtime_primitives::SignedPayload`) and are not made through
//! subxt. Reading a block's extensions, `nonce()` and `tip()` work (the
//! metadata describes `ChargeTransactionPayment` as FRAME's one-field
//! struct).
//!
//! # Backends
//!
//! [`BackendKind::ChainHead`] speaks the new JSON-RPC spec
//! (`chainHead_v1_*`, `chainSpec_v1_*`, `transactionWatch_v1_*`). It reads
//! only blocks its follow subscription reported (the finalized block when
//! it connected, and later ones), so follow blocks with
//! `OnlineClient::stream_blocks` rather than asking for older hashes;
//! [`BackendKind::Legacy`] reads any block the node keeps.

mod rpc;
mod signer;

pub use rpc::WsRpcClient;
pub use signer::{with_key_address, PairSigner};
/// The subxt this crate is built for, so callers name the same types.
pub use subxt;

use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;
use subxt::backend::{ChainHeadBackend, CombinedBackend, LegacyBackend};
use subxt::config::substrate::{BlakeTwo256, SubstrateHeader, H256};
use subxt::config::{Config, HashFor, SubstrateExtrinsicParams};
use subxt::ext::futures::StreamExt;
use subxt::metadata::ArcMetadata;
use subxt::rpcs::RpcClient;
use subxt::utils::{AccountId32, MultiAddress, Static};
use subxt::OnlineClient;

/// A master-key signature as the extrinsic carries it: the SCALE encoding
/// of [`qstack_core::Signature`] (scheme index, then the signature),
/// written as it is whatever the metadata calls the type.
pub type Signature = Static<qstack_core::Signature>;

/// subxt's [`Config`] for qstack chains (see the crate docs for how it
/// differs from `SubstrateConfig`). Cheap to clone; it caches each runtime
/// version's metadata, so a client fetches it once per spec version.
#[derive(Clone, Default)]
pub struct QstackConfig {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    genesis_hash: Option<H256>,
    metadata: RwLock<HashMap<u32, ArcMetadata>>,
}

impl QstackConfig {
    /// A configuration that learns the genesis hash from the node.
    pub fn new() -> Self {
        Self::default()
    }

    /// A configuration for the chain with this genesis hash, which an
    /// offline client needs to build transactions.
    pub fn with_genesis_hash(genesis_hash: H256) -> Self {
        Self {
            inner: Arc::new(Inner {
                genesis_hash: Some(genesis_hash),
                metadata: RwLock::default(),
            }),
        }
    }
}

impl std::fmt::Debug for QstackConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut cached: Vec<u32> = self.inner.metadata.read().keys().copied().collect();
        cached.sort_unstable();
        f.debug_struct("QstackConfig")
            .field("genesis_hash", &self.inner.genesis_hash)
            .field("metadata_cached_for_spec_versions", &cached)
            .finish()
    }
}

impl Config for QstackConfig {
    type AccountId = AccountId32;
    type Address = MultiAddress<AccountId32, ()>;
    type Signature = Signature;
    type Header = SubstrateHeader<H256>;
    type TransactionExtensions = SubstrateExtrinsicParams<Self>;
    type AssetId = ();
    type Hasher = BlakeTwo256;

    fn genesis_hash(&self) -> Option<HashFor<Self>> {
        self.inner.genesis_hash
    }

    fn metadata_for_spec_version(&self, spec_version: u32) -> Option<ArcMetadata> {
        self.inner.metadata.read().get(&spec_version).cloned()
    }

    fn set_metadata_for_spec_version(&self, spec_version: u32, metadata: ArcMetadata) {
        self.inner.metadata.write().insert(spec_version, metadata);
    }
}

/// Which of subxt's backends carries a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// The new JSON-RPC spec only (`chainHead_v1_*`, `chainSpec_v1_*`,
    /// `transactionWatch_v1_*`): reads blocks its follow subscription
    /// reported.
    ChainHead,
    /// The legacy methods only (`chain_*`, `state_*`, `author_*`).
    Legacy,
    /// subxt's default: per call, `archive_v1` where the node serves it
    /// (archive nodes), else chainHead, else the legacy methods.
    Combined,
}

/// Why a connection could not be made, or a transaction rewritten.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The WebSocket connection failed.
    #[error("cannot connect to {url}: {source}")]
    Connect {
        /// The URL given.
        url: String,
        /// jsonrpsee's reason.
        #[source]
        source: jsonrpsee::core::ClientError,
    },
    /// The combined backend could not list the node's methods.
    #[error("cannot set up subxt's combined backend: {0}")]
    Backend(#[from] subxt::error::CombinedBackendError),
    /// subxt could not start a client (the genesis hash did not come).
    #[error(transparent)]
    Client(#[from] subxt::error::OnlineClientError),
    /// [`with_key_address`] was given something it cannot rewrite.
    #[error("cannot put the key into this transaction: {0}")]
    NotSignedById(&'static str),
}

/// Connects to the node at `url` (`ws://…`; TLS is not built in: qstack
/// nodes serve loopback or sit behind a proxy) through `backend`. Call it
/// inside a tokio runtime: the chainHead backend's driver is spawned on it.
pub async fn connect(url: &str, backend: BackendKind) -> Result<OnlineClient<QstackConfig>, Error> {
    let rpc = RpcClient::new(WsRpcClient::connect(url).await?);
    connect_with(rpc, backend, QstackConfig::new()).await
}

/// [`connect`] over any subxt RPC client, with `config`.
pub async fn connect_with(
    rpc: RpcClient,
    backend: BackendKind,
    config: QstackConfig,
) -> Result<OnlineClient<QstackConfig>, Error> {
    let client = match backend {
        BackendKind::ChainHead => {
            let (backend, driver) = ChainHeadBackend::<QstackConfig>::builder().build(rpc);
            spawn_driver(driver);
            OnlineClient::from_backend_with_config(config, Arc::new(backend)).await?
        }
        BackendKind::Legacy => {
            let backend = LegacyBackend::<QstackConfig>::builder().build(rpc);
            OnlineClient::from_backend_with_config(config, Arc::new(backend)).await?
        }
        BackendKind::Combined => {
            let (backend, driver) = CombinedBackend::<QstackConfig>::builder()
                .build(rpc)
                .await?;
            if driver.needs_polling() {
                spawn_driver(driver);
            }
            OnlineClient::from_backend_with_config(config, Arc::new(backend)).await?
        }
    };
    Ok(client)
}

/// Polls a backend driver to its end on the current tokio runtime (what
/// subxt's `runtime` feature would do); its errors are the backend's to
/// report, as failed calls.
fn spawn_driver<D, E>(mut driver: D)
where
    D: subxt::ext::futures::Stream<Item = Result<(), E>> + Unpin + Send + 'static,
    E: std::fmt::Display,
{
    tokio::spawn(async move {
        while let Some(item) = driver.next().await {
            if let Err(e) = item {
                tracing::debug!(target: "qstack::subxt", "backend driver: {e}");
            }
        }
    });
}

#[cfg(test)]
mod readme {
    /// README's "From Rust" example is this crate's doc example (which
    /// doctests compile), less its hidden lines.
    #[test]
    fn the_readme_shows_the_doc_example() {
        let readme = include_str!("../../../README.md");
        let section = readme
            .split("### From Rust")
            .nth(1)
            .expect("README has a 'From Rust' section");
        let shown = section
            .split("```rust\n")
            .nth(1)
            .and_then(|s| s.split("```").next())
            .expect("a rust example");
        let doc: String = include_str!("lib.rs")
            .split("//! ```no_run\n")
            .nth(1)
            .and_then(|s| s.split("//! ```").next())
            .expect("the crate's doc example")
            .lines()
            .map(|l| l.strip_prefix("//!").unwrap_or(l))
            .map(|l| l.strip_prefix(' ').unwrap_or(l))
            .filter(|l| !l.starts_with("# ") && *l != "#")
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(shown, doc);
    }
}
