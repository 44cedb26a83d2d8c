//! How a transaction fee is shared: pure arithmetic, no storage.
//!
//! The fee (base + per byte + per weight, computed by the executive) is taken
//! from the sender before dispatch. `author_percent` of it goes to the block
//! author, the rest to the treasury (the community pool). The author is the
//! account named by the header's `PreRuntime(AUTHOR_ENGINE_ID, account id)`
//! digest item; a block without one (the dev engine's default) pays the
//! whole fee to the treasury. A share its recipient cannot take (it would
//! stay below the existential deposit, or the accounts pallet refuses it)
//! goes to the treasury instead, and what the treasury cannot take is burned.

use codec::{Decode, DecodeWithMemTracking, Encode};
use qstack_core::{AccountId, Balance};
use scale_info::TypeInfo;

/// The fee split, set at genesis (`tokens.authorFeePercent`, `tokens.treasury`).
#[derive(Clone, Copy, PartialEq, Eq, Debug, Encode, Decode, DecodeWithMemTracking, TypeInfo)]
pub struct FeeConfig {
    /// Percent (0..=100) of each fee paid to the block author.
    pub author_percent: u8,
    /// The treasury / community pool account.
    pub treasury: AccountId,
}

/// Author share when genesis sets none (Polkadot's historical 20 %).
pub const DEFAULT_AUTHOR_PERCENT: u8 = 20;

/// The default treasury: an account no key controls (blake2-256 of
/// `"qstack/treasury"`, as Substrate derives pallet accounts), so only a
/// future governance call can spend from it.
pub fn default_treasury() -> AccountId {
    AccountId(qstack_io::hashing::blake2_256(b"qstack/treasury"))
}

impl Default for FeeConfig {
    fn default() -> Self {
        FeeConfig {
            author_percent: DEFAULT_AUTHOR_PERCENT,
            treasury: default_treasury(),
        }
    }
}

/// A fee divided between author and treasury.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Share {
    /// To the block author.
    pub author: Balance,
    /// To the treasury.
    pub treasury: Balance,
}

/// Splits `fee`: `percent` (capped at 100) to the author, rounded down, the
/// rest to the treasury; everything to the treasury when there is no author.
/// The parts always add up to `fee`.
pub fn split(fee: Balance, has_author: bool, percent: u8) -> Share {
    if !has_author {
        return Share {
            author: 0,
            treasury: fee,
        };
    }
    let percent = Balance::from(percent.min(100));
    // fee / 100 * p + (fee % 100) * p / 100: exact, and no overflow for any u128.
    let author = (fee / 100)
        .saturating_mul(percent)
        .saturating_add((fee % 100).saturating_mul(percent) / 100);
    Share {
        author,
        treasury: fee.saturating_sub(author),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn shares() {
        assert_eq!(
            split(1_000, true, 20),
            Share {
                author: 200,
                treasury: 800
            }
        );
        assert_eq!(
            split(1_000, false, 20),
            Share {
                author: 0,
                treasury: 1_000
            }
        );
        assert_eq!(split(999, true, 100).author, 999);
        assert_eq!(split(999, true, 0).treasury, 999);
        // Rounds down in the treasury's favour.
        assert_eq!(
            split(7, true, 50),
            Share {
                author: 3,
                treasury: 4
            }
        );
        // Percent above 100 is capped.
        assert_eq!(split(10, true, 250).author, 10);
        assert_eq!(split(u128::MAX, true, 100).author, u128::MAX);
    }

    proptest! {
        #[test]
        fn parts_add_up_and_match_exact_arithmetic(fee in any::<u128>(), p in 0u8..=100, author in any::<bool>()) {
            let s = split(fee, author, p);
            prop_assert_eq!(s.author + s.treasury, fee);
            if author {
                // floor(fee * p / 100), computed in 256 bits by hand.
                let (hi, lo) = ((fee >> 64), fee & u128::from(u64::MAX));
                let p = u128::from(p);
                let lo_p = lo * p;
                let hi_p = hi * p;
                // (hi_p << 64 + lo_p) / 100
                let q_hi = hi_p / 100;
                let r_hi = hi_p % 100;
                let rest = (r_hi << 64) + lo_p;
                let exact = (q_hi << 64) + rest / 100;
                prop_assert_eq!(s.author, exact);
            } else {
                prop_assert_eq!(s.author, 0);
            }
        }
    }
}
