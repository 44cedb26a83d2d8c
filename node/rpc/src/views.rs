//! The JSON views of qstack's own RPC answers, as types: each derives
//! `Serialize` with camelCase fields, and amounts (u128, which does not fit a
//! JSON number) serialise as decimal strings through [`Amount`]. A method
//! builds its view from the runtime's typed answer; nothing is assembled by
//! hand, so a field cannot be misspelled in one method and right in another.

use crate::json;
use qstack_core::{AccountId, Address, Balance, PublicKey};
use qstack_runtime_primitives::tokens::{TokenBalance, TokenDetails};
use qstack_runtime_primitives::AssetId;
use serde::{Serialize, Serializer};
use serde_json::Value;

/// A u128 amount as a decimal string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Amount(pub Balance);

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.0)
    }
}

/// An account as its base58 address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Addr(pub AccountId);

impl Serialize for Addr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&Address::from(self.0).to_base58())
    }
}

/// `"native"`, or `{"issuer": "q…", "code": "USD"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetView(pub AssetId);

impl Serialize for AssetView {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Issued {
            issuer: Addr,
            code: String,
        }
        match &self.0 {
            AssetId::Native => s.serialize_str("native"),
            AssetId::Issued { issuer, code } => Issued {
                issuer: Addr(*issuer),
                code: code.to_string(),
            }
            .serialize(s),
        }
    }
}

/// A public key: its scheme's name and the raw key bytes as hex (Falcon then
/// ML-DSA for a hybrid key).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    /// `"sr25519"`, `"falcon512"`, `"mldsa44"` or `"hybrid"`.
    pub scheme: &'static str,
    /// `0x…` raw key bytes.
    pub public_key: String,
}

impl From<&PublicKey> for KeyView {
    fn from(k: &PublicKey) -> Self {
        let raw = match k {
            PublicKey::Sr25519(pk) => pk.to_vec(),
            PublicKey::Falcon512(pk) => pk.0.to_vec(),
            PublicKey::MlDsa44(pk) => pk.0.to_vec(),
            PublicKey::Hybrid(f, m) => [f.0.as_slice(), m.0.as_slice()].concat(),
        };
        Self {
            scheme: k.scheme().name(),
            public_key: json::hex(&raw),
        }
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// `token_info`: an issued token's description and state.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenInfoView {
    /// The token.
    pub asset: AssetView,
    /// Its name.
    pub name: String,
    /// Its symbol.
    pub symbol: String,
    /// Display decimals.
    pub decimals: u8,
    /// Amount in existence.
    pub total_supply: Amount,
    /// Cap, if any.
    pub max_supply: Option<Amount>,
    /// Accounts holding it.
    pub holders: u32,
    /// Transfers paused by the issuer.
    pub paused: bool,
    /// Every holding frozen by the issuer.
    pub global_freeze: bool,
    /// The issuer gave up freezing.
    pub no_freeze: bool,
}

impl TokenInfoView {
    /// The view of token `asset`, described by `t`.
    pub fn new(asset: AssetId, t: &TokenDetails) -> Self {
        Self {
            asset: AssetView(asset),
            name: text(&t.name),
            symbol: text(&t.symbol),
            decimals: t.decimals,
            total_supply: Amount(t.supply),
            max_supply: t.max_supply.map(Amount),
            holders: t.holders,
            paused: t.paused,
            global_freeze: t.global_freeze,
            no_freeze: t.no_freeze,
        }
    }
}

/// One holding in `token_balances`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BalanceView {
    /// The asset.
    pub asset: AssetView,
    /// Its symbol (the chain spec's `tokenSymbol` for the native token).
    pub symbol: Value,
    /// Its decimals (the chain spec's `tokenDecimals` for the native token).
    pub decimals: Value,
    /// Spendable.
    pub free: Amount,
    /// Frozen by the issuer.
    pub frozen: Amount,
}

impl BalanceView {
    /// The view of `entry`; the native token's symbol and decimals come
    /// from the chain spec's `properties`.
    pub fn new(entry: &TokenBalance, properties: &serde_json::Map<String, Value>) -> Self {
        let (symbol, decimals) = match &entry.display {
            Some((symbol, decimals)) => (Value::from(text(symbol)), Value::from(*decimals)),
            None => (
                properties
                    .get("tokenSymbol")
                    .cloned()
                    .unwrap_or(Value::Null),
                properties
                    .get("tokenDecimals")
                    .cloned()
                    .unwrap_or(Value::Null),
            ),
        };
        Self {
            asset: AssetView(entry.asset),
            symbol,
            decimals,
            free: Amount(entry.holding.free),
            frozen: Amount(entry.holding.frozen),
        }
    }
}

