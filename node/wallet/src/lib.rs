//! The qstack client library: connect to a node over WebSocket JSON-RPC,
//! read what signing needs (genesis, runtime versions, the next nonce), submit
//! a signed extrinsic and follow it until it is in a block or final, name a
//! failed call from the chain's own metadata, encode any call from that
//! metadata and JSON arguments ([`call`]), and the versioned file format
//! of a multi-signature [`Proposal`]. For relayers, bots, explorers and the
//! `qstack tx` commands; signing itself is `qstack_runtime::signing`. No
//! database, network stack or Wasm engine: a client needs none.

pub mod call;
pub mod dispatch_error;
pub mod events;
pub mod proposal;

pub use proposal::Proposal;

use codec::Encode;
use jsonrpsee::core::client::{ClientT, SubscriptionClientT};
use jsonrpsee::core::ClientError;
use jsonrpsee::rpc_params;
use qstack_core::{AccountId, Address, AddressError, Nonce, H256};
use qstack_runtime::signing::{ChainContext, TxOptions};
use serde_json::Value;
use std::path::PathBuf;

/// What went wrong talking to a node or reading a proposal.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No connection to the node's RPC endpoint.
    #[error("connecting to {url} (is a node running? start one with `qstack --dev`)")]
    Connect {
        /// The WebSocket URL dialled.
        url: String,
        /// Why it failed.
        #[source]
        source: ClientError,
    },
    /// An RPC request failed.
    #[error(transparent)]
    Rpc(#[from] ClientError),
    /// The node answered something this client cannot read.
    #[error("{0}")]
    Response(String),
    /// A subscription item that is not the JSON expected.
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Hex in a node's answer that is not hex.
    #[error(transparent)]
    Hex(#[from] hex::FromHexError),
    /// A field of a node's answer that is not hex.
    #[error("{what}: bad hex")]
    BadHex {
        /// Which field.
        what: String,
        /// Why it is not hex.
        #[source]
        source: hex::FromHexError,
    },
    /// The chain's events do not decode with this client's runtime types.
    #[error("events: {0}")]
    Events(codec::Error),
    /// A string that is no `q…` or SS58 address of this chain.
    #[error("{what}: {reason}")]
    Address {
        /// What the string was meant to be.
        what: String,
        /// Why it is no address.
        reason: AddressError,
    },
    /// The node refused the transaction at submission (invalid, pool full, …).
    #[error("the node refused the transaction: {0}")]
    Refused(ClientError),
    /// The node reported the transaction in a block that does not hold it.
    #[error("the node reported the transaction in block {0}, but the block does not contain it")]
    NotInBlock(H256),
    /// The transaction is in a block, but its call failed.
    #[error("the transaction was included but failed: {0}")]
    Failed(String),
    /// The pool dropped, invalidated or replaced the transaction.
    #[error("transaction {0}")]
    Ended(Value),
    /// The subscription ended before the transaction was in a block.
    #[error("the node closed the subscription before the transaction was included")]
    Closed,
    /// A call that the chain's metadata does not have, or arguments that do
    /// not fit it.
    #[error("{0}")]
    Call(String),
    /// A file that is not a proposal, or a proposal that is inconsistent.
    #[error("{0}")]
    Proposal(String),
    /// A hex field of a proposal that is not hex.
    #[error("proposal: {what} is not hex")]
    ProposalHex {
        /// Which field.
        what: String,
        /// Why it is not hex.
        #[source]
        source: hex::FromHexError,
    },
    /// A file could not be read.
    #[error("reading {}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("writing {}", path.display())]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A file that is not JSON.
    #[error("{} is not JSON", path.display())]
    NotJson {
        /// The file.
        path: PathBuf,
        /// Where the JSON breaks.
        #[source]
        source: serde_json::Error,
    },
    /// An error in a file.
    #[error("in {}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// What is wrong in it.
        #[source]
        source: Box<Error>,
    },
}

/// This crate's results.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Makes the chain's SS58 prefix (`ss58Format` of its `system_properties`,
/// qstack's default when absent) this process's, so addresses read after
/// connecting take the chain's SS58 form (and refuse other chains').
pub fn adopt_ss58_prefix(properties: &Value) -> Result<u16> {
    let prefix = match properties.get("ss58Format") {
        None | Some(Value::Null) => qstack_core::DEFAULT_SS58_PREFIX,
        Some(v) => v
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| {
                Error::Response(format!(
                    "system_properties: ss58Format {v} is not an SS58 prefix"
                ))
            })?,
    };
    qstack_core::set_ss58_prefix(prefix)
        .map_err(|e| Error::Response(format!("system_properties: ss58Format {prefix}: {e}")))?;
    Ok(prefix)
}

