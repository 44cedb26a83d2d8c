//! Declared weights of this pallet's calls (picoseconds of reference
//! execution), from `benches/calls.rs`: the worst case of each call (full
//! lists, longest inputs) measured natively, rounded up and multiplied by
//! [`SAFETY_FACTOR`] for Wasm execution and a cold state backend.

use crate::Call;

/// Margin of declared over measured native time.
pub const SAFETY_FACTOR: u64 = 3;

/// Measured worst-case native time of each call, in nanoseconds.
pub mod measured_ns {
    /// `set_regular_key` (hybrid key).
    pub const SET_REGULAR_KEY: u64 = 20_000;
    /// `remove_regular_key`.
    pub const REMOVE_REGULAR_KEY: u64 = 10_000;
    /// `disable_master`.
    pub const DISABLE_MASTER: u64 = 10_000;
    /// `enable_master`.
    pub const ENABLE_MASTER: u64 = 10_000;
    /// `set_signers` with 32 signers.
    pub const SET_SIGNERS: u64 = 40_000;
    /// `remove_signers`.
    pub const REMOVE_SIGNERS: u64 = 10_000;
    /// `create_tickets(250)`.
    pub const CREATE_TICKETS: u64 = 40_000;
    /// `set_require_dest_tag`.
    pub const SET_REQUIRE_DEST_TAG: u64 = 10_000;
    /// `set_deposit_auth`.
    pub const SET_DEPOSIT_AUTH: u64 = 10_000;
    /// `preauthorize` into a list of 63.
    pub const PREAUTHORIZE: u64 = 20_000;
    /// `unauthorize` from a list of 64.
    pub const UNAUTHORIZE: u64 = 20_000;
    /// `set_allowed_assets` with 32 issued assets.
    pub const SET_ALLOWED_ASSETS: u64 = 30_000;
    /// `request_deposit` with 15 open requests.
    pub const REQUEST_DEPOSIT: u64 = 20_000;
    /// `cancel_deposit_request` among 16.
    pub const CANCEL_DEPOSIT_REQUEST: u64 = 20_000;
    /// `approve_deposit` among 16.
    pub const APPROVE_DEPOSIT: u64 = 20_000;
    /// `reject_deposit_request` among 16.
    pub const REJECT_DEPOSIT_REQUEST: u64 = 20_000;
    /// `ensure_deposit_allowed`, worst case (requests mode, 64 pre-authorised
    /// senders, 32 allowed assets, the request spent).
    pub const ENSURE_DEPOSIT_ALLOWED: u64 = 30_000;
}

const fn ps(ns: u64) -> u64 {
    ns.saturating_mul(1_000).saturating_mul(SAFETY_FACTOR)
}

/// Weight a token transfer adds for [`crate::ensure_deposit_allowed`].
pub const DEPOSIT_CHECK_WEIGHT: u64 = ps(measured_ns::ENSURE_DEPOSIT_ALLOWED);

/// The declared weight of `call`.
pub fn call_weight(call: &Call) -> u64 {
    use measured_ns as m;
    ps(match call {
        Call::SetRegularKey { .. } => m::SET_REGULAR_KEY,
        Call::RemoveRegularKey => m::REMOVE_REGULAR_KEY,
        Call::DisableMaster => m::DISABLE_MASTER,
        Call::EnableMaster => m::ENABLE_MASTER,
        Call::SetSigners { .. } => m::SET_SIGNERS,
        Call::RemoveSigners => m::REMOVE_SIGNERS,
        Call::CreateTickets { .. } => m::CREATE_TICKETS,
        Call::SetRequireDestTag { .. } => m::SET_REQUIRE_DEST_TAG,
        Call::SetDepositAuth { .. } => m::SET_DEPOSIT_AUTH,
        Call::Preauthorize { .. } => m::PREAUTHORIZE,
        Call::Unauthorize { .. } => m::UNAUTHORIZE,
        Call::SetAllowedAssets { .. } => m::SET_ALLOWED_ASSETS,
        Call::RequestDeposit { .. } => m::REQUEST_DEPOSIT,
        Call::CancelDepositRequest { .. } => m::CANCEL_DEPOSIT_REQUEST,
        Call::ApproveDeposit { .. } => m::APPROVE_DEPOSIT,
        Call::RejectDepositRequest { .. } => m::REJECT_DEPOSIT_REQUEST,
    })
}