/// `token_balances`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BalancesView {
    /// The account.
    pub address: Addr,
    /// The native balance first, then each issued token held.
    pub balances: Vec<BalanceView>,
}

/// `token_allowance`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AllowanceView {
    /// The asset.
    pub asset: AssetView,
    /// Whose.
    pub owner: Addr,
    /// Who may move it.
    pub spender: Addr,
    /// How much still.
    pub allowance: Amount,
}

/// Substrate's `Weight` as sp-weights serialises it (snake_case fields).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct WeightView {
    /// Execution time (ps).
    pub ref_time: u64,
    /// Proof size (bytes).
    pub proof_size: u64,
}

/// `payment_queryInfo`: Substrate's `RuntimeDispatchInfo` JSON.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DispatchInfoView {
    /// Weight.
    pub weight: WeightView,
    /// `"normal"`, `"operational"` or `"mandatory"`.
    pub class: &'static str,
    /// Fee without tip.
    pub partial_fee: Amount,
}

/// `account_info`: nonce, balance, keys and the accounts pallet's settings.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccountInfoView {
    /// Base58 address.
    pub address: Addr,
    /// `0x…` of the 32 bytes.
    pub account_id: String,
    /// Next nonce.
    pub nonce: u32,
    /// Free native balance.
    pub free: Amount,
    /// What of `free` is locked as reserve.
    pub reserve: ReserveView,
    /// The registered master key (also `keys.master`), kept for older
    /// clients.
    pub key: Option<KeyView>,
    /// Master and regular keys.
    pub keys: KeysView,
    /// Account flags.
    pub flags: FlagsView,
    /// Multisig signer list, if set.
    pub signer_list: Option<SignerListView>,
    /// Tickets held.
    pub tickets: TicketsView,
    /// Deposit rules.
    pub deposit: DepositView,
}

/// `account_info.reserve`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReserveView {
    /// Objects the account pays an owner reserve for.
    pub owned: u32,
    /// The account reserve plus the owner reserves: cannot be sent away.
    pub locked: Amount,
    /// `free` minus `locked` (zero when fees have eaten into the reserve).
    pub spendable: Amount,
}

/// `account_info.keys`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeysView {
    /// The master key.
    pub master: Option<KeyView>,
    /// Whether it is disabled.
    pub master_disabled: bool,
    /// The regular key, if set.
    pub regular: Option<KeyView>,
}

/// `account_info.flags`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FlagsView {
    /// The master key cannot sign.
    pub master_disabled: bool,
    /// Payments must carry a destination tag.
    pub require_dest_tag: bool,
    /// Deposit authorisation mode.
    pub deposit_auth: &'static str,
    /// Only listed assets may be received.
    pub token_refusal: bool,
}

/// `account_info.signerList`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignerListView {
    /// Weight needed.
    pub quorum: u32,
    /// Signers and weights.
    pub signers: Vec<SignerView>,
}

/// One signer.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignerView {
    /// Who.
    pub address: Addr,
    /// Its weight.
    pub weight: u16,
}

/// `account_info.tickets`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketsView {
    /// How many.
    pub count: usize,
    /// Their sequence numbers.
    pub sequences: Vec<u32>,
}

/// `account_info.deposit`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DepositView {
    /// Accounts that may always deposit.
    pub preauthorized: Vec<Addr>,
    /// Assets it accepts, if restricted.
    pub allowed_assets: Option<Vec<AssetView>>,
    /// Deposits waiting for approval.
    pub requests: Vec<DepositRequestView>,
}

/// One deposit request.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DepositRequestView {
    /// To whom.
    pub to: Addr,
    /// What.
    pub asset: AssetView,
    /// How much.
    pub amount: Amount,
    /// Approved yet.
    pub approved: bool,
}

impl AccountInfoView {
    /// The view of account `who`.
    pub fn new(who: AccountId, info: &crate::backend::AccountInfo) -> Self {
        let s = &info.settings;
        let key = info.key.as_ref().map(KeyView::from);
        Self {
            address: Addr(who),
            account_id: json::hex(who.as_bytes()),
            nonce: info.nonce,
            free: Amount(info.free),
            reserve: ReserveView {
                owned: info.owned,
                locked: Amount(info.reserve),
                spendable: Amount(info.free.saturating_sub(info.reserve)),
            },
            key: key.clone(),
            keys: KeysView {
                master: key,
                master_disabled: s.master_disabled,
                regular: s.regular_key.as_ref().map(KeyView::from),
            },
            flags: FlagsView {
                master_disabled: s.master_disabled,
                require_dest_tag: s.require_dest_tag,
                deposit_auth: s.deposit_auth.name(),
                token_refusal: s.allowed_assets.is_some(),
            },
            signer_list: s.signer_list.as_ref().map(|l| SignerListView {
                quorum: l.quorum,
                signers: l
                    .signers
                    .iter()
                    .map(|e| SignerView {
                        address: Addr(e.account),
                        weight: e.weight,
                    })
                    .collect(),
            }),
            tickets: TicketsView {
                count: s.tickets.len(),
                sequences: s.tickets.to_vec(),
            },
            deposit: DepositView {
                preauthorized: s.preauthorized.iter().copied().map(Addr).collect(),
                allowed_assets: s
                    .allowed_assets
                    .as_ref()
                    .map(|l| l.iter().copied().map(AssetView).collect()),
                requests: s
                    .deposit_requests
                    .iter()
                    .map(|r| DepositRequestView {
                        to: Addr(r.to),
                        asset: AssetView(r.asset),
                        amount: Amount(r.amount),
                        approved: r.approved,
                    })
                    .collect(),
            },
        }
    }
}