/// Parses a `q…` address or the chain's SS58 form ([`adopt_ss58_prefix`]);
/// `what` names it in the error.
pub fn parse_address(s: &str, what: &str) -> Result<AccountId> {
    Ok(s.parse::<Address>()
        .map_err(|reason| Error::Address {
            what: what.to_string(),
            reason,
        })?
        .account_id())
}

fn h256(v: &Value, what: &str) -> Result<H256> {
    let s = v
        .as_str()
        .ok_or_else(|| Error::Response(format!("{what}: expected a hex string, got {v}")))?;
    let raw = hex::decode(s.trim_start_matches("0x")).map_err(|source| Error::BadHex {
        what: what.to_string(),
        source,
    })?;
    Ok(H256(raw.try_into().map_err(|_| {
        Error::Response(format!("{what}: not 32 bytes"))
    })?))
}

/// A connection to a node and what signing for its chain needs.
pub struct Chain {
    /// The WebSocket client.
    pub client: jsonrpsee_ws_client::WsClient,
    /// Genesis hash and versions.
    pub ctx: ChainContext,
}

impl Chain {
    /// Connects to `rpc` (`ws://`, `wss://`, or `http(s)://` rewritten).
    pub async fn connect(rpc: &str) -> Result<Chain> {
        let url = rpc
            .replacen("http://", "ws://", 1)
            .replacen("https://", "wss://", 1);
        let client = jsonrpsee_ws_client::WsClientBuilder::default()
            .max_request_size(16 * 1024 * 1024)
            .build(&url)
            .await
            .map_err(|source| Error::Connect {
                url: url.clone(),
                source,
            })?;
        let genesis = h256(
            &client
                .request::<Value, _>("chain_getBlockHash", rpc_params![0])
                .await?,
            "genesis hash",
        )?;
        let version: Value = client
            .request("state_getRuntimeVersion", rpc_params![])
            .await?;
        let spec_version = version["specVersion"]
            .as_u64()
            .ok_or_else(|| Error::Response("runtime version without specVersion".into()))?
            as u32;
        let transaction_version = version["transactionVersion"]
            .as_u64()
            .ok_or_else(|| Error::Response("runtime version without transactionVersion".into()))?
            as u32;
        let properties: Value = client.request("system_properties", rpc_params![]).await?;
        adopt_ss58_prefix(&properties)?;
        Ok(Chain {
            client,
            ctx: ChainContext {
                genesis_hash: genesis,
                spec_version,
                transaction_version,
            },
        })
    }

    /// Calls any JSON-RPC method with positional parameters.
    pub async fn rpc(&self, method: &str, params: Vec<Value>) -> Result<Value> {
        let mut p = jsonrpsee::core::params::ArrayParams::new();
        for v in params {
            p.insert(v).map_err(|e| Error::Response(e.to_string()))?;
        }
        Ok(self.client.request(method, p).await?)
    }

    /// `account_info` of `who` (balance, nonce, keys, settings as JSON).
    pub async fn account_info(&self, who: &AccountId) -> Result<Value> {
        Ok(self
            .client
            .request("account_info", rpc_params![Address::from(*who).to_string()])
            .await?)
    }

    /// The next nonce of `who` (past its transactions in the pool).
    pub async fn next_nonce(&self, who: &AccountId) -> Result<Nonce> {
        Ok(self
            .client
            .request(
                "system_accountNextIndex",
                rpc_params![Address::from(*who).to_string()],
            )
            .await?)
    }

    /// The chain's metadata at its best block (SCALE
    /// `RuntimeMetadataPrefixed`), for [`call::encode_call`] and
    /// [`dispatch_error::describe`].
    pub async fn metadata(&self) -> Result<Vec<u8>> {
        let hex: String = self
            .client
            .request("state_getMetadata", rpc_params![])
            .await?;
        Ok(hex::decode(hex.trim_start_matches("0x"))?)
    }

    /// Nonce and ticket options for `who`: the ticket with nonce 0, or the
    /// next nonce.
    pub async fn sequence(&self, who: &AccountId, ticket: Option<Nonce>) -> Result<TxOptions> {
        Ok(match ticket {
            Some(t) => TxOptions::ticket(t),
            None => TxOptions {
                include_key: false,
                ..TxOptions::nonce(self.next_nonce(who).await?)
            },
        })
    }
}

