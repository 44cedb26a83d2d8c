//! Declared weights of this pallet's calls (picoseconds of reference
//! execution), from `benches/calls.rs`: the worst case of each call (full
//! lists, longest inputs), measured natively on an in-memory overlay (upper
//! end of criterion's confidence interval, on a shared 2-core machine), rounded
//! up to the microsecond and multiplied by [`SAFETY_FACTOR`] for Wasm execution
//! (2–4× native, DESIGN §2) and committing the written state.

use crate::Call;

/// Margin of declared over measured native time.
pub const SAFETY_FACTOR: u64 = 4;

/// Measured worst-case native time of each call, rounded up, in nanoseconds
/// (`cargo bench -p pallet-accounts`; measured figures in the comments).
pub mod measured_ns {
    /// `set_regular_key` with a hybrid key (4.03 µs).
    pub const SET_REGULAR_KEY: u64 = 5_000;
    /// `remove_regular_key` (3.73 µs).
    pub const REMOVE_REGULAR_KEY: u64 = 4_000;
    /// `disable_master` (4.24 µs).
    pub const DISABLE_MASTER: u64 = 5_000;
    /// `enable_master` (4.14 µs).
    pub const ENABLE_MASTER: u64 = 5_000;
    /// `set_signers` with 32 signers (2.67 µs).
    pub const SET_SIGNERS: u64 = 3_000;
    /// `remove_signers` of 32 (4.08 µs).
    pub const REMOVE_SIGNERS: u64 = 5_000;
    /// `create_tickets(250)` (4.41 µs).
    pub const CREATE_TICKETS: u64 = 5_000;
    /// `set_require_dest_tag` (2.17 µs).
    pub const SET_REQUIRE_DEST_TAG: u64 = 3_000;
    /// `set_deposit_auth` (2.12 µs).
    pub const SET_DEPOSIT_AUTH: u64 = 3_000;
    /// `preauthorize` into a list of 63 (3.79 µs).
    pub const PREAUTHORIZE: u64 = 4_000;
    /// `unauthorize` from a list of 64 (3.69 µs).
    pub const UNAUTHORIZE: u64 = 4_000;
    /// `set_allowed_assets` with 32 issued assets (2.21 µs).
    pub const SET_ALLOWED_ASSETS: u64 = 3_000;
    /// `request_deposit` with 15 open requests (5.92 µs).
    pub const REQUEST_DEPOSIT: u64 = 6_000;
    /// `cancel_deposit_request`, last of 16 (4.50 µs).
    pub const CANCEL_DEPOSIT_REQUEST: u64 = 5_000;
    /// `approve_deposit`, last of 16 (4.78 µs).
    pub const APPROVE_DEPOSIT: u64 = 5_000;
    /// `reject_deposit_request`, last of 16 (4.58 µs).
    pub const REJECT_DEPOSIT_REQUEST: u64 = 5_000;
    /// `ensure_deposit_allowed`, worst case: tag required, 32 allowed
    /// assets, requests mode with 64 pre-authorised senders, the last of 16
    /// requests spent (9.66 µs).
    pub const ENSURE_DEPOSIT_ALLOWED: u64 = 10_000;
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