/// A view as the method's JSON answer.
pub fn to_value(view: impl Serialize) -> Value {
    // Views are plain data with string keys: serialising cannot fail.
    serde_json::to_value(view).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts_are_decimal_strings_and_assets_have_two_shapes() {
        let max = u128::MAX;
        assert_eq!(to_value(Amount(max)), json!(max.to_string()));
        assert_eq!(to_value(AssetView(AssetId::Native)), json!("native"));
        let issuer = AccountId([7; 32]);
        let code = qstack_runtime_primitives::TokenCode::parse("USD").expect("code");
        assert_eq!(
            to_value(AssetView(AssetId::Issued { issuer, code })),
            json!({"issuer": Address::from(issuer).to_base58(), "code": "USD"})
        );
        let w = DispatchInfoView {
            weight: WeightView {
                ref_time: 5,
                proof_size: 0,
            },
            class: "normal",
            partial_fee: Amount(10),
        };
        assert_eq!(
            to_value(w),
            json!({"weight": {"ref_time": 5, "proof_size": 0}, "class": "normal", "partialFee": "10"})
        );
    }
}

/// A fee vote in `amm_pool`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VoteView {
    /// The voter.
    pub account: Addr,
    /// Its fee (units of 1/100,000).
    pub fee: u32,
}

/// The auction slot in `amm_pool`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SlotView {
    /// The holder (trades at a tenth of the fee).
    pub owner: Addr,
    /// When it expires (ms since the epoch, the chain's clock).
    pub expires: u64,
    /// LP tokens it paid.
    pub price: Amount,
}

/// `amm_pool`, and each entry of `amm_pools`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolView {
    /// The two assets, in canonical order.
    pub assets: [AssetView; 2],
    /// The pool's account (no key signs for it).
    pub account: Addr,
    /// Its LP token.
    pub lp_token: AssetView,
    /// LP tokens in circulation.
    pub lp_supply: Amount,
    /// Its balances of the two assets.
    pub reserves: [Amount; 2],
    /// Trading fee, units of 1/100,000 (1000 = 1%).
    pub trading_fee: u32,
    /// Who created it (pays its owner reserve).
    pub creator: Addr,
    /// Fee votes.
    pub votes: Vec<VoteView>,
    /// The auction slot, if sold and not expired at the last sale.
    pub auction_slot: Option<SlotView>,
    /// Σ price·Δt (ms) of each asset in the other, 64.64 fixed point,
    /// wrapping: read twice and divide the difference by the time between.
    pub price_cumulative: [Amount; 2],
    /// When the accumulators were last advanced (ms).
    pub last_update: u64,
}

impl PoolView {
    /// The view of `info`.
    pub fn new(info: &qstack_runtime::amm::PoolInfo) -> Self {
        let p = &info.pool;
        let [a, b] = info.assets;
        Self {
            assets: [AssetView(a), AssetView(b)],
            account: Addr(p.account),
            lp_token: AssetView(p.lp_asset()),
            lp_supply: Amount(info.lp_supply),
            reserves: p.reserves.map(Amount),
            trading_fee: p.fee,
            creator: Addr(p.creator),
            votes: p
                .votes
                .iter()
                .map(|v| VoteView {
                    account: Addr(v.account),
                    fee: v.fee,
                })
                .collect(),
            auction_slot: p.slot.map(|s| SlotView {
                owner: Addr(s.owner),
                expires: s.expires,
                price: Amount(s.price),
            }),
            price_cumulative: p.price_cumulative.map(Amount),
            last_update: p.last_update,
        }
    }
}

/// `amm_quote`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteView {
    /// The assets the swap passes through.
    pub path: Vec<AssetView>,
    /// Whether `amountIn` was given (and `amountOut` computed) or the other way round.
    pub exact_in: bool,
    /// What is sold.
    pub amount_in: Amount,
    /// What is bought.
    pub amount_out: Amount,
}
