//! Account settings vocabulary, shared by the accounts pallet (which stores
//! and enforces them), the runtime API that reports them, and the node's RPC
//! that shows them to wallets.

use crate::asset::AssetId;
use alloc::vec::Vec;
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use qstack_core::{AccountId, Balance, Nonce, PublicKey};
use scale_info::TypeInfo;

/// One member of a signer list.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Debug,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub struct SignerEntry {
    /// The signer (any account; it needs no balance).
    pub account: AccountId,
    /// What its signature counts towards the quorum (at least 1).
    pub weight: u16,
}

/// An account's signer list as reported to clients.
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct SignerListInfo {
    /// The weight a multi-signature must reach.
    pub quorum: u32,
    /// The signers, in account order.
    pub signers: Vec<SignerEntry>,
}

/// Who may deposit into an account (the XRP Ledger's `DepositAuth`, plus the
/// Qifas paper's "transfer authorisation" by request).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Debug,
    Default,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub enum DepositAuth {
    /// Anyone.
    #[default]
    #[codec(index = 0)]
    Open,
    /// Only pre-authorised senders.
    #[codec(index = 1)]
    Preauthorized,
    /// Pre-authorised senders, and senders whose deposit request the account
    /// approved: of exactly the requested asset and amount, once.
    #[codec(index = 2)]
    Requests,
}

impl DepositAuth {
    /// The mode's name as the CLI and JSON spell it.
    pub fn name(self) -> &'static str {
        match self {
            DepositAuth::Open => "open",
            DepositAuth::Preauthorized => "preauthorized",
            DepositAuth::Requests => "requests",
        }
    }

    /// Parses [`Self::name`].
    pub fn from_name(s: &str) -> Option<Self> {
        [
            DepositAuth::Open,
            DepositAuth::Preauthorized,
            DepositAuth::Requests,
        ]
        .into_iter()
        .find(|m| m.name() == s)
    }
}

/// A sender's request to deposit into another account (kept by the sender).
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    Debug,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub struct DepositRequest {
    /// The account to deposit into.
    pub to: AccountId,
    /// The asset.
    pub asset: AssetId,
    /// The exact amount the deposit must have.
    pub amount: Balance,
    /// Whether `to` approved it.
    pub approved: bool,
}

/// Everything the accounts pallet keeps about one account, for wallets.
#[derive(Clone, PartialEq, Eq, Debug, Default, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct AccountSettings {
    /// Whether the master key may no longer sign.
    pub master_disabled: bool,
    /// The regular key, if set.
    pub regular_key: Option<PublicKey>,
    /// The signer list, if set.
    pub signer_list: Option<SignerListInfo>,
    /// Outstanding tickets (reserved sequence numbers), ascending.
    pub tickets: Vec<Nonce>,
    /// Whether deposits must carry a destination tag.
    pub require_dest_tag: bool,
    /// Who may deposit.
    pub deposit_auth: DepositAuth,
    /// Pre-authorised senders, in account order.
    pub preauthorized: Vec<AccountId>,
    /// With token refusal on, the only assets the account accepts.
    pub allowed_assets: Option<Vec<AssetId>>,
    /// This account's own deposit requests to others.
    pub deposit_requests: Vec<DepositRequest>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deposit_auth_names_round_trip() {
        for m in [
            DepositAuth::Open,
            DepositAuth::Preauthorized,
            DepositAuth::Requests,
        ] {
            assert_eq!(DepositAuth::from_name(m.name()), Some(m));
        }
        assert_eq!(DepositAuth::from_name("closed"), None);
        assert_eq!(DepositAuth::default(), DepositAuth::Open);
    }
}
