//! DID syntax: the ABNF of the Qifas paper and W3C DID Core §3.1,
//!
//! ```text
//! did                = "did:" method-name ":" method-specific-id
//! method-name        = 1*method-char
//! method-char        = %x61-7A / DIGIT
//! method-specific-id = *( *idchar ":" ) 1*idchar
//! idchar             = ALPHA / DIGIT / "." / "-" / "_" / pct-encoded
//! pct-encoded        = "%" HEXDIG HEXDIG
//! ```
//!
//! and this chain's method on top: the method name is `qs` and the
//! method-specific id is the base58 (Bitcoin alphabet) of the 16 bytes of a
//! [`Did`], with no colons. Percent-encoded octets are decoded before the
//! base58 check, so `did:qs:%35…` names the same DID as `did:qs:5…`; the
//! canonical form, which [`format_did`] writes, never encodes.

use crate::Did;
use alloc::string::String;
use alloc::vec::Vec;

/// This chain's DID method name.
pub const METHOD: &str = "qs";

/// Why a string is not a `did:qs` DID (or DID URL). Positions are byte
/// offsets into the input.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum SyntaxError {
    /// It does not start with `did:`.
    NotDid,
    /// The method name is empty or has a character other than `a`–`z`,
    /// `0`–`9` (at this position).
    BadMethodName(usize),
    /// No `:` after the method name.
    MissingId,
    /// The method-specific id is empty, or ends with `:`.
    EmptyId,
    /// A character that is not an idchar (at this position).
    BadIdChar(usize),
    /// A `%` not followed by two hex digits (at this position).
    BadPercentEncoding(usize),
    /// A well-formed DID of another method.
    UnsupportedMethod(String),
    /// The id is not base58 of 16 bytes.
    BadId,
}

impl core::fmt::Display for SyntaxError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            SyntaxError::NotDid => write!(f, "a DID starts with \"did:\""),
            SyntaxError::BadMethodName(at) => write!(
                f,
                "the method name must be 1 or more of a-z and 0-9 (bad character at {at})"
            ),
            SyntaxError::MissingId => write!(f, "expected \":\" and an id after the method name"),
            SyntaxError::EmptyId => write!(f, "the method-specific id is empty or ends with \":\""),
            SyntaxError::BadIdChar(at) => write!(
                f,
                "character at {at} is not allowed in a DID id (letters, digits, . - _ and %XX)"
            ),
            SyntaxError::BadPercentEncoding(at) => {
                write!(f, "\"%\" at {at} must be followed by two hex digits")
            }
            SyntaxError::UnsupportedMethod(m) => write!(
                f,
                "did:{m} is a valid DID of another method; this chain resolves did:{METHOD} only"
            ),
            SyntaxError::BadId => {
                write!(
                    f,
                    "a did:{METHOD} id is the base58 of 16 bytes (about 22 characters)"
                )
            }
        }
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b.wrapping_sub(b'0')),
        b'a'..=b'f' => Some(b.wrapping_sub(b'a').wrapping_add(10)),
        b'A'..=b'F' => Some(b.wrapping_sub(b'A').wrapping_add(10)),
        _ => None,
    }
}

/// Checks the generic DID syntax and returns (method name, decoded
/// method-specific id).
pub fn parse_generic(s: &str) -> Result<(&str, Vec<u8>), SyntaxError> {
    let rest = s.strip_prefix("did:").ok_or(SyntaxError::NotDid)?;
    let colon = rest.find(':');
    let method_end = colon.unwrap_or(rest.len());
    let method = rest.get(..method_end).ok_or(SyntaxError::MissingId)?;
    if method.is_empty() {
        return Err(SyntaxError::BadMethodName(4));
    }
    for (i, b) in method.bytes().enumerate() {
        if !(b.is_ascii_lowercase() || b.is_ascii_digit()) {
            return Err(SyntaxError::BadMethodName(4usize.saturating_add(i)));
        }
    }
    let colon = colon.ok_or(SyntaxError::MissingId)?;
    let id_start = colon.saturating_add(1);
    let id = rest.get(id_start..).ok_or(SyntaxError::MissingId)?;
    let base = 4usize.saturating_add(id_start);
    if id.is_empty() || id.ends_with(':') {
        return Err(SyntaxError::EmptyId);
    }
    let bytes = id.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0usize;
    while let Some(&b) = bytes.get(i) {
        let at = base.saturating_add(i);
        match b {
            b'%' => {
                let hi = bytes.get(i.saturating_add(1)).copied().and_then(hex_val);
                let lo = bytes.get(i.saturating_add(2)).copied().and_then(hex_val);
                match (hi, lo) {
                    (Some(h), Some(l)) => out.push(h.saturating_mul(16).saturating_add(l)),
                    _ => return Err(SyntaxError::BadPercentEncoding(at)),
                }
                i = i.saturating_add(3);
                continue;
            }
            b if b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b':') => out.push(b),
            _ => return Err(SyntaxError::BadIdChar(at)),
        }
        i = i.saturating_add(1);
    }
    Ok((method, out))
}

