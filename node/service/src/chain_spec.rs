//! Chain specs in Substrate's JSON shape: `name`, `id`, `chainType`,
//! `bootNodes`, `properties`, `consensus` and `genesis` (either
//! `runtimeGenesis {code?, patch}` or `raw {top}`). A spec without `code` runs
//! the runtime built into this binary; `build-spec --raw` freezes everything.

use anyhow::{anyhow, bail, Context, Result};
use qstack_client::GenesisSource;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A chain spec.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChainSpec {
    /// Human-readable chain name.
    pub name: String,
    /// Short id; names the database folder.
    pub id: String,
    /// `Development`, `Local` or `Live`.
    pub chain_type: ChainType,
    /// Multiaddresses of nodes to connect to.
    #[serde(default)]
    pub boot_nodes: Vec<String>,
    /// Token symbol, decimals, address prefix, `ss58Format` (served by
    /// `system_properties`).
    #[serde(default)]
    pub properties: serde_json::Map<String, serde_json::Value>,
    /// The consensus engine and its parameters.
    pub consensus: ConsensusSpec,
    /// Genesis state.
    pub genesis: GenesisSpec,
}

/// Kind of chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChainType {
    /// A single-node development chain.
    Development,
    /// A local multi-node testnet.
    Local,
    /// A live network.
    Live,
}

/// Consensus configuration, tagged by `engine`. Each engine's section is
/// its own module's type (`qstack_consensus::dev::DevSpec`,
/// `qstack_consensus::bft::BftSpec`), parsed and checked beside the engine.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "engine", rename_all = "camelCase")]
pub enum ConsensusSpec {
    /// One authoring node.
    Dev(DevSpec),
    /// BFT-DPoS: Tendermint rounds among a validator list.
    Bft(BftSpec),
}

pub use qstack_consensus::bft::{BftSpec, BftTimeouts, BftValidatorSpec};
pub use qstack_consensus::dev::DevSpec;

impl ConsensusSpec {
    /// The BFT validator set, for a `bft` spec.
    pub fn bft_validators(&self) -> Result<Option<qstack_consensus::bft::ValidatorSet>> {
        let ConsensusSpec::Bft(bft) = self else {
            return Ok(None);
        };
        bft.validator_set()
            .map(Some)
            .map_err(|e| anyhow::anyhow!("{e}"))
    }
}

/// Genesis: built by the runtime from a patch, or raw storage.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub enum GenesisSpec {
    /// Built by `GenesisBuilder_build_state`.
    #[serde(rename_all = "camelCase")]
    RuntimeGenesis {
        /// Runtime code as 0x-hex; absent = this binary's runtime.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        /// Genesis config JSON.
        patch: serde_json::Value,
    },
    /// Exact storage: 0x-hex keys to 0x-hex values.
    Raw {
        /// Main trie.
        top: BTreeMap<String, String>,
    },
}

/// The secret URIs and schemes of the validators of the bundled `local-bft`
/// spec (`chain-specs/local-bft.json`), in the spec's order: well-known dev
/// keys, for local testnets, benchmarks and tests.
pub const LOCAL_BFT_KEYS: [(&str, qstack_core::KeyScheme); 4] = [
    ("//Alice", qstack_core::KeyScheme::Hybrid),
    ("//Bob", qstack_core::KeyScheme::Hybrid),
    ("//Charlie", qstack_core::KeyScheme::Sr25519),
    ("//Dave", qstack_core::KeyScheme::Falcon512),
];

const DEV: &str = include_str!("../../../chain-specs/dev.json");
const LOCAL: &str = include_str!("../../../chain-specs/local.json");
const LOCAL_BFT: &str = include_str!("../../../chain-specs/local-bft.json");

/// `properties.ss58Format`: absent means qstack's default; otherwise an
/// integer from 0 to 16383.
fn ss58_format(properties: Option<&serde_json::Value>) -> Result<u16> {
    let Some(v) = properties.and_then(|p| p.get("ss58Format")) else {
        return Ok(qstack_core::DEFAULT_SS58_PREFIX);
    };
    v.as_u64()
        .and_then(|n| u16::try_from(n).ok())
        .filter(|n| *n <= qstack_core::address::MAX_SS58_PREFIX)
        .ok_or_else(|| {
            anyhow!("properties.ss58Format: {v} is not an SS58 prefix (an integer from 0 to 16383)")
        })
}

fn decode_hex(field: &str, s: &str) -> Result<Vec<u8>> {
    let raw = s
        .strip_prefix("0x")
        .ok_or_else(|| anyhow!("{field}: expected 0x-prefixed hex"))?;
    hex::decode(raw).map_err(|e| anyhow!("{field}: invalid hex ({e})"))
}

