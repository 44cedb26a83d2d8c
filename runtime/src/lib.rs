//! The qstack runtime: composes the pallets into `RuntimeCall`/`RuntimeEvent`,
//! executes blocks and transactions (the executive), and exposes the runtime
//! APIs. The same code is the native test runtime and, built for
//! `wasm32-unknown-unknown` by `build.rs`, the on-chain Wasm blob.
#![cfg_attr(not(feature = "std"), no_std)]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::arithmetic_side_effects
    )
)]

extern crate alloc;

pub mod apis;
pub mod enact;
pub mod executive;
pub mod genesis;
pub mod metadata;
#[cfg(test)]
mod scenario_accounts;
#[cfg(test)]
mod scenario_evidence;
#[cfg(test)]
mod scenario_notary;
#[cfg(test)]
mod scenario_replay;
#[cfg(test)]
mod scenario_reserves;
#[cfg(test)]
mod scenario_tests;
#[cfg(test)]
mod scenario_upgrade;
#[cfg(feature = "std")]
pub mod signing;
pub mod sudo;
#[cfg(target_arch = "wasm32")]
mod wasm;

use alloc::borrow::Cow;
use codec::{Decode, DecodeWithMemTracking, Encode};
use qstack_core::{Balance, H256};
use qstack_runtime_primitives::{DispatchError, RuntimeVersion, UncheckedExtrinsic};
pub use qstack_support::Dispatch;
use scale_info::TypeInfo;

pub use pallet_accounts as accounts;
pub use pallet_amm as amm;
pub use pallet_did as did;
pub use pallet_evidence as evidence;
pub use pallet_governance as governance;
pub use pallet_notary as notary;
pub use pallet_staking as staking;
pub use pallet_system as system;
pub use pallet_system::timestamp;
pub use pallet_tokens as tokens;
pub use pallet_tokens::balances;

/// The Wasm runtime blob, built by `build.rs` (empty when the build was
/// skipped with `QSTACK_SKIP_WASM_BUILD=1`).
#[cfg(feature = "std")]
pub const WASM_BINARY: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/qstack_runtime.wasm"));

pub use apis::API_IDS;

/// The runtime's version. `spec_version` must rise with every change of
/// behaviour; `transaction_version` with every change of the extrinsic format.
pub const VERSION: RuntimeVersion = RuntimeVersion {
    spec_name: Cow::Borrowed(SPEC_NAME),
    impl_name: Cow::Borrowed(IMPL_NAME),
    authoring_version: 1,
    spec_version: SPEC_VERSION,
    impl_version: 1,
    apis: Cow::Borrowed(&API_IDS),
    // 2: `CheckTicket` in the signed extensions; multi- and regular-key signatures.
    // 3: the payload binds the account and how it signed (each multisig member
    //    also its own account) behind the `qstack/tx/v1` domain tag.
    // 4: Substrate's signed extensions and address layout (no genesis tag;
    //    a ticket flagged in the nonce; the key as `MultiAddress::Raw`), and
    //    a master-key signature over Substrate's payload.
    transaction_version: 4,
    system_version: 0,
};

/// The chain family; an upgrade must keep it.
pub const SPEC_NAME: &str = "qstack";
/// The implementation name.
pub const IMPL_NAME: &str = "qstack-runtime";

/// [`VERSION`] SCALE-encoded at compile time, for the Wasm custom section.
// Const evaluation only: out of bounds or overflow is a compile error.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
pub mod version_section {
    use super::{API_IDS, IMPL_NAME, SPEC_NAME, SPEC_VERSION, VERSION};

    const fn put(mut buf: [u8; LEN], at: usize, bytes: &[u8]) -> ([u8; LEN], usize) {
        let mut i = 0;
        while i < bytes.len() {
            buf[at + i] = bytes[i];
            i += 1;
        }
        (buf, at + bytes.len())
    }

    // Single-byte compact lengths only (< 64), checked at compile time.
    const _: () = assert!(SPEC_NAME.len() < 64 && IMPL_NAME.len() < 64 && API_IDS.len() < 64);

    /// Encoded length.
    pub const LEN: usize =
        1 + SPEC_NAME.len() + 1 + IMPL_NAME.len() + 12 + 1 + API_IDS.len() * 12 + 4 + 1;