/// Parses a `did:qs:` DID.
pub fn parse_did(s: &str) -> Result<Did, SyntaxError> {
    let (method, id) = parse_generic(s)?;
    if method != METHOD {
        return Err(SyntaxError::UnsupportedMethod(String::from(method)));
    }
    let id = core::str::from_utf8(&id).map_err(|_| SyntaxError::BadId)?;
    let mut out = [0u8; 16];
    match bs58::decode(id).onto(&mut out[..]) {
        Ok(16) => {}
        _ => return Err(SyntaxError::BadId),
    }
    Ok(Did(out))
}

/// Parses a DID URL `did:qs:…[/path][?query][#fragment]` into the DID and
/// its fragment (if any). Path and query are accepted and ignored.
pub fn parse_did_url(s: &str) -> Result<(Did, Option<&str>), SyntaxError> {
    let (head, fragment) = match s.split_once('#') {
        Some((h, f)) => (h, Some(f)),
        None => (s, None),
    };
    let end = head.find(['/', '?']).unwrap_or(head.len());
    let did = parse_did(head.get(..end).unwrap_or(head))?;
    Ok((did, fragment))
}

/// The canonical string of a DID: `did:qs:` and the base58 of its bytes.
pub fn format_did(did: &Did) -> String {
    let mut s = String::from("did:qs:");
    s.push_str(&bs58::encode(did.0).into_string());
    s
}