impl ChainSpec {
    /// Parses and validates JSON; errors name the field that is wrong.
    ///
    /// Makes the spec's `properties.ss58Format` this process's SS58 prefix
    /// first ([`qstack_core::set_ss58_prefix`]), so the addresses in the spec
    /// and every address the node reads after it (RPC parameters) take the
    /// chain's SS58 form beside the `q…` one.
    pub fn from_json(json: &str) -> Result<Self> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| anyhow!("invalid chain spec: {e}"))?;
        let prefix = ss58_format(value.get("properties"))?;
        qstack_core::set_ss58_prefix(prefix).map_err(|e| anyhow!("properties.ss58Format: {e}"))?;
        let spec: ChainSpec =
            serde_json::from_value(value).map_err(|e| anyhow!("invalid chain spec: {e}"))?;
        spec.validate()?;
        Ok(spec)
    }

    /// The chain's SS58 prefix (`properties.ss58Format`, default
    /// [`qstack_core::DEFAULT_SS58_PREFIX`]).
    pub fn ss58_prefix(&self) -> u16 {
        ss58_format(Some(&serde_json::Value::Object(self.properties.clone())))
            .unwrap_or(qstack_core::DEFAULT_SS58_PREFIX)
    }

    /// `dev`, `local`, `local-bft`, or a path to a JSON file.
    pub fn load(chain: &str) -> Result<Self> {
        match chain {
            "dev" => Self::from_json(DEV),
            "local" => Self::from_json(LOCAL),
            "local-bft" => Self::from_json(LOCAL_BFT),
            path => {
                let json = std::fs::read_to_string(Path::new(path)).with_context(|| {
                    format!("reading chain spec {path} (use dev, local or a JSON file)")
                })?;
                Self::from_json(&json).with_context(|| format!("in {path}"))
            }
        }
    }

    fn validate(&self) -> Result<()> {
        if self.id.is_empty()
            || !self
                .id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            bail!("id: must be non-empty and use only letters, digits, '-' and '_' (it names a folder)");
        }
        if self.name.trim().is_empty() {
            bail!("name: must not be empty");
        }
        for (i, b) in self.boot_nodes.iter().enumerate() {
            if !b.starts_with('/') {
                bail!("bootNodes[{i}]: {b:?} is not a multiaddress (e.g. /ip4/127.0.0.1/tcp/30333/p2p/12D3…)");
            }
        }
        self.consensus.bft_validators()?;
        if let ConsensusSpec::Dev(dev) = &self.consensus {
            dev.authority_keys().map_err(|e| anyhow!("{e}"))?;
            if self.chain_type == ChainType::Live {
                bail!("chainType: a Live chain cannot run the dev engine (its authorities alone decide every block and nothing is final by vote); use \"engine\": \"bft\"");
            }
        }
        match &self.genesis {
            GenesisSpec::RuntimeGenesis {
                code: Some(code), ..
            } => {
                decode_hex("genesis.runtimeGenesis.code", code)?;
            }
            GenesisSpec::RuntimeGenesis { patch, .. } if !patch.is_object() => {
                bail!("genesis.runtimeGenesis.patch: must be a JSON object")
            }
            GenesisSpec::Raw { top } => {
                for (k, v) in top {
                    decode_hex(&format!("genesis.raw.top key {k}"), k)?;
                    decode_hex(&format!("genesis.raw.top[{k}]"), v)?;
                }
                if !top.contains_key("0x3a636f6465") {
                    bail!("genesis.raw.top: no :code (0x3a636f6465) entry");
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The genesis source for the client.
    pub fn genesis_source(&self) -> Result<GenesisSource> {
        Ok(match &self.genesis {
            GenesisSpec::RuntimeGenesis { code, patch } => {
                let mut patch = patch.clone();
                // The staking pallet's genesis validators (the set the
                // engine starts with, bonded from their owners' balances):
                // the spec's validators, unless the patch names them (or
                // pins other code, which may not know the field).
                if let (ConsensusSpec::Bft(BftSpec { validators, .. }), None, Some(obj)) =
                    (&self.consensus, code, patch.as_object_mut())
                {
                    if let Some(staking) = obj
                        .entry("staking")
                        .or_insert_with(|| serde_json::json!({}))
                        .as_object_mut()
                    {
                        staking
                            .entry("validators")
                            .or_insert_with(|| serde_json::json!(validators));
                    }
                }
                // A block's weight is a third of the block time at most
                // (the runtime caps it), unless the patch says otherwise.
                let block_time_ms = match &self.consensus {
                    ConsensusSpec::Bft(b) => b.block_time_ms,
                    ConsensusSpec::Dev(d) => d.block_time_ms,
                };
                if let (None, Some(obj)) = (code, patch.as_object_mut()) {
                    if let Some(system) = obj
                        .entry("system")
                        .or_insert_with(|| serde_json::json!({}))
                        .as_object_mut()
                    {
                        system
                            .entry("blockTimeMs")
                            .or_insert_with(|| serde_json::json!(block_time_ms));
                        // The prefix the patch's SS58 addresses are in.
                        system
                            .entry("ss58Format")
                            .or_insert_with(|| serde_json::json!(self.ss58_prefix()));
                    }
                }
                GenesisSource::Runtime {
                    code: match code {
                        Some(hex) => decode_hex("genesis.runtimeGenesis.code", hex)?,
                        None => qstack_runtime::WASM_BINARY.to_vec(),
                    },
                    patch,
                }
            }
            GenesisSpec::Raw { top } => {
                let mut map = BTreeMap::new();
                for (k, v) in top {
                    map.insert(
                        decode_hex("genesis.raw.top", k)?,
                        decode_hex("genesis.raw.top", v)?,
                    );
                }
                GenesisSource::Raw(map)
            }
        })
    }

    /// The spec with the runtime code filled in; with `raw`, genesis as storage.
    pub fn to_json(&self, raw: bool, executor: &qstack_executor::Executor) -> Result<String> {
        let mut spec = self.clone();
        let source = self.genesis_source()?;
        spec.genesis = if raw {
            let storage = qstack_client::genesis_storage(executor, &source)?;
            GenesisSpec::Raw {
                top: storage
                    .into_iter()
                    .map(|(k, v)| {
                        (
                            format!("0x{}", hex::encode(k)),
                            format!("0x{}", hex::encode(v)),
                        )
                    })
                    .collect(),
            }
        } else {
            match source {
                GenesisSource::Runtime { code, patch } => GenesisSpec::RuntimeGenesis {
                    code: Some(format!("0x{}", hex::encode(code))),
                    patch,
                },
                GenesisSource::Raw(_) => self.genesis.clone(),
            }
        };
        Ok(serde_json::to_string_pretty(&spec)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_specs_parse() {
        for c in ["dev", "local"] {
            let s = ChainSpec::load(c).unwrap();
            assert_eq!(s.id, c);
        }
    }

    /// A checker: `base` changed by `mutate` must be refused with an error
    /// containing `needle`.
    fn refused_with(base: &str) -> impl Fn(&dyn Fn(&mut serde_json::Value), &str) {
        let good: serde_json::Value = serde_json::from_str(base).unwrap();
        move |mutate, needle| {
            let mut v = good.clone();
            mutate(&mut v);
            let e = format!("{:#}", ChainSpec::from_json(&v.to_string()).unwrap_err());
            assert!(e.contains(needle), "{needle:?} not in {e:?}");
        }
    }

    #[test]
    fn local_bft_has_four_validators_in_three_schemes() {
        let s = ChainSpec::load("local-bft").unwrap();
        assert_eq!(s.id, "local_bft");
        let set = s.consensus.bft_validators().unwrap().unwrap();
        assert_eq!((set.len(), set.total_power()), (4, 4));
        assert!(ChainSpec::load("dev")
            .unwrap()
            .consensus
            .bft_validators()
            .unwrap()
            .is_none());
    }

    #[test]
    fn a_bft_genesis_gives_the_staking_pallet_its_validators() {
        let s = ChainSpec::load("local-bft").unwrap();
        let GenesisSource::Runtime { patch, .. } = s.genesis_source().unwrap() else {
            panic!("local-bft is built by the runtime");
        };
        let v = &patch["staking"]["validators"];
        assert_eq!(v.as_array().map(Vec::len), Some(4), "{patch}");
        assert_eq!(v[3]["power"], 1);
        // The runtime accepts it: the genesis builds and stores the set.
        let exec = qstack_executor::Executor::new(Default::default()).unwrap();
        let source = s.genesis_source().unwrap();
        let storage = qstack_client::genesis_storage(&exec, &source).unwrap();
        let dev = ChainSpec::load("dev").unwrap().genesis_source().unwrap();
        let dev_storage = qstack_client::genesis_storage(&exec, &dev).unwrap();
        assert!(storage.len() > dev_storage.len(), "the set is stored");
        // Non-BFT specs are left alone.
        let GenesisSource::Runtime { patch, .. } = dev else {
            panic!("dev is built by the runtime");
        };
        assert!(patch.get("staking").is_none());
    }

    #[test]
    fn every_runtime_genesis_caps_block_weight_by_the_block_time() {
        let exec = qstack_executor::Executor::new(Default::default()).unwrap();
        for (name, ms) in [("dev", 1000), ("local", 2000), ("local-bft", 1000)] {
            let s = ChainSpec::load(name).unwrap();
            let source = s.genesis_source().unwrap();
            let GenesisSource::Runtime { patch, .. } = &source else {
                panic!("{name} is built by the runtime");
            };
            assert_eq!(patch["system"]["blockTimeMs"], ms, "{name}: {patch}");
            // The runtime stores the limit: a third of the block time.
            let storage = qstack_client::genesis_storage(&exec, &source).unwrap();
            let key = qstack_runtime_primitives::storage::item_prefix("System", "BlockWeightLimit");
            let stored = storage.get(key.as_slice()).expect("limit stored");
            assert_eq!(
                <u64 as codec::Decode>::decode(&mut &stored[..]).unwrap(),
                qstack_runtime::system::weight_limit_for(ms)
            );
        }
    }

    #[test]
    fn dev_engine_specs_name_their_authorities_and_are_never_live() {
        let check = refused_with(LOCAL);
        check(
            &|v| v["consensus"]["authorities"] = serde_json::json!([]),
            "consensus.authorities: a dev-engine chain must name",
        );
        check(
            &|v| v["consensus"]["authorities"] = serde_json::json!(["0x1234"]),
            "consensus.authorities[0]: not a public key",
        );
        check(
            &|v| v["consensus"]["authorities"] = serde_json::json!(["abc"]),
            "consensus.authorities[0]: expected 0x-prefixed hex",
        );
        check(
            &|v| v["chainType"] = "Live".into(),
            "a Live chain cannot run the dev engine",
        );
        // A Live BFT chain is fine.
        let mut bft: serde_json::Value = serde_json::from_str(LOCAL_BFT).unwrap();
        bft["chainType"] = "Live".into();
        ChainSpec::from_json(&bft.to_string()).expect("a live BFT chain");
        // The bundled dev specs name //Alice.
        let alice = qstack_core::Pair::from_suri(qstack_core::KeyScheme::Sr25519, "//Alice")
            .unwrap()
            .public();
        for c in ["dev", "local"] {
            let ConsensusSpec::Dev(d) = ChainSpec::load(c).unwrap().consensus else {
                panic!("{c} is a dev-engine spec")
            };
            assert_eq!(d.authority_keys().unwrap(), vec![alice.clone()]);
        }
    }

    #[test]
    fn bad_bft_validators_name_the_field() {
        let check = refused_with(LOCAL_BFT);
        check(
            &|v| v["consensus"]["validators"][1]["publicKey"] = "0x1234".into(),
            "consensus.validators[1].publicKey: not a public key",
        );
        check(
            &|v| v["consensus"]["validators"][2]["publicKey"] = "zz".into(),
            "consensus.validators[2].publicKey",
        );
        check(
            &|v| v["consensus"]["validators"][0]["power"] = 0.into(),
            "ZeroPower",
        );
        check(
            &|v| {
                let first = v["consensus"]["validators"][0].clone();
                v["consensus"]["validators"][3] = first;
            },
            "DuplicateKey",
        );
        check(
            &|v| v["consensus"]["validators"] = serde_json::json!([]),
            "Empty",
        );
        check(
            &|v| v["consensus"]["timeouts"]["proposeMillis"] = 1.into(),
            "unknown field `proposeMillis`",
        );
    }

    #[test]
    fn malformed_specs_name_the_field() {
        let check = refused_with(DEV);
        check(
            &|v| v["chainType"] = "Weird".into(),
            "unknown variant `Weird`",
        );
        check(
            &|v| v["consensus"]["engine"] = "nope".into(),
            "unknown variant `nope`",
        );
        check(&|v| v["id"] = "has space".into(), "id:");
        check(
            &|v| v["bootNodes"] = serde_json::json!(["localhost:1"]),
            "bootNodes[0]",
        );
        check(
            &|v| v["genesis"] = serde_json::json!({"raw": {"top": {"0x00": "zz"}}}),
            "genesis.raw.top",
        );
        check(
            &|v| v["genesis"]["runtimeGenesis"]["code"] = "0xzz".into(),
            "genesis.runtimeGenesis.code",
        );
        check(
            &|v| {
                v.as_object_mut().unwrap().remove("consensus");
            },
            "missing field `consensus`",
        );
        check(&|v| v["extra"] = 1.into(), "unknown field `extra`");
        check(
            &|v| v["properties"]["ss58Format"] = 16_384.into(),
            "properties.ss58Format: 16384 is not an SS58 prefix",
        );
        check(
            &|v| v["properties"]["ss58Format"] = "42".into(),
            "properties.ss58Format: \"42\" is not an SS58 prefix",
        );
    }

    #[test]
    fn bundled_specs_use_qstacks_ss58_prefix() {
        for c in ["dev", "local", "local-bft"] {
            assert_eq!(
                ChainSpec::load(c).unwrap().ss58_prefix(),
                qstack_core::DEFAULT_SS58_PREFIX
            );
        }
    }
}
