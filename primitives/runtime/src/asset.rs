//! Asset identifiers shared by the tokens pallet (which owns balances) and
//! the accounts pallet (whose deposit rules and token refusal name assets).
//!
//! An issued token is identified by its issuer and a currency code, as on the
//! XRP Ledger: the same code from two issuers is two different assets.

use codec::{Decode, DecodeWithMemTracking, Encode, MaxEncodedLen};
use core::fmt;
use qstack_core::AccountId;
use scale_info::TypeInfo;

/// A currency code: three characters (`USD`, `EUR`; ASCII letters, digits and
/// `?!@#$%^&*<>(){}[]|`, not `QCT`-style reserved native names), or 20 bytes
/// shown as 40 hex characters for anything else.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub enum TokenCode {
    /// A three-character code.
    #[codec(index = 0)]
    Standard([u8; 3]),
    /// A 160-bit code (40 hex characters).
    #[codec(index = 1)]
    Hex([u8; 20]),
}

/// Why a currency code was refused.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TokenCodeError {
    /// Neither 3 characters nor 40 hex characters.
    BadLength(usize),
    /// A character outside the allowed set of a 3-character code.
    BadCharacter(char),
    /// 40 characters that are not all hex digits.
    BadHex,
    /// All-zero 160-bit codes are reserved (the XRP Ledger's native code).
    Reserved,
}

impl fmt::Display for TokenCodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadLength(n) => write!(
                f,
                "a token code has 3 characters or 40 hex characters, not {n}"
            ),
            Self::BadCharacter(c) => write!(f, "{c:?} is not allowed in a 3-character token code"),
            Self::BadHex => write!(f, "a 40-character token code must be hex"),
            Self::Reserved => write!(f, "the all-zero token code is reserved"),
        }
    }
}

const CODE_PUNCTUATION: &[u8] = b"?!@#$%^&*<>(){}[]|";

impl TokenCode {
    /// Parses `USD` or 40 hex characters.
    pub fn parse(s: &str) -> Result<Self, TokenCodeError> {
        let bytes = s.as_bytes();
        if let Ok(code) = <[u8; 3]>::try_from(bytes) {
            if let Some(&b) = code
                .iter()
                .find(|b| !(b.is_ascii_alphanumeric() || CODE_PUNCTUATION.contains(b)))
            {
                return Err(TokenCodeError::BadCharacter(char::from(b)));
            }
            return Ok(Self::Standard(code));
        }
        if bytes.len() != 40 {
            return Err(match s.chars().find(|c| !c.is_ascii()) {
                Some(c) if s.chars().count() == 3 => TokenCodeError::BadCharacter(c),
                _ => TokenCodeError::BadLength(s.chars().count()),
            });
        }
        let mut out = [0u8; 20];
        for (slot, pair) in out.iter_mut().zip(bytes.chunks_exact(2)) {
            let [hi, lo] = pair else {
                return Err(TokenCodeError::BadHex);
            };
            let (Some(hi), Some(lo)) = (hex_val(*hi), hex_val(*lo)) else {
                return Err(TokenCodeError::BadHex);
            };
            *slot = (hi << 4) | lo;
        }
        if out == [0u8; 20] {
            return Err(TokenCodeError::Reserved);
        }
        Ok(Self::Hex(out))
    }

    /// Whether the code is well-formed (a decoded value may not be).
    pub fn is_valid(&self) -> bool {
        match self {
            Self::Standard(c) => c
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || CODE_PUNCTUATION.contains(b)),
            Self::Hex(h) => *h != [0u8; 20],
        }
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

impl fmt::Display for TokenCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Standard(c) => {
                for &b in c {
                    write!(f, "{}", char::from(b))?;
                }
                Ok(())
            }
            Self::Hex(h) => {
                for b in h {
                    write!(f, "{b:02X}")?;
                }
                Ok(())
            }
        }
    }
}

impl fmt::Debug for TokenCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenCode({self})")
    }
}

/// An asset: the chain's native token, or a token issued by an account.
#[derive(
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Debug,
    Encode,
    Decode,
    DecodeWithMemTracking,
    MaxEncodedLen,
    TypeInfo,
)]
pub enum AssetId {
    /// The native token (fees, staking).
    #[codec(index = 0)]
    Native,
    /// A token issued by `issuer` under `code`.
    #[codec(index = 1)]
    Issued {
        /// The issuing account.
        issuer: AccountId,
        /// Its currency code.
        code: TokenCode,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_parse_and_print() {
        let usd = TokenCode::parse("USD").unwrap();
        assert_eq!(usd.to_string(), "USD");
        let hex = "0158415500000000C1F76FF6ECB0BAC600000000";
        let h = TokenCode::parse(hex).unwrap();
        assert_eq!(h.to_string(), hex);
        assert_eq!(TokenCode::parse(&hex.to_lowercase()).unwrap(), h);
        assert_eq!(TokenCode::parse("US"), Err(TokenCodeError::BadLength(2)));
        assert_eq!(
            TokenCode::parse("ÜSD"),
            Err(TokenCodeError::BadCharacter('Ü'))
        );
        assert_eq!(
            TokenCode::parse("U D"),
            Err(TokenCodeError::BadCharacter(' '))
        );
        assert_eq!(
            TokenCode::parse(&"g".repeat(40)),
            Err(TokenCodeError::BadHex)
        );
        assert_eq!(
            TokenCode::parse(&"0".repeat(40)),
            Err(TokenCodeError::Reserved)
        );
        assert!(!TokenCode::Standard(*b"a b").is_valid());
        assert!(usd.is_valid());
    }
}