/// Whether `f` is a valid method or service fragment: 1 to
/// [`crate::MAX_FRAGMENT`] of letters, digits, `-`, `.`, `_`, `~` (RFC 3986
/// unreserved characters, so it needs no encoding in a DID URL).
pub fn valid_fragment(f: &[u8]) -> bool {
    !f.is_empty()
        && f.len() <= crate::MAX_FRAGMENT as usize
        && f.iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Whether `u` is an absolute URI as DID Core requires of service
/// endpoints and `alsoKnownAs`: an RFC 3986 scheme (`ALPHA *( ALPHA / DIGIT
/// / "+" / "-" / "." )`), `:`, then at least one visible ASCII character,
/// at most [`crate::MAX_URI`] bytes, no spaces or control characters.
pub fn valid_uri(u: &[u8]) -> bool {
    if u.is_empty() || u.len() > crate::MAX_URI as usize {
        return false;
    }
    let Some(colon) = u.iter().position(|&b| b == b':') else {
        return false;
    };
    let (scheme, rest) = u.split_at(colon);
    let scheme_ok = scheme.first().is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    scheme_ok && rest.len() > 1 && rest.iter().all(|b| b.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_dids_round_trip() {
        for bytes in [[0u8; 16], [0xff; 16], *b"0123456789abcdef"] {
            let did = Did(bytes);
            let s = format_did(&did);
            assert!(s.starts_with("did:qs:"));
            assert_eq!(parse_did(&s), Ok(did));
        }
    }

    #[test]
    fn the_abnf_is_enforced_with_positions() {
        use SyntaxError::*;
        let good = format_did(&Did([7; 16]));
        let id = good.strip_prefix("did:qs:").expect("prefix");
        let cases: Vec<(String, SyntaxError)> = vec![
            ("qs:abc".into(), NotDid),
            ("DID:qs:abc".into(), NotDid),
            ("did::abc".into(), BadMethodName(4)),
            ("did:QS:abc".into(), BadMethodName(4)),
            ("did:q-s:abc".into(), BadMethodName(5)),
            ("did:qs".into(), MissingId),
            ("did:qs:".into(), EmptyId),
            ("did:qs:abc:".into(), EmptyId),
            (alloc::format!("did:qs:{id} "), BadIdChar(7 + id.len())),
            ("did:qs:ab/c".into(), BadIdChar(9)),
            ("did:qs:ab%4".into(), BadPercentEncoding(9)),
            ("did:qs:ab%zz".into(), BadPercentEncoding(9)),
            (
                "did:web:example.com".into(),
                UnsupportedMethod("web".into()),
            ),
            ("did:qs:0OIl".into(), BadId),
            ("did:qs:abc".into(), BadId),
            (alloc::format!("did:qs:{id}{id}"), BadId),
            (alloc::format!("did:qs:x:{id}"), BadId),
        ];
        for (s, want) in cases {
            assert_eq!(parse_did(&s), Err(want), "{s}");
        }
        // Generic DIDs of other methods parse, with colons and encodings.
        assert_eq!(
            parse_generic("did:example:a:b%3Ac.d-e_f"),
            Ok(("example", b"a:b:c.d-e_f".to_vec()))
        );
    }

    #[test]
    fn percent_encoded_ids_name_the_same_did() {
        let did = Did([3; 16]);
        let s = format_did(&did);
        let id = s.strip_prefix("did:qs:").expect("prefix");
        let (first, rest) = id.split_at(1);
        let encoded = alloc::format!("did:qs:%{:02X}{rest}", first.as_bytes()[0]);
        assert_eq!(parse_did(&encoded), Ok(did));
    }

    #[test]
    fn did_urls_split_off_the_fragment() {
        let did = Did([9; 16]);
        let s = alloc::format!("{}/path?x=1#key-1", format_did(&did));
        assert_eq!(parse_did_url(&s), Ok((did, Some("key-1"))));
        assert_eq!(parse_did_url(&format_did(&did)), Ok((did, None)));
    }

    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

    /// Base58 by long division, independently of the bs58 crate.
    fn base58_16(s: &[u8]) -> Option<[u8; 16]> {
        let mut n: Vec<u8> = Vec::new();
        for &c in s {
            let mut carry = ALPHABET.iter().position(|&a| a == c)? as u32;
            for b in n.iter_mut().rev() {
                let v = u32::from(*b) * 58 + carry;
                *b = v as u8;
                carry = v >> 8;
            }
            while carry > 0 {
                n.insert(0, carry as u8);
                carry >>= 8;
            }
        }
        let mut out = alloc::vec![0u8; s.iter().take_while(|&&c| c == b'1').count()];
        out.extend(n);
        out.try_into().ok()
    }

    /// The ABNF and the method, written again without the parser's code.
    fn oracle(s: &str) -> Option<[u8; 16]> {
        let id = s.strip_prefix("did:qs:")?.as_bytes();
        let mut decoded = Vec::new();
        let mut i = 0;
        while i < id.len() {
            if id[i] == b'%' {
                let h = core::str::from_utf8(id.get(i + 1..i + 3)?).ok()?;
                if !h.bytes().all(|b| b.is_ascii_hexdigit()) {
                    return None;
                }
                decoded.push(u8::from_str_radix(h, 16).ok()?);
                i += 3;
            } else if id[i].is_ascii_alphanumeric() || b".-_:".contains(&id[i]) {
                decoded.push(id[i]);
                i += 1;
            } else {
                return None;
            }
        }
        base58_16(&decoded)
    }

    proptest::proptest! {
        /// The fuzz target's input space, bounded: the parser accepts
        /// exactly what the oracle accepts, with the same bytes.
        #[test]
        fn the_parser_agrees_with_the_abnf_oracle(
            prefix in proptest::sample::select(vec!["did:qs:", "did:qs:1", "did:QS:", "did:", ""]),
            body in "[1-9A-HJ-NP-Za-km-z%0-9a-f:._ -]{0,30}",
            canonical in proptest::array::uniform16(proptest::num::u8::ANY),
        ) {
            let s = alloc::format!("{prefix}{body}");
            proptest::prop_assert_eq!(parse_did(&s).ok().map(|d| d.0), oracle(&s), "{}", s);
            let c = format_did(&Did(canonical));
            proptest::prop_assert_eq!(parse_did(&c).ok().map(|d| d.0), Some(canonical));
            proptest::prop_assert_eq!(oracle(&c), Some(canonical));
        }
    }

    #[test]
    fn fragments_and_uris() {
        assert!(valid_fragment(b"key-1"));
        assert!(!valid_fragment(b""));
        assert!(!valid_fragment(b"key 1"));
        assert!(!valid_fragment(b"key#1"));
        assert!(!valid_fragment(&[b'a'; 33]));
        assert!(valid_uri(b"https://example.com/x"));
        assert!(valid_uri(b"did:qs:abc"));
        assert!(!valid_uri(b"example.com"));
        assert!(!valid_uri(b"1http://x"));
        assert!(!valid_uri(b"https:"));
        assert!(!valid_uri(b"https://a b"));
        assert!(!valid_uri(&[b'a'; 257]));
    }
}
