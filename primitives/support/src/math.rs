//! Exact integer arithmetic for the AMM's pool formulas and staking's
//! rewards: 256-bit products of
//! 128-bit amounts, division with a chosen rounding, and integer square
//! roots. Everything is checked: a result that does not fit is `None`.

/// Which way a division rounds.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Round {
    /// Towards zero (amounts paid out).
    Down,
    /// Away from zero (amounts taken in).
    Up,
}

/// An unsigned 256-bit number as two 128-bit halves.
#[derive(Clone, Copy, PartialEq, Eq, Debug, PartialOrd, Ord)]
pub struct U256 {
    hi: u128,
    lo: u128,
}

impl U256 {
    /// `v` widened.
    pub const fn from(v: u128) -> Self {
        U256 { hi: 0, lo: v }
    }

    /// The (high, low) halves.
    pub const fn halves(self) -> (u128, u128) {
        (self.hi, self.lo)
    }

    /// From (high, low) halves.
    pub const fn from_halves(hi: u128, lo: u128) -> Self {
        U256 { hi, lo }
    }

    /// `a · b`, exactly.
    pub fn mul(a: u128, b: u128) -> Self {
        let mask = u128::from(u64::MAX);
        let (a1, a0) = (a >> 64, a & mask);
        let (b1, b0) = (b >> 64, b & mask);
        // Each partial product of 64-bit halves fits in 128 bits.
        let p00 = a0.wrapping_mul(b0);
        let p01 = a0.wrapping_mul(b1);
        let p10 = a1.wrapping_mul(b0);
        let p11 = a1.wrapping_mul(b1);
        let mid = (p00 >> 64)
            .wrapping_add(p01 & mask)
            .wrapping_add(p10 & mask);
        let lo = (p00 & mask) | (mid << 64);
        let hi = p11
            .wrapping_add(p01 >> 64)
            .wrapping_add(p10 >> 64)
            .wrapping_add(mid >> 64);
        U256 { hi, lo }
    }

    /// `self · k`, if it fits.
    pub fn mul_u128(self, k: u128) -> Option<Self> {
        let low = U256::mul(self.lo, k);
        let high = U256::mul(self.hi, k);
        if high.hi != 0 {
            return None;
        }
        let hi = low.hi.checked_add(high.lo)?;
        Some(U256 { hi, lo: low.lo })
    }

    /// `self + v`, if it fits.
    pub fn add_u128(self, v: u128) -> Option<Self> {
        let (lo, carry) = self.lo.overflowing_add(v);
        let hi = self.hi.checked_add(u128::from(carry))?;
        Some(U256 { hi, lo })
    }

    /// `self / d` rounded as asked, if the quotient fits in 128 bits
    /// (`None` also for `d == 0`).
    pub fn div(self, d: u128, round: Round) -> Option<u128> {
        let (q, rem) = self.div_rem(d)?;
        match round {
            Round::Up if rem != 0 => q.checked_add(1),
            _ => Some(q),
        }
    }

    /// `(⌊self / d⌋, self mod d)`, if the quotient fits in 128 bits
    /// (`None` also for `d == 0`).
    pub fn div_rem(self, d: u128) -> Option<(u128, u128)> {
        if d == 0 || self.hi >= d {
            return None;
        }
        // Long division, one bit at a time: the remainder stays below `d`.
        let mut rem = self.hi;
        let mut q: u128 = 0;
        for i in (0..128).rev() {
            let carry = rem >> 127;
            rem = (rem << 1) | ((self.lo >> i) & 1);
            q <<= 1;
            if carry == 1 || rem >= d {
                rem = rem.wrapping_sub(d);
                q |= 1;
            }
        }
        Some((q, rem))
    }

    /// ⌊√self⌋ (always fits in 128 bits).
    pub fn sqrt(self) -> u128 {
        let mut r: u128 = 0;
        for bit in (0..128).rev() {
            let cand = r | (1u128 << bit);
            if U256::mul(cand, cand) <= self {
                r = cand;
            }
        }
        r
    }
}

/// `a · b / c` rounded as asked.
pub fn mul_div(a: u128, b: u128, c: u128, round: Round) -> Option<u128> {
    U256::mul(a, b).div(c, round)
}

/// ⌊√(a · b)⌋.
pub fn sqrt_mul(a: u128, b: u128) -> u128 {
    U256::mul(a, b).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_values() {
        assert_eq!(mul_div(10, 10, 3, Round::Down), Some(33));
        assert_eq!(mul_div(10, 10, 3, Round::Up), Some(34));
        assert_eq!(mul_div(9, 10, 3, Round::Up), Some(30));
        assert_eq!(
            mul_div(u128::MAX, u128::MAX, u128::MAX, Round::Down),
            Some(u128::MAX)
        );
        assert_eq!(mul_div(u128::MAX, 2, 1, Round::Down), None);
        assert_eq!(mul_div(1, 1, 0, Round::Down), None);
        assert_eq!(sqrt_mul(1_000, 4_000), 2_000);
        assert_eq!(sqrt_mul(2, 1), 1);
        assert_eq!(sqrt_mul(u128::MAX, u128::MAX), u128::MAX);
        assert_eq!(
            U256::mul(u128::MAX, 2).add_u128(2),
            Some(U256 { hi: 2, lo: 0 })
        );
    }

    proptest! {
        #[test]
        fn agrees_with_u128_where_it_fits(a in 0u128..1 << 64, b in 0u128..1 << 64, c in 1u128..u128::MAX) {
            let p = a * b;
            prop_assert_eq!(mul_div(a, b, c, Round::Down), Some(p / c));
            prop_assert_eq!(mul_div(a, b, c, Round::Up), Some(p.div_ceil(c)));
            let r = sqrt_mul(a, b);
            prop_assert!(r * r <= p && (r + 1) * (r + 1) > p);
        }

        #[test]
        fn wide_division_inverts_multiplication(a: u128, b in 1u128.., ) {
            prop_assert_eq!(mul_div(a, b, b, Round::Down), Some(a));
            prop_assert_eq!(mul_div(a, b, b, Round::Up), Some(a));
            let r = sqrt_mul(a, a);
            prop_assert_eq!(r, a);
        }
    }
}
