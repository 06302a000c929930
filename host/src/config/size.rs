//! [`ByteSize`]: byte budgets written the way people write them
//! (`"256MiB"`, `"4 GiB"`, `"64KB"`, `1048576`).
//!
//! Units are case-insensitive. `KiB`/`MiB`/`GiB`/`TiB` (and the short `K`,
//! `M`, `G`, `T`) are powers of 1024; `KB`/`MB`/`GB`/`TB` are powers of 1000;
//! `B` or no unit is bytes. A bare TOML integer is bytes. A fraction is allowed
//! with a unit (`"1.5GiB"`) and rounds down to whole bytes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A number of bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSize(pub u64);

const UNITS: &[(&str, u64)] = &[
    ("", 1),
    ("b", 1),
    ("k", 1 << 10),
    ("kib", 1 << 10),
    ("kb", 1_000),
    ("m", 1 << 20),
    ("mib", 1 << 20),
    ("mb", 1_000_000),
    ("g", 1 << 30),
    ("gib", 1 << 30),
    ("gb", 1_000_000_000),
    ("t", 1 << 40),
    ("tib", 1 << 40),
    ("tb", 1_000_000_000_000),
];

/// Why a size could not be read; the message says what is expected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid size {input:?}: {why}; expected a number with an optional unit \
     (B, KiB, MiB, GiB, TiB, or KB, MB, GB, TB), e.g. \"256MiB\""
)]
pub struct SizeError {
    input: String,
    why: &'static str,
}

impl ByteSize {
    pub const fn bytes(self) -> u64 {
        self.0
    }
}

impl FromStr for ByteSize {
    type Err = SizeError;

    fn from_str(input: &str) -> Result<Self, SizeError> {
        let fail = |why| SizeError { input: input.to_string(), why };
        let s = input.trim();
        let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '_')).unwrap_or(s.len());
        let (number, unit) = (s[..split].replace('_', ""), s[split..].trim().to_ascii_lowercase());
        if number.is_empty() {
            return Err(fail("no number"));
        }
        let &(_, scale) = UNITS.iter().find(|(u, _)| *u == unit).ok_or_else(|| fail("unknown unit"))?;
        let bytes = match number.split_once('.') {
            None => number.parse::<u64>().map_err(|_| fail("not a whole number"))?.checked_mul(scale),
            Some(_) if scale == 1 => return Err(fail("a fraction of a byte")),
            Some(_) => {
                let value: f64 = number.parse().map_err(|_| fail("not a number"))?;
                let bytes = value * scale as f64;
                (bytes < u64::MAX as f64).then_some(bytes as u64)
            }
        };
        bytes.map(ByteSize).ok_or_else(|| fail("too large"))
    }
}

impl fmt::Display for ByteSize {
    /// The largest binary unit that divides the value exactly (`256MiB`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (unit, scale) in [("TiB", 1u64 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] {
            if self.0 >= scale && self.0.is_multiple_of(scale) {
                return write!(f, "{}{unit}", self.0 / scale);
            }
        }
        write!(f, "{}B", self.0)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Bytes(u64),
            Text(String),
        }
        match Raw::deserialize(d).map_err(|_| {
            serde::de::Error::custom("expected a size: a string such as \"256MiB\" or a whole number of bytes")
        })? {
            Raw::Bytes(n) => Ok(ByteSize(n)),
            Raw::Text(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_binary_and_decimal_units() {
        let cases = [
            ("256MiB", 256 << 20),
            ("4 GiB", 4 << 30),
            ("4gib", 4 << 30),
            ("64KB", 64_000),
            ("10", 10),
            ("10B", 10),
            ("1_024", 1024),
            ("1.5GiB", 3 << 29),
            ("2M", 2 << 20),
        ];
        for (input, bytes) in cases {
            assert_eq!(input.parse::<ByteSize>(), Ok(ByteSize(bytes)), "{input}");
        }
    }

    #[test]
    fn rejects_nonsense_with_the_reason() {
        for (input, why) in
            [("", "no number"), ("MiB", "no number"), ("12XB", "unknown unit"), ("1.5", "a fraction of a byte")]
        {
            let err = input.parse::<ByteSize>().unwrap_err().to_string();
            assert!(err.contains(why) && err.contains("256MiB"), "{input}: {err}");
        }
        assert!("99999999999TiB".parse::<ByteSize>().unwrap_err().to_string().contains("too large"));
    }

    #[test]
    fn displays_in_the_largest_exact_unit() {
        assert_eq!(ByteSize(256 << 20).to_string(), "256MiB");
        assert_eq!(ByteSize(1000).to_string(), "1000B");
        assert_eq!(ByteSize(0).to_string(), "0B");
    }
}
