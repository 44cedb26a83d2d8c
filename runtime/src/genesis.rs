//! Genesis state from JSON (`GenesisBuilder_build_state`), shaped like a
//! Substrate chain spec's `runtimeGenesis.patch`:
//!
//! ```json
//! {"balances": {"balances": [["q…address", "1000000000000"], …]},
//!  "tokens": {"authorFeePercent": 20, "treasury": "q…",
//!             "issued": [{"issuer": "q…", "code": "USD", "name": "US Dollar",
//!                         "symbol": "USD", "decimals": 2, "maxSupply": "1000000",
//!                         "holders": [["q…", "5000"]]}]}}
//! ```
//!
//! and, on a BFT chain, the validator set evidence is checked against
//! (until the staking pallet owns it), in the chain spec's
//! `consensus.validators` shape:
//!
//! ```json
//! {"evidence": {"validators": [{"publicKey": "0x…SCALE PublicKey…", "power": 1}, …]}}
//! ```
//!
//! `balances` is the native endowment (Substrate's shape, kept so existing
//! specs and tools work); `tokens` sets the fee split (percent of each fee to
//! the block author, the rest to the treasury; defaults 20 and a keyless
//! treasury account) and pre-issued tokens. Amounts may be JSON numbers or
//! decimal strings (u128 exceeds JSON numbers).

use crate::{evidence, system, tokens, VERSION};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use qstack_core::{Address, Balance};
use serde::de::{Deserializer, Visitor};
use serde::Deserialize;

/// Named presets.
pub const PRESETS: &[&str] = &["empty"];

/// Genesis configuration.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct GenesisConfig {
    /// Native balances.
    #[serde(default)]
    pub balances: BalancesConfig,
    /// Fee split and pre-issued tokens.
    #[serde(default)]
    pub tokens: TokensConfig,
    /// System (no fields yet; accepted for shape compatibility).
    #[serde(default)]
    pub system: SystemConfig,
    /// The BFT validator set for double-sign evidence (empty without BFT).
    #[serde(default)]
    pub evidence: EvidenceConfig,
}

/// Evidence genesis: the BFT validator set, exactly the chain spec's
/// `consensus.validators` (same order: the index is the validator's).
/// Staking will replace it.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct EvidenceConfig {
    /// The validators, by index.
    #[serde(default)]
    pub validators: Vec<ValidatorConfig>,
}

/// One BFT validator.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValidatorConfig {
    /// Consensus key: 0x-hex of the SCALE `PublicKey` (as `qstack key
    /// inspect --output json` prints `publicKey`).
    pub public_key: String,
    /// Voting power (> 0).
    pub power: u64,
}

/// System genesis.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SystemConfig {}

/// Balances genesis.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct BalancesConfig {
    /// `(address, amount)` endowments.
    #[serde(default)]
    pub balances: Vec<(String, Amount)>,
}

/// Tokens genesis.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TokensConfig {
    /// Percent (0..=100) of each fee paid to the block author.
    #[serde(default)]
    pub author_fee_percent: Option<u8>,
    /// The treasury (community pool) address.
    #[serde(default)]
    pub treasury: Option<String>,
    /// Tokens that exist from genesis.
    #[serde(default)]
    pub issued: Vec<IssuedConfig>,
}

/// A token issued at genesis.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IssuedConfig {
    /// Issuer address.
    pub issuer: String,
    /// Currency code (3 characters or 40 hex characters).
    pub code: String,
    /// Full name.
    pub name: String,
    /// Symbol.
    pub symbol: String,
    /// Decimals.
    pub decimals: u8,
    /// Supply cap.
    #[serde(default)]
    pub max_supply: Option<Amount>,
    /// `(address, amount)` minted at genesis.
    #[serde(default)]
    pub holders: Vec<(String, Amount)>,
}