/// What [`submit`] reports while it follows a transaction.
#[derive(Debug)]
pub enum Progress<'a> {
    /// A status from the node's pool, as the node sent it
    /// (`"ready"`, `{"inBlock": "0x…"}`, `{"finalized": "0x…"}`, …).
    Status(&'a Value),
    /// The transaction is in block `hash` (`number`, if the node said).
    InBlock {
        /// The block's number.
        number: Option<u64>,
        /// The block's hash.
        hash: H256,
    },
}

/// Submits `xt` and follows it until it is in a block (with
/// `wait_finalized`, until that block is final), telling `report` each
/// step. A call that failed in its block is an [`Error::Failed`] naming the
/// error from the chain's metadata (`Tokens.InsufficientBalance: …`).
pub async fn submit<C: codec::Encode>(
    chain: &Chain,
    xt: &qstack_runtime_primitives::UncheckedExtrinsic<C>,
    wait_finalized: bool,
    mut report: impl FnMut(Progress<'_>),
) -> Result<()> {
    let client = &chain.client;
    let hex_xt = format!("0x{}", hex::encode(xt.encode()));
    let mut sub = client
        .subscribe::<Value, _>(
            "author_submitAndWatchExtrinsic",
            rpc_params![hex_xt.clone()],
            "author_unwatchExtrinsic",
        )
        .await
        .map_err(Error::Refused)?;
    while let Some(status) = sub.next().await {
        let status = status?;
        report(Progress::Status(&status));
        if let Some(block) = status.get("inBlock") {
            let block_hash = h256(block, "inBlock")?;
            let block: Value = client
                .request("chain_getBlock", rpc_params![format!("{block_hash}")])
                .await?;
            let number = block["block"]["header"]["number"]
                .as_str()
                .and_then(|n| u64::from_str_radix(n.trim_start_matches("0x"), 16).ok());
            report(Progress::InBlock {
                number,
                hash: block_hash,
            });
            if let Some(reason) = failed_in_block(client, block_hash, &block, &hex_xt).await? {
                return Err(Error::Failed(reason));
            }
            if !wait_finalized {
                return Ok(());
            }
        }
        if status.get("finalized").is_some() {
            return Ok(());
        }
        if matches!(status.as_str(), Some("dropped" | "invalid" | "usurped"))
            || status.get("usurped").is_some()
        {
            return Err(Error::Ended(status));
        }
    }
    Err(Error::Closed)
}

/// Why our extrinsic (`hex_xt`) failed in `block`, if it did: its
/// `ExtrinsicFailed` event (or a sudo call's failed inner call), a module
/// error named through the chain's metadata (`Tokens.InsufficientBalance: …`).
async fn failed_in_block(
    client: &jsonrpsee_ws_client::WsClient,
    hash: H256,
    block: &Value,
    hex_xt: &str,
) -> Result<Option<String>> {
    let Some(index) = block["block"]["extrinsics"]
        .as_array()
        .and_then(|xts| xts.iter().position(|x| x.as_str() == Some(hex_xt)))
    else {
        return Err(Error::NotInBlock(hash));
    };
    let key = format!(
        "0x{}",
        hex::encode(qstack_runtime_primitives::storage::item_prefix(
            "System", "Events"
        ))
    );
    let raw: Option<String> = client
        .request("state_getStorage", rpc_params![key, format!("{hash}")])
        .await?;
    let Some(raw) = raw else { return Ok(None) };
    let bytes = hex::decode(raw.trim_start_matches("0x"))?;
    let metadata: String = client
        .request("state_getMetadata", rpc_params![format!("{hash}")])
        .await?;
    let metadata = hex::decode(metadata.trim_start_matches("0x"))?;
    let records = events::known_events(&bytes, &metadata)?;
    let failure = records
        .into_iter()
        .find_map(|(phase, event)| match (phase, event) {
            (
                qstack_runtime::system::Phase::ApplyExtrinsic(i),
                qstack_runtime::RuntimeEvent::System(
                    qstack_runtime::system::Event::ExtrinsicFailed { dispatch_error, .. },
                ),
            ) if i as usize == index => Some(dispatch_error),
            // A sudo call succeeds whatever its inner call did; the inner
            // call's failure is the caller's failure.
            (
                qstack_runtime::system::Phase::ApplyExtrinsic(i),
                qstack_runtime::RuntimeEvent::Sudo(qstack_runtime::sudo::Event::Sudid {
                    sudo_result: Err(dispatch_error),
                }),
            ) if i as usize == index => Some(dispatch_error),
            _ => None,
        });
    let Some(error) = failure else {
        return Ok(None);
    };
    Ok(Some(dispatch_error::describe(&error, &metadata)))
}
