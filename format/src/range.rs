//! Byte ranges of an object (RFC 9110 §14): what a reader asks for with
//! `Range: bytes=…`, and the bytes that request names once the object's
//! length is known.
//!
//! [`ByteRange::parse`] reads a `Range` header value. One range is served
//! (`bytes=a-b`, `bytes=a-`, `bytes=-n`); a value listing several ranges, or
//! another unit, is not an error but `Ok(None)`: RFC 9110 lets a server ignore
//! a range it does not serve and answer the whole representation, which is
//! what S3 does with several ranges too. A value that names one range but
//! does not parse (`bytes=5-2`, `bytes=x-`) is an error, reported as a bad
//! request. [`ByteRange::resolve`] turns a request into the bytes it names
//! in an object of a given length, or `None` when it names none of them
//! (answered `416 Range Not Satisfiable`).

use std::ops::Range;

/// One byte range, as asked for: positions are those of the object's value
/// (for a compressed object, of its decoded bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteRange {
    /// `bytes=first-last`: both ends included.
    FromTo { first: u64, last: u64 },
    /// `bytes=first-`: from `first` to the end.
    From { first: u64 },
    /// `bytes=-len`: the last `len` bytes.
    Suffix { len: u64 },
}

/// A `Range` header value that names one range of bytes but cannot be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("Range {value:?}: {reason}")]
pub struct RangeError {
    pub value: String,
    pub reason: &'static str,
}

impl ByteRange {
    /// Read a `Range` header value. `Ok(None)`: a form that is not served
    /// (several ranges, a unit other than `bytes`), to be ignored.
    pub fn parse(value: &str) -> Result<Option<ByteRange>, RangeError> {
        let error = |reason| RangeError { value: value.to_string(), reason };
        let Some((unit, spec)) = value.trim().split_once('=') else {
            return Err(error("expected bytes=first-last, bytes=first- or bytes=-length"));
        };
        if !unit.trim().eq_ignore_ascii_case("bytes") || spec.contains(',') {
            return Ok(None);
        }
        let Some((first, last)) = spec.trim().split_once('-') else {
            return Err(error("expected bytes=first-last, bytes=first- or bytes=-length"));
        };
        let number = |text: &str| -> Result<u64, RangeError> {
            if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                return Err(error("a position is not a decimal number"));
            }
            text.parse().map_err(|_| error("a position is too large"))
        };
        let range = match (first.trim(), last.trim()) {
            ("", "") => return Err(error("neither end given")),
            ("", len) => ByteRange::Suffix { len: number(len)? },
            (first, "") => ByteRange::From { first: number(first)? },
            (first, last) => {
                let (first, last) = (number(first)?, number(last)?);
                if last < first {
                    return Err(error("the last position is before the first"));
                }
                ByteRange::FromTo { first, last }
            }
        };
        Ok(Some(range))
    }

    /// The bytes this range names in a value of `len` bytes (end
    /// exclusive), or `None` when it names none: it starts at or past the
    /// end, or is a suffix of length 0.
    pub fn resolve(self, len: u64) -> Option<Range<u64>> {
        let range = match self {
            ByteRange::FromTo { first, last } => first..last.saturating_add(1).min(len),
            ByteRange::From { first } => first..len,
            ByteRange::Suffix { len: suffix } => len.saturating_sub(suffix)..len,
        };
        (range.start < range.end).then_some(range)
    }

    /// The form sent to a server that resolves ranges itself (S3's `Range`).
    pub fn header_value(self) -> String {
        match self {
            ByteRange::FromTo { first, last } => format!("bytes={first}-{last}"),
            ByteRange::From { first } => format!("bytes={first}-"),
            ByteRange::Suffix { len } => format!("bytes=-{len}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ByteRange::{self, *};

    #[test]
    fn parses_the_three_forms_and_ignores_what_is_not_served() {
        assert_eq!(ByteRange::parse("bytes=0-9"), Ok(Some(FromTo { first: 0, last: 9 })));
        assert_eq!(ByteRange::parse("bytes=100-"), Ok(Some(From { first: 100 })));
        assert_eq!(ByteRange::parse("bytes=-500"), Ok(Some(Suffix { len: 500 })));
        assert_eq!(ByteRange::parse(" Bytes = 3 - 4 "), Ok(Some(FromTo { first: 3, last: 4 })));
        assert_eq!(ByteRange::parse("bytes=0-1,5-6"), Ok(None), "several ranges: the whole value");
        assert_eq!(ByteRange::parse("items=0-1"), Ok(None), "another unit: the whole value");
        for bad in ["bytes=5-2", "bytes=-", "bytes=x-", "bytes=1-y", "bytes=+1-2", "bytes 0-1", "bytes=0", ""] {
            assert!(ByteRange::parse(bad).is_err(), "{bad:?} is refused");
        }
        assert!(ByteRange::parse("bytes=99999999999999999999-").is_err(), "overflow is refused");
    }

    #[test]
    fn resolves_against_the_length() {
        assert_eq!(FromTo { first: 0, last: 9 }.resolve(100), Some(0..10));
        assert_eq!(FromTo { first: 90, last: 200 }.resolve(100), Some(90..100), "clamped to the end");
        assert_eq!(FromTo { first: 0, last: u64::MAX }.resolve(5), Some(0..5));
        assert_eq!(FromTo { first: 100, last: 200 }.resolve(100), None, "starts at the end");
        assert_eq!(From { first: 99 }.resolve(100), Some(99..100));
        assert_eq!(From { first: 0 }.resolve(0), None, "nothing in an empty value");
        assert_eq!(Suffix { len: 10 }.resolve(100), Some(90..100));
        assert_eq!(Suffix { len: 1000 }.resolve(100), Some(0..100), "a suffix longer than the value is all of it");
        assert_eq!(Suffix { len: 0 }.resolve(100), None);
        assert_eq!(FromTo { first: 3, last: 4 }.header_value(), "bytes=3-4");
        assert_eq!(Suffix { len: 7 }.header_value(), "bytes=-7");
    }
}