    /// The encoding of [`VERSION`]. (The `as u8` lengths are checked below
    /// 64 at compile time above.)
    #[allow(clippy::cast_possible_truncation)]
    pub const BYTES: [u8; LEN] = {
        let buf = [0u8; LEN];
        let (buf, at) = put(buf, 0, &[(SPEC_NAME.len() as u8) << 2]);
        let (buf, at) = put(buf, at, SPEC_NAME.as_bytes());
        let (buf, at) = put(buf, at, &[(IMPL_NAME.len() as u8) << 2]);
        let (buf, at) = put(buf, at, IMPL_NAME.as_bytes());
        let (buf, at) = put(buf, at, &VERSION.authoring_version.to_le_bytes());
        let (buf, at) = put(buf, at, &SPEC_VERSION.to_le_bytes());
        let (buf, at) = put(buf, at, &VERSION.impl_version.to_le_bytes());
        let (mut buf, mut at) = put(buf, at, &[(API_IDS.len() as u8) << 2]);
        let mut i = 0;
        while i < API_IDS.len() {
            (buf, at) = put(buf, at, &API_IDS[i].0);
            (buf, at) = put(buf, at, &API_IDS[i].1.to_le_bytes());
            i += 1;
        }
        let (buf, at) = put(buf, at, &VERSION.transaction_version.to_le_bytes());
        let (buf, _) = put(buf, at, &[VERSION.system_version]);
        buf
    };
}

/// Current spec version; a build can override it with `QSTACK_SPEC_VERSION`
/// at compile time (used by the upgrade tests to produce a "next" runtime).
pub const SPEC_VERSION: u32 = match option_env!("QSTACK_SPEC_VERSION") {
    Some(s) => parse_u32(s),
    None => 1,
};

// Const evaluation only: out of bounds or overflow is a compile error.
#[allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]
const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v: u32 = 0;
    while i < b.len() {
        let d = b[i];
        if d < b'0' || d > b'9' {
            return 1;
        }
        v = v.saturating_mul(10).saturating_add((d - b'0') as u32);
        i += 1;
    }
    v
}

/// Fee charged for every transaction: 0.001 QS (12 decimals).
///
/// With [`BYTE_FEE`] and [`WEIGHT_PER_FEE`] this prices an sr25519
/// transfer at about 0.003 QS and a full block at 1.8 QS (full of the
/// cheapest transactions, bound by weight) to 52 QS (bound by length), so
/// keeping one-second blocks full for a day costs 0.16 to 4.5 million QS
/// (`economics` tests compute both from these constants). Permanent state
/// is priced by the reserves of the tokens pallet instead.
pub const BASE_FEE: Balance = 1_000_000_000;
/// Fee per byte of the encoded extrinsic (PQ signatures make length bind
/// first): 0.00001 QS, Polkadot's order of magnitude per byte.
pub const BYTE_FEE: Balance = 10_000_000;
/// Weight (picoseconds) per unit of fee.
pub const WEIGHT_PER_FEE: u64 = 1;
/// Maximum block weight (picoseconds of reference execution time): a third
/// of the bundled specs' one-second block time, so a validator checks a full
/// block well within its prevote timeout, even twice over (a block with a
/// bad signature is executed again inline), as Substrate keeps a block's
/// weight to a third of its slot. (It was 1.5 s, longer than the block.)
pub const MAX_BLOCK_WEIGHT: u64 = 333_333_333_333;
/// Maximum bytes of extrinsics in a block.
pub const MAX_BLOCK_LENGTH: u32 = 5 * 1024 * 1024;
/// Maximum bytes of one extrinsic (a runtime upgrade is the largest).
pub const MAX_EXTRINSIC_LENGTH: u32 = 4 * 1024 * 1024;

// The pallets, each once: its permanent index, its name, its module. This
// line is all a new pallet needs in the runtime.
qstack_support::compose_runtime! {
    0 => System: system,
    1 => Timestamp: timestamp [no_event],
    2 => Tokens: tokens,
    3 => Accounts: accounts,
    4 => Evidence: evidence,
    5 => Notary: notary,
    6 => Amm: amm,
    7 => Did: did,
    8 => Staking: staking,
    9 => Governance: governance,
    10 => Sudo: sudo,
    11 => Balances: balances [no_event],
}

