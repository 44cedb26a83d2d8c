//! Genesis state from JSON (`GenesisBuilder_build_state`), shaped like a
//! Substrate chain spec's `runtimeGenesis.patch`:
//! `{"balances": {"balances": [["q…address", "1000000000000"], …]}}`.
//! Amounts may be JSON numbers or decimal strings (u128 exceeds JSON numbers).

use crate::{balances, system, VERSION};
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
    /// System (no fields yet; accepted for shape compatibility).
    #[serde(default)]
    pub system: SystemConfig,
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
        let who = addr
            .parse::<Address>()
            .map_err(|e| format!("balances.balances[{i}]: {e}"))?
            .account_id();
        if amount.0 < balances::EXISTENTIAL_DEPOSIT {
            return Err(format!(
                "balances.balances[{i}]: {} is below the existential deposit {}",
                amount.0,
                balances::EXISTENTIAL_DEPOSIT
            ));
        }
        balances::endow(&who, amount.0).map_err(|e| format!("balances.balances[{i}]: {e:?}"))?;
    }
    // Genesis emits no events.
    system::EventRecord::clear(None);
    system::EventCount::kill();
    Ok(())
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
            assert_eq!(balances::free_balance(&AccountId([3; 32])), u128::MAX);
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
}
