//! Key rules: UTF-8, 1..=1024 bytes (S3's limit), no NUL or control characters.
//!
//! Keys are validated before anything is written. They are never used as file
//! paths: the disk and local-cold tiers name files by a hash of the key
//! ([`key_hash`]), so `../../etc/passwd` is an ordinary key.

use sha2::{Digest, Sha256};

use crate::error::KeyError;

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

/// The hex sha256 of a key: the file name an object is stored under.
pub fn key_hash(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(validate_bytes(b"\xff\xfe"), Err(KeyError::NotUtf8));
        let too_long = "é".repeat(513);
        assert!(matches!(validate(&too_long), Err(KeyError::TooLong { len: 1026 })));
    }

    #[test]
    fn hash_names_are_fixed_length_hex() {
        let h = key_hash("../../etc/passwd");
        assert_eq!(h.len(), 64);
        assert!(h.bytes().all(|b| b.is_ascii_hexdigit()));
    }
}
