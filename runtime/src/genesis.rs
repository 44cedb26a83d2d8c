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
//! and, on a BFT chain, the staking pallet's validators, parameters and
//! inflation phases (`pallet_staking::genesis`; the node fills
//! `validators` from the chain spec's `consensus.validators` when the patch
//! names none):
//!
//! ```json
//! {"staking": {"validators": [{"publicKey": "0x…SCALE PublicKey…", "power": 1}, …],
//!              "params": {"unbondPeriod": 100}, "inflation": [...]}}
//! ```
//!
//! Each section belongs to a pallet, which owns its typed configuration and
//! its checks (`pallet_tokens::genesis`: `balances` is the native endowment
//! in Substrate's shape, `tokens` the fee split and pre-issued tokens;
//! `pallet_staking::GenesisConfig`); a section no pallet reads is refused.
//! Amounts may be JSON numbers or decimal strings (u128 exceeds JSON numbers).

use crate::{system, AllPallets, VERSION};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Named presets.
pub const PRESETS: &[&str] = &["empty"];

/// Writes the genesis state described by `json`: each pallet's section, in
/// index order (see [`AllPallets::genesis_keys`] for the sections). Errors
/// name the bad field.
pub fn build_state(json: &[u8]) -> Result<(), String> {
    let patch: qstack_support::genesis::Patch =
        serde_json::from_slice(json).map_err(|e| format!("invalid genesis config: {e}"))?;
    system::LastRuntimeUpgrade::put(&system::LastRuntimeUpgradeInfo {
        spec_version: VERSION.spec_version,
        spec_name: String::from(VERSION.spec_name.as_ref()),
    });
    AllPallets::build_genesis(&patch)?;
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
    use crate::tokens;
    use qstack_core::{AccountId, Address};
    use qstack_io::TestExternalities;

    #[test]
    fn builds_and_reports_bad_fields() {
        let a = Address::from(AccountId([3; 32])).to_string();
        let mut t = TestExternalities::new();
        t.execute_with(|| {
            // The largest endowment: all the supply but the treasury's
            // existential deposit, which genesis creates.
            let max = u128::MAX - tokens::EXISTENTIAL_DEPOSIT;
            let json = format!(r#"{{"balances":{{"balances":[["{a}", "{max}"]]}}}}"#);
            build_state(json.as_bytes()).unwrap();
            assert_eq!(tokens::free_balance(&AccountId([3; 32])), max);
            assert_eq!(tokens::total_issuance(), u128::MAX);
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
                r#"{{"balances":{{"balances":[["{a}","2000000000000"]]}},
                "tokens":{{"authorFeePercent":50,"treasury":"{b}","issued":[
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
