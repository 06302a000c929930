//! Key rules: UTF-8, 1..=1024 bytes (S3's limit), no NUL or control characters.
//!
//! Keys are validated before anything is written. They are never used as file
//! paths: the disk and local-cold tiers name files by a hash of the key
//! ([`key_hash`]), so `../../etc/passwd` is an ordinary key.
//!
//! Keys in URL paths are percent-decoded by [`from_url_path`] before the rules
//! apply, so `%2F` and `/` are the same key, `%FF` breaks the UTF-8 rule and
//! `+` stays a plus.

use percent_encoding::percent_decode_str;
use sha2::{Digest, Sha256};

/// Why a key was rejected. The message names the rule broken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    #[error("key is empty; keys are 1 to 1024 bytes of UTF-8")]
    Empty,
    #[error("key is {len} bytes; the limit is 1024 bytes")]
    TooLong { len: usize },
    #[error(
        "key contains a control character (U+{code:04X}) at byte {index}; NUL and control characters are not allowed"
    )]
    ControlCharacter { index: usize, code: u32 },
    #[error("key is not valid UTF-8")]
    NotUtf8,
}

/// The longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// Check a key against the rules.
pub fn validate(key: &str) -> Result<(), KeyError> {
    if key.is_empty() {
        return Err(KeyError::Empty);
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(KeyError::TooLong { len: key.len() });
    }
    // Printable ASCII, the usual key, holds no control character: checked a
    // byte at a time without decoding (every read checks its key).
    if key.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        return Ok(());
    }
    if let Some((index, c)) = key.char_indices().find(|(_, c)| c.is_control()) {
        return Err(KeyError::ControlCharacter { index, code: c as u32 });
    }
    Ok(())
}

/// Validate raw bytes as a key (for callers holding undecoded input).
pub fn validate_bytes(key: &[u8]) -> Result<&str, KeyError> {
    let key = std::str::from_utf8(key).map_err(|_| KeyError::NotUtf8)?;
    validate(key)?;
    Ok(key)
}

/// The key a percent-encoded URL path segment names, checked against the rules.
pub fn from_url_path(raw: &str) -> Result<String, KeyError> {
    let bytes: Vec<u8> = percent_decode_str(raw).collect();
    Ok(validate_bytes(&bytes)?.to_string())
}

/// The hex sha256 of a key: the file name an object is stored under.
///
/// Computed on every disk-tier read, so written out by hand: `hex::encode`
/// goes through a `char` iterator and costs as much as the sha256 itself.
pub fn key_hash(key: &str) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut hex = [0u8; 64];
    for (pair, byte) in hex.chunks_exact_mut(2).zip(Sha256::digest(key.as_bytes())) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0xf)];
    }
    String::from_utf8(hex.to_vec()).expect("hex digits are ASCII")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_hashes_are_lowercase_hex_sha256() {
        assert_eq!(key_hash("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        for key in ["a", "ключ", &"x".repeat(1024)] {
            assert_eq!(key_hash(key), hex::encode(Sha256::digest(key.as_bytes())), "{key:?}");
        }
    }

    #[test]
    fn accepts_ordinary_and_path_like_keys() {
        for key in ["a", "user:1", "../../etc/passwd", "/abs", "a/../../b", "ключ", &"x".repeat(1024)] {
            assert_eq!(validate(key), Ok(()), "{key:?}");
        }
    }

    #[test]
    fn rejects_each_broken_rule_by_name() {
        assert_eq!(validate(""), Err(KeyError::Empty));
        assert_eq!(validate(&"x".repeat(1025)), Err(KeyError::TooLong { len: 1025 }));
        assert_eq!(validate("a\0b"), Err(KeyError::ControlCharacter { index: 1, code: 0 }));
        assert_eq!(validate("a\nb"), Err(KeyError::ControlCharacter { index: 1, code: 10 }));
        assert_eq!(validate("\u{7f}"), Err(KeyError::ControlCharacter { index: 0, code: 0x7f }));
        assert_eq!(validate("é\u{85}"), Err(KeyError::ControlCharacter { index: 2, code: 0x85 }));
        assert_eq!(validate_bytes(b"\xff\xfe"), Err(KeyError::NotUtf8));
        let too_long = "é".repeat(513);
        assert!(matches!(validate(&too_long), Err(KeyError::TooLong { len: 1026 })));
    }

    #[test]
    fn url_paths_are_percent_decoded_then_checked() {
        assert_eq!(from_url_path("a/b%2Fc%20d+e").as_deref(), Ok("a/b/c d+e"));
        assert_eq!(from_url_path("%D0%BA").as_deref(), Ok("к"));
        assert_eq!(from_url_path("%FF"), Err(KeyError::NotUtf8));
        assert_eq!(from_url_path("a%00"), Err(KeyError::ControlCharacter { index: 1, code: 0 }));
        assert_eq!(from_url_path(""), Err(KeyError::Empty));
    }

    #[test]
    fn hash_names_are_fixed_length_hex() {
        let h = key_hash("../../etc/passwd");
        assert_eq!(h.len(), 64);
        assert!(h.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
