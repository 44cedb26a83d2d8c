//! The decision rules of a tally (Cosmos `x/gov`, as QOS meant them), on
//! exact rationals: every `a / b ⋚ rate` is decided as `a · BILLION ⋚
//! rate · b` in 256 bits, never by dividing. No storage.
//!
//! In order:
//! 1. nothing voted, or only `Abstain`: rejected, deposits refunded;
//! 2. `voted / total < quorum`: rejected, `burn_rate` of the deposits burned;
//! 3. `veto / voted > veto`: vetoed, every deposit burned;
//! 4. `yes / (voted − abstain) > threshold`: passed, deposits refunded;
//! 5. otherwise rejected, deposits refunded.

use crate::{LevelParams, Perbill, Tally, BILLION};
use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use qstack_core::Balance;
use qstack_support::math::U256;
use scale_info::TypeInfo;

/// How a tally ends.
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
pub enum Outcome {
    /// Passed.
    #[codec(index = 0)]
    Passed,
    /// Rejected.
    #[codec(index = 1)]
    Rejected,
    /// Vetoed.
    #[codec(index = 2)]
    Vetoed,
}

/// An outcome and the share of the deposits it burns.
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
pub struct Decision {
    /// The outcome.
    pub outcome: Outcome,
    /// Share of every deposit sent to the community pool.
    pub burn: Perbill,
}

/// `num / den < rate`, exactly.
fn below(num: Balance, den: Balance, rate: Perbill) -> bool {
    U256::mul(num, u128::from(BILLION)) < U256::mul(den, u128::from(rate))
}

/// `num / den > rate`, exactly.
fn above(num: Balance, den: Balance, rate: Perbill) -> bool {
    U256::mul(num, u128::from(BILLION)) > U256::mul(den, u128::from(rate))
}

/// The rules applied to `t` under `p`.
pub fn decide(t: &Tally, p: &LevelParams) -> Decision {
    let voted = t.voted();
    let refund = |outcome| Decision { outcome, burn: 0 };
    if voted == 0 || voted == t.abstain {
        return refund(Outcome::Rejected);
    }
    if below(voted, t.total, p.quorum) {
        return Decision {
            outcome: Outcome::Rejected,
            burn: p.burn_rate,
        };
    }
    if above(t.veto, voted, p.veto) {
        return Decision {
            outcome: Outcome::Vetoed,
            burn: BILLION,
        };
    }
    if above(t.yes, voted.saturating_sub(t.abstain), p.threshold) {
        return refund(Outcome::Passed);
    }
    refund(Outcome::Rejected)
}

/// The part of `amount` a decision burning `rate` burns, rounded down
/// (the depositor keeps the dust).
pub fn burned(amount: Balance, rate: Perbill) -> Balance {
    pallet_staking::apply_rate(amount, rate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params() -> LevelParams {
        LevelParams::qos(10, 10)
    }

    fn tally(yes: u128, no: u128, abstain: u128, veto: u128, total: u128) -> Tally {
        Tally {
            yes,
            no,
            abstain,
            veto,
            total,
        }
    }

    fn outcome(t: Tally) -> (Outcome, Perbill) {
        let d = decide(&t, &params());
        (d.outcome, d.burn)
    }

    #[test]
    fn nothing_or_only_abstain_is_rejected_without_burning() {
        assert_eq!(outcome(tally(0, 0, 0, 0, 1_000)), (Outcome::Rejected, 0));
        assert_eq!(outcome(tally(0, 0, 900, 0, 1_000)), (Outcome::Rejected, 0));
        assert_eq!(outcome(tally(0, 0, 0, 0, 0)), (Outcome::Rejected, 0));
    }

    #[test]
    fn quorum_is_exact_at_its_boundary() {
        // quorum 0.334 of 1,000: 334 voted is enough, 333 is not.
        assert_eq!(outcome(tally(334, 0, 0, 0, 1_000)).0, Outcome::Passed);
        assert_eq!(
            outcome(tally(333, 0, 0, 0, 1_000)),
            (Outcome::Rejected, 500_000_000)
        );
    }

    #[test]
    fn veto_must_exceed_its_share() {
        // veto 0.334 of 1,000 voted: 334 is not more, 335 is.
        assert_eq!(outcome(tally(666, 0, 0, 334, 1_000)).0, Outcome::Passed);
        assert_eq!(
            outcome(tally(665, 0, 0, 335, 1_000)),
            (Outcome::Vetoed, BILLION)
        );
    }

    #[test]
    fn threshold_must_be_exceeded_and_ignores_abstain() {
        // yes / (voted − abstain) == 0.5 exactly: rejected; one more: passed.
        assert_eq!(
            outcome(tally(300, 300, 400, 0, 1_000)),
            (Outcome::Rejected, 0)
        );
        assert_eq!(
            outcome(tally(301, 300, 400, 0, 1_000)),
            (Outcome::Passed, 0)
        );
        // NoWithVeto below the veto share counts against.
        assert_eq!(outcome(tally(300, 200, 0, 100, 1_000)).0, Outcome::Rejected);
        assert_eq!(outcome(tally(301, 200, 0, 100, 1_000)).0, Outcome::Passed);
    }

    /// The shipped QOS chain: `totalVotingPower.Div(totalSystemPower)` in
    /// integers is 0 unless every token voted, so every proposal missed a
    /// non-zero quorum.
    #[test]
    fn regression_integer_division_made_the_quorum_unreachable() {
        let t = tally(900, 0, 0, 0, 1_000);
        let shipped_ratio = t.voted() / t.total;
        assert_eq!(shipped_ratio, 0, "what QOS compared with the quorum");
        assert_eq!(outcome(t), (Outcome::Passed, 0));
    }

    #[test]
    fn huge_amounts_do_not_overflow() {
        let m = u128::MAX / 4;
        assert_eq!(outcome(tally(m, m - 1, 0, 0, u128::MAX)).0, Outcome::Passed);
        assert_eq!(burned(u128::MAX, BILLION), u128::MAX);
        assert_eq!(burned(3, 500_000_000), 1);
    }

    proptest! {
        /// The 256-bit rules agree with plain u128 cross-multiplication
        /// where that cannot overflow.
        #[test]
        fn agrees_with_cross_multiplication(
            yes in 0u128..1_000_000, no in 0u128..1_000_000,
            abstain in 0u128..1_000_000, veto in 0u128..1_000_000,
            extra in 0u128..4_000_000,
            quorum in 1u32..=BILLION, threshold in 1u32..=BILLION, veto_rate in 1u32..=BILLION,
        ) {
            let t = tally(yes, no, abstain, veto, yes + no + abstain + veto + extra);
            let p = LevelParams { quorum, threshold, veto: veto_rate, ..params() };
            let b = u128::from(BILLION);
            let voted = t.voted();
            let expected = if voted == 0 || voted == abstain || voted * b < u128::from(quorum) * t.total {
                Outcome::Rejected
            } else if veto * b > u128::from(veto_rate) * voted {
                Outcome::Vetoed
            } else if yes * b > u128::from(threshold) * (voted - abstain) {
                Outcome::Passed
            } else {
                Outcome::Rejected
            };
            prop_assert_eq!(decide(&t, &p).outcome, expected);
        }
    }
}
