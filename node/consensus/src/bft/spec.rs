//! The `bft` engine's section of a chain spec (`"consensus": {"engine":
//! "bft", …}`): parsed and checked here, beside the engine it configures.

use super::{BftConfig, Validator, ValidatorSet, ValidatorSetError};
use serde::{Deserialize, Serialize};

/// BFT-DPoS: Tendermint rounds among a validator list; blocks are final
/// when committed (the commit certificate is the justification).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BftSpec {
    /// The validators: consensus public keys (0x-hex, SCALE, any scheme) and voting power.
    pub validators: Vec<BftValidatorSpec>,
    /// Least time between blocks (ms); the proposer waits this long after
    /// its parent before building (CometBFT's `timeout_commit`).
    #[serde(default = "default_block_time")]
    pub block_time_ms: u64,
    /// Round timeouts.
    #[serde(default)]
    pub timeouts: BftTimeouts,
    /// How far a proposed block's timestamp may be ahead of a validator's
    /// clock (ms) for it to prevote the block: bounds how far a proposer
    /// can push the chain's time into the future.
    #[serde(default = "default_max_clock_drift")]
    pub max_clock_drift_ms: u64,
}

fn default_block_time() -> u64 {
    1000
}

fn default_max_clock_drift() -> u64 {
    5000
}

/// One BFT validator in a chain spec.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct BftValidatorSpec {
    /// Consensus key as `qstack key inspect --output json` prints `publicKey`.
    pub public_key: String,
    /// Voting power (> 0).
    pub power: u64,
}

/// Tendermint timeouts (ms); round r waits `base + r × incrementMs`.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields, default)]
pub struct BftTimeouts {
    /// Wait for a proposal.
    pub propose_ms: u64,
    /// Wait after a prevote quorum for anything.
    pub prevote_ms: u64,
    /// Wait after a precommit quorum for anything.
    pub precommit_ms: u64,
    /// Added per round.
    pub increment_ms: u64,
}

impl BftTimeouts {
    /// The BFT core's configuration with these timeouts.
    pub fn config(&self) -> BftConfig {
        BftConfig {
            propose: self.propose_ms,
            prevote: self.prevote_ms,
            precommit: self.precommit_ms,
            increment: self.increment_ms,
            ..Default::default()
        }
    }
}

impl Default for BftTimeouts {
    fn default() -> Self {
        BftTimeouts {
            propose_ms: 3000,
            prevote_ms: 1000,
            precommit_ms: 1000,
            increment_ms: 500,
        }
    }
}

/// Why a `bft` section is refused: the field, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BftSpecError {
    /// A validator's key is not 0x-hex.
    #[error("consensus.validators[{index}].publicKey: {reason}")]
    BadKeyHex {
        /// The validator's position.
        index: usize,
        /// What is wrong.
        reason: String,
    },
    /// A validator's key does not decode as a public key.
    #[error("consensus.validators[{index}].publicKey: not a public key: {reason}")]
    NotAKey {
        /// The validator's position.
        index: usize,
        /// The decoder's message.
        reason: String,
    },
    /// The list breaks a rule of validator sets.
    #[error("consensus.validators: {0:?}")]
    Set(ValidatorSetError),
}

impl BftSpec {
    /// The validator set the section describes, in its order.
    pub fn validator_set(&self) -> Result<ValidatorSet, BftSpecError> {
        let mut list = Vec::with_capacity(self.validators.len());
        for (index, v) in self.validators.iter().enumerate() {
            let raw = v
                .public_key
                .strip_prefix("0x")
                .ok_or_else(|| BftSpecError::BadKeyHex {
                    index,
                    reason: "expected 0x-prefixed hex".into(),
                })?;
            let bytes = hex::decode(raw).map_err(|e| BftSpecError::BadKeyHex {
                index,
                reason: format!("invalid hex ({e})"),
            })?;
            let public = <qstack_core::PublicKey as codec::DecodeAll>::decode_all(&mut &bytes[..])
                .map_err(|e| BftSpecError::NotAKey {
                    index,
                    reason: e.to_string(),
                })?;
            list.push(Validator {
                public,
                power: v.power,
            });
        }
        ValidatorSet::new(list).map_err(BftSpecError::Set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use codec::Encode;

    fn key(n: u8) -> String {
        format!(
            "0x{}",
            hex::encode(qstack_core::PublicKey::Sr25519([n; 32]).encode())
        )
    }

    #[test]
    fn a_section_parses_with_defaults_and_names_bad_fields() {
        let json = format!(
            r#"{{"validators":[{{"publicKey":"{}","power":2}}]}}"#,
            key(1)
        );
        let spec: BftSpec = serde_json::from_str(&json).unwrap();
        assert_eq!((spec.block_time_ms, spec.timeouts.propose_ms), (1000, 3000));
        assert_eq!(spec.validator_set().unwrap().len(), 1);
        let bad = |validators: String| {
            let json = format!(r#"{{"validators":{validators}}}"#);
            let spec: BftSpec = serde_json::from_str(&json).unwrap();
            spec.validator_set().unwrap_err().to_string()
        };
        assert_eq!(
            bad(r#"[{"publicKey":"00","power":1}]"#.into()),
            "consensus.validators[0].publicKey: expected 0x-prefixed hex"
        );
        assert!(bad(format!(
            r#"[{{"publicKey":"{}","power":1}},{{"publicKey":"0x00","power":1}}]"#,
            key(1)
        ))
        .starts_with("consensus.validators[1].publicKey: not a public key"));
        assert_eq!(bad("[]".into()), "consensus.validators: Empty");
        let e = serde_json::from_str::<BftSpec>(r#"{"validators":[],"blockTime":1}"#).unwrap_err();
        assert!(e.to_string().contains("unknown field `blockTime`"), "{e}");
    }
}