/// A u128 from a JSON number or decimal string.
pub struct Amount(pub Balance);

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Amount;
            fn expecting(&self, f: &mut core::fmt::Formatter) -> core::fmt::Result {
                f.write_str("an amount as a non-negative integer or decimal string")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Amount, E> {
                Ok(Amount(Balance::from(v)))
            }
            fn visit_u128<E: serde::de::Error>(self, v: u128) -> Result<Amount, E> {
                Ok(Amount(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Amount, E> {
                v.parse::<Balance>()
                    .map(Amount)
                    .map_err(|_| E::custom(format!("invalid amount {v:?}")))
            }
        }
        d.deserialize_any(V)
    }
}

/// Writes the genesis state described by `json`. Errors name the bad field.
pub fn build_state(json: &[u8]) -> Result<(), String> {
    let config: GenesisConfig =
        serde_json::from_slice(json).map_err(|e| format!("invalid genesis config: {e}"))?;
    system::LastRuntimeUpgrade::put(&system::LastRuntimeUpgradeInfo {
        spec_version: VERSION.spec_version,
        spec_name: String::from(VERSION.spec_name.as_ref()),
    });
    for (i, (addr, amount)) in config.balances.balances.iter().enumerate() {
        let who = account(addr, &format!("balances.balances[{i}]"))?;
        if amount.0 < tokens::EXISTENTIAL_DEPOSIT {
            return Err(format!(
                "balances.balances[{i}]: {} is below the existential deposit {}",
                amount.0,
                tokens::EXISTENTIAL_DEPOSIT
            ));
        }
        tokens::endow(&who, amount.0).map_err(|e| format!("balances.balances[{i}]: {e:?}"))?;
    }
    build_tokens(&config.tokens)?;
    build_evidence(&config.evidence)?;
    // Genesis emits no events.
    system::EventRecord::clear(None);
    system::EventCount::kill();
    Ok(())
}

fn account(addr: &str, field: &str) -> Result<qstack_core::AccountId, String> {
    addr.parse::<Address>()
        .map(|a| a.account_id())
        .map_err(|e| format!("{field}: {e}"))
}

fn build_tokens(config: &TokensConfig) -> Result<(), String> {
    let mut fees = tokens::FeeConfig::default();
    if let Some(p) = config.author_fee_percent {
        if p > 100 {
            return Err(format!(
                "tokens.authorFeePercent: {p} is not a percentage (0 to 100)"
            ));
        }
        fees.author_percent = p;
    }
    if let Some(t) = &config.treasury {
        fees.treasury = account(t, "tokens.treasury")?;
    }
    tokens::FeeSplit::put(&fees);
    for (i, t) in config.issued.iter().enumerate() {
        let field = format!("tokens.issued[{i}]");
        let issuer = account(&t.issuer, &format!("{field}.issuer"))?;
        let code = qstack_runtime_primitives::TokenCode::parse(&t.code)
            .map_err(|e| format!("{field}.code: {e}"))?;
        tokens::genesis_issue(
            &issuer,
            code,
            t.name.as_bytes().to_vec(),
            t.symbol.as_bytes().to_vec(),
            t.decimals,
            t.max_supply.as_ref().map(|m| m.0),
        )
        .map_err(|e| format!("{field}: {e:?}"))?;
        for (j, (addr, amount)) in t.holders.iter().enumerate() {
            let holder_field = format!("{field}.holders[{j}]");
            let who = account(addr, &holder_field)?;
            tokens::genesis_mint(&issuer, &code, &who, amount.0)
                .map_err(|e| format!("{holder_field}: {e:?}"))?;
        }
    }
    Ok(())
}

fn build_evidence(config: &EvidenceConfig) -> Result<(), String> {
    let mut validators = Vec::with_capacity(config.validators.len());
    for (i, v) in config.validators.iter().enumerate() {
        let field = format!("evidence.validators[{i}].publicKey");
        let hex_str = v
            .public_key
            .strip_prefix("0x")
            .ok_or_else(|| format!("{field}: expected 0x-hex"))?;
        let bytes = hex::decode(hex_str).map_err(|e| format!("{field}: {e}"))?;
        let public = <qstack_core::PublicKey as codec::DecodeAll>::decode_all(&mut &bytes[..])
            .map_err(|_| format!("{field}: not a SCALE public key"))?;
        validators.push((public, v.power));
    }
    evidence::build_genesis(&evidence::GenesisConfig { validators }).map_err(|e| match e {
        evidence::GenesisError::ZeroPower(i) => {
            format!("evidence.validators[{i}].power: must be > 0")
        }
        evidence::GenesisError::DuplicateKey(i) => {
            format!("evidence.validators[{i}].publicKey: listed twice")
        }
        evidence::GenesisError::TooManyValidators => format!(
            "evidence.validators: more than {} validators",
            evidence::MAX_VALIDATORS
        ),
        evidence::GenesisError::TooMuchPower => {
            "evidence.validators: total power must stay below 2^60".into()
        }
    })
}

/// The JSON of a named preset (`None` = the default).
pub fn preset(id: Option<&str>) -> Option<Vec<u8>> {
    match id {
        None | Some("empty") => Some(br#"{"balances":{"balances":[]}}"#.to_vec()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qstack_core::AccountId;
    use qstack_io::TestExternalities;

    #[test]
    fn builds_and_reports_bad_fields() {
        let a = Address::from(AccountId([3; 32])).to_string();
        let mut t = TestExternalities::new();
        t.execute_with(|| {
            let json = format!(r#"{{"balances":{{"balances":[["{a}", "340282366920938463463374607431768211455"]]}}}}"#);
            build_state(json.as_bytes()).unwrap();
            assert_eq!(tokens::free_balance(&AccountId([3; 32])), u128::MAX);
            crate::try_state().unwrap();
        });
        let mut t = TestExternalities::new();
        t.execute_with(|| {
            let e = build_state(br#"{"balances":{"balances":[["qqq", 5000]]}}"#).unwrap_err();
            assert!(e.contains("balances.balances[0]"), "{e}");
            let e = build_state(br#"{"balancez":{}}"#).unwrap_err();
            assert!(e.contains("unknown field"), "{e}");
            let e =
                build_state(format!(r#"{{"balances":{{"balances":[["{a}", 5]]}}}}"#).as_bytes())
                    .unwrap_err();
            assert!(e.contains("existential"), "{e}");
        });
    }

    #[test]
    fn tokens_section_sets_fee_split_and_pre_issues() {
        let a = Address::from(AccountId([3; 32])).to_string();
        let b = Address::from(AccountId([4; 32])).to_string();
        let mut t = TestExternalities::new();
        t.execute_with(|| {
            let json = format!(
                r#"{{"tokens":{{"authorFeePercent":50,"treasury":"{b}","issued":[
                {{"issuer":"{a}","code":"USD","name":"US Dollar","symbol":"USD","decimals":2,
                  "maxSupply":"1000","holders":[["{a}","400"],["{b}",600]]}}]}}}}"#
            );
            build_state(json.as_bytes()).unwrap();
            assert_eq!(
                tokens::FeeSplit::get(),
                Some(tokens::FeeConfig {
                    author_percent: 50,
                    treasury: AccountId([4; 32])
                })
            );
            let usd = qstack_runtime_primitives::TokenCode::parse("USD").unwrap();
            let details = tokens::token(&AccountId([3; 32]), &usd).unwrap();
            assert_eq!((details.supply, details.holders), (1000, 2));
            assert_eq!(system::EventCount::get(), None, "genesis emits no events");
            crate::try_state().unwrap();
        });
        let bad = |tokens: String, needle: &str| {
            let mut t = TestExternalities::new();
            t.execute_with(|| {
                let e = build_state(format!(r#"{{"tokens":{tokens}}}"#).as_bytes()).unwrap_err();
                assert!(e.contains(needle), "{needle:?} not in {e:?}");
            });
        };
        bad(
            r#"{"authorFeePercent":101}"#.into(),
            "tokens.authorFeePercent",
        );
        bad(r#"{"treasury":"q1"}"#.into(), "tokens.treasury");
        bad(r#"{"feeSplit":1}"#.into(), "unknown field");
        let issued = |code: &str, max: &str, holders: &str| {
            format!(
                r#"{{"issued":[{{"issuer":"{a}","code":"{code}","name":"N","symbol":"S","decimals":2{max},"holders":{holders}}}]}}"#
            )
        };
        bad(issued("US", "", "[]"), "tokens.issued[0].code");
        bad(issued("USD", r#","maxSupply":"0""#, "[]"), "BadMaxSupply");
        bad(
            issued("USD", r#","maxSupply":"10""#, &format!(r#"[["{b}","11"]]"#)),
            "tokens.issued[0].holders[0]: ExceedsMaxSupply",
        );
        bad(
            issued("USD", "", r#"[["nope","1"]]"#),
            "tokens.issued[0].holders[0]",
        );
    }
}
