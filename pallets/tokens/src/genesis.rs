//! Genesis of the tokens pallet, from the chain spec's patch:
//!
//! ```json
//! {"balances": {"balances": [["q…address", "1000000000000"], …]},
//!  "tokens": {"authorFeePercent": 20, "treasury": "q…",
//!             "issued": [{"issuer": "q…", "code": "USD", "name": "US Dollar",
//!                         "symbol": "USD", "decimals": 2, "maxSupply": "1000000",
//!                         "holders": [["q…", "5000"]]}],
//!             "reserves": {"account": "1000000000000", "owner": "200000000000"}}}
//! ```
//!
//! `reserves` (optional; defaults 1 QS and 0.2 QS, the XRP Ledger's) are the account
//! reserve (existential deposit) and the owner reserve per object; an
//! issuer of genesis tokens must be endowed with its reserve.
//!
//! `balances` is the native endowment (Substrate's shape, kept so existing
//! specs and tools work); `tokens` sets the fee split (percent of each fee to
//! the block author, the rest to the treasury; defaults 20 and a keyless
//! treasury account) and pre-issued tokens. Amounts may be JSON numbers or
//! decimal strings (u128 exceeds JSON numbers).

use crate::{issued, native, FeeConfig, FeeSplit, ReserveConfig, Reserves};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use qstack_support::genesis::{account, Amount};
use qstack_support::GenesisError;
use serde::Deserialize;

/// The pallet's genesis: the patch's `balances` and `tokens` sections.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct GenesisConfig {
    /// Native balances.
    #[serde(default)]
    pub balances: BalancesConfig,
    /// Fee split and pre-issued tokens.
    #[serde(default)]
    pub tokens: TokensConfig,
}

/// Native endowments.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct BalancesConfig {
    /// `(address, amount)` endowments.
    #[serde(default)]
    pub balances: Vec<(String, Amount)>,
}

/// Fee split and pre-issued tokens.
#[derive(Deserialize, Default, Debug, Clone)]
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
    /// The account and owner reserves (defaults: [`Reserves::default`]).
    #[serde(default)]
    pub reserves: Option<ReservesConfig>,
}

/// `tokens.reserves`.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ReservesConfig {
    /// The account reserve (existential deposit): at least 1.
    pub account: Amount,
    /// The owner reserve per object (may be 0).
    pub owner: Amount,
}

/// A token issued at genesis.
#[derive(Deserialize, Debug, Clone)]
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

/// Writes the endowments, the fee split and the pre-issued tokens, with the
/// same checks as the calls. Errors name the field.
pub fn build(config: &GenesisConfig) -> Result<(), GenesisError> {
    let reserves = match &config.tokens.reserves {
        None => Reserves::default(),
        Some(r) => {
            if r.account.0 == 0 {
                return Err(GenesisError::new(
                    "tokens.reserves.account",
                    "the account reserve (existential deposit) must be at least 1",
                ));
            }
            Reserves {
                account: r.account.0,
                owner: r.owner.0,
            }
        }
    };
    ReserveConfig::put(&reserves);
    let ed = reserves.account;
    for (i, (addr, amount)) in config.balances.balances.iter().enumerate() {
        let path = format!("balances.balances[{i}]");
        let who = account(addr, &path)?;
        if amount.0 < ed {
            return Err(GenesisError::new(
                path,
                format!("{} is below the existential deposit {ed}", amount.0),
            ));
        }
        native::endow(&who, amount.0).map_err(|e| GenesisError::from_error(path, &e))?;
    }
    let t = &config.tokens;
    let mut fees = FeeConfig::default();
    if let Some(p) = t.author_fee_percent {
        if p > 100 {
            return Err(GenesisError::new(
                "tokens.authorFeePercent",
                format!("{p} is not a percentage (0 to 100)"),
            ));
        }
        fees.author_percent = p;
    }
    if let Some(treasury) = &t.treasury {
        fees.treasury = account(treasury, "tokens.treasury")?;
    }
    FeeSplit::put(&fees);
    // The treasury exists from genesis (as Substrate's treasury pallet
    // creates its account), so the treasury's share of even the first
    // fees, each below the existential deposit, is kept rather than burned.
    let short = ed.saturating_sub(native::free_balance(&fees.treasury));
    if short > 0 {
        native::endow(&fees.treasury, short)
            .map_err(|e| GenesisError::from_error("tokens.treasury", &e))?;
    }
    for (i, token) in t.issued.iter().enumerate() {
        let path = format!("tokens.issued[{i}]");
        let issuer = account(&token.issuer, &format!("{path}.issuer"))?;
        let code = qstack_runtime_primitives::TokenCode::parse(&token.code)
            .map_err(|e| GenesisError::new(format!("{path}.code"), e.to_string()))?;
        issued::issue(
            &issuer,
            code,
            token.name.as_bytes().to_vec(),
            token.symbol.as_bytes().to_vec(),
            token.decimals,
            token.max_supply.map(|m| m.0),
        )
        .map_err(|e| GenesisError::from_error(path.clone(), &e))?;
        for (j, (addr, amount)) in token.holders.iter().enumerate() {
            let holder = format!("{path}.holders[{j}]");
            let who = account(addr, &holder)?;
            issued::genesis_mint(&issuer, &code, &who, amount.0)
                .map_err(|e| GenesisError::from_error(holder, &e))?;
        }
    }
    for (who, _) in pallet_system::owned::take_due() {
        if crate::ensure_reserve(&who).is_err() {
            return Err(GenesisError::new(
                "tokens.issued",
                format!(
                    "{} owns {} objects (tokens it issued, holdings it created) and needs a \
                     native balance of {} for their reserve; endow it in balances.balances",
                    who,
                    pallet_system::owned::owner_count(&who),
                    crate::required_reserve(&who)
                ),
            ));
        }
    }
    Ok(())
}