/// One event with its phase, as stored in `System.Events`: FRAME's
/// `frame_system::EventRecord<E, T>` (its path and type parameters are how
/// generic clients find the runtime's event type).
#[derive(Clone, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking)]
pub struct EventRecord {
    /// When it happened.
    pub phase: system::Phase,
    /// What happened.
    pub event: RuntimeEvent,
    /// Topics (unused, kept for Substrate's layout).
    pub topics: alloc::vec::Vec<H256>,
}

impl scale_info::TypeInfo for EventRecord {
    type Identity = Self;
    fn type_info() -> scale_info::Type {
        use scale_info::build::Fields;
        use scale_info::{meta_type, Path, Type, TypeParameter};
        Type::builder()
            .path(Path::new("EventRecord", "frame_system"))
            .type_params(alloc::vec![
                TypeParameter::new("E", Some(meta_type::<RuntimeEvent>())),
                TypeParameter::new("T", Some(meta_type::<H256>())),
            ])
            .docs(&["One event with its phase, as stored in `System.Events`."])
            .composite(
                Fields::named()
                    .field(|f| f.ty::<system::Phase>().name("phase").type_name("Phase"))
                    .field(|f| f.ty::<RuntimeEvent>().name("event").type_name("E"))
                    .field(|f| {
                        f.ty::<alloc::vec::Vec<H256>>()
                            .name("topics")
                            .type_name("Vec<T>")
                    }),
            )
    }
}

/// The extrinsic type of this runtime.
pub type Extrinsic = UncheckedExtrinsic<RuntimeCall>;
/// The block type of this runtime.
pub type Block = qstack_runtime_primitives::Block<Extrinsic>;

/// Marker type naming the runtime in metadata.
#[derive(TypeInfo)]
pub struct Runtime;

impl RuntimeCall {
    /// Dispatches the call; a signed origin counts as signed with the
    /// account's master key (the account itself). The executive uses
    /// [`Self::dispatch_as`] with the way the extrinsic was really signed.
    pub fn dispatch(self, origin: system::Origin) -> Result<(), DispatchError> {
        self.dispatch_as(origin, accounts::SignedWith::Master)
    }

    /// Dispatches the call, telling the pallets which of the account's ways
    /// to sign authorised it (only the master key may disable itself).
    pub fn dispatch_as(
        self,
        origin: system::Origin,
        signed_with: accounts::SignedWith,
    ) -> Result<(), DispatchError> {
        enact::check_submission(&self)?;
        self.dispatch_in(
            &qstack_support::DispatchContext::new(origin, &VERSION).signed_with(signed_with),
        )
    }
}

/// Runs every pallet's invariant checks.
pub fn try_state() -> Result<(), &'static str> {
    AllPallets::try_state()?;
    // The owner ledger is exactly what the pallets say each account owns.
    let owned = AllPallets::owned_objects();
    let ledger: alloc::collections::BTreeMap<_, _> = system::owned::ledger().into_iter().collect();
    let owned: alloc::collections::BTreeMap<_, _> =
        owned.into_iter().filter(|(_, n)| *n > 0).collect();
    if owned != ledger {
        return Err("the owner ledger differs from the objects the pallets store");
    }
    if system::ReserveDue::exists() {
        return Err("reserve checks were left pending in state");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_section_is_the_encoded_version() {
        use codec::Encode;
        assert_eq!(version_section::BYTES.to_vec(), VERSION.encode());
    }

    #[test]
    fn api_ids_are_blake2_64_of_names() {
        let names = [
            "Core",
            "Metadata",
            "BlockBuilder",
            "TaggedTransactionQueue",
            "AccountNonceApi",
            "TransactionPaymentApi",
            "GenesisBuilder",
            "QstackAccountApi",
            "QstackTokensApi",
        ];
        for (i, n) in names.iter().enumerate() {
            assert_eq!(
                API_IDS[i].0,
                qstack_runtime_primitives::version::api_id(n),
                "API id of {n}: {:02x?}",
                qstack_runtime_primitives::version::api_id(n)
            );
        }
    }

    #[test]
    fn known_call_table_matches_call_enums() {
        AllPallets::check_known_calls().unwrap();
        for p in 0..=255u8 {
            let composed = AllPallets::PALLETS.iter().any(|(i, _)| *i == p);
            if !composed {
                assert!(
                    (0..=255u8).all(|c| !RuntimeCall::is_known(p, c)),
                    "pallet {p}"
                );
            }
        }
    }
}
