//! Key rules and keys from URL paths, against reference implementations.
//!
//! - `validate_bytes` accepts exactly the documented rule set: UTF-8, 1..=1024
//!   bytes, no control character (Unicode Cc: U+0000..=U+001F and
//!   U+007F..=U+009F), and a refusal names the first rule broken, at the first
//!   offending character;
//! - `from_url_path` equals a hand-written percent decoder (`%` and two hex
//!   digits is a byte; anything else, `+` included, is itself) followed by
//!   `validate_bytes`;
//! - `key_hash` of an accepted key is 64 lowercase hex digits, deterministic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tiered_format::key::{KeyError, MAX_KEY_BYTES, from_url_path, key_hash, validate_bytes};

/// The documented rules, written independently of `key.rs`.
fn reference(bytes: &[u8]) -> Result<&str, KeyError> {
    let Ok(key) = std::str::from_utf8(bytes) else { return Err(KeyError::NotUtf8) };
    if key.is_empty() {
        return Err(KeyError::Empty);
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(KeyError::TooLong { len: key.len() });
    }
    let cc = |c: char| matches!(c as u32, 0..=0x1f | 0x7f..=0x9f);
    if let Some((index, c)) = key.char_indices().find(|&(_, c)| cc(c)) {
        return Err(KeyError::ControlCharacter { index, code: c as u32 });
    }
    Ok(key)
}

fn percent_decode(raw: &str) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = raw.as_bytes();
    let (mut out, mut i) = (Vec::new(), 0);
    while i < bytes.len() {
        let pair = (bytes[i] == b'%').then(|| (bytes.get(i + 1), bytes.get(i + 2)));
        if let Some((Some(&h), Some(&l))) = pair
            && let (Some(h), Some(l)) = (hex(h), hex(l))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}

fuzz_target!(|input: &[u8]| {
    let accepted = validate_bytes(input);
    assert_eq!(accepted, reference(input), "validate_bytes({input:?})");
    if let Ok(key) = accepted {
        let hash = key_hash(key);
        assert!(hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')), "{hash}");
        assert_eq!(hash, key_hash(key));
    }
    let path = String::from_utf8_lossy(input);
    let decoded = percent_decode(&path);
    let expected = reference(&decoded).map(str::to_string);
    assert_eq!(from_url_path(&path), expected, "from_url_path({path:?})");
});
