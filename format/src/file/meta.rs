//! The metadata block of a version 3 header: [`ObjectMeta`] in a fixed
//! binary layout, then the xxh3 of every header byte before it.
//!
//! ```text
//! key            str
//! size           u64
//! original_size  u64
//! created_ms     u64
//! expires_ms     opt u64
//! checksum       str
//! codec          u8        0 identity, 1 gzip
//! content_type   opt str
//! metadata       u32 count, then count × (name str, value str), names ascending
//! etag           opt str
//! validated_ms   opt u64
//! header_hash    u64       xxh3-64 of the file from its magic to the byte before this
//!
//! integers are little-endian; str = u32 length + UTF-8 bytes;
//! opt = u8 0 (absent) or 1 followed by the value
//! ```
//!
//! Every field is read in order and the block must end exactly at the
//! header hash: a field added to [`ObjectMeta`] is a new format version.
//! The header hash means a damaged header is refused like damaged data is,
//! where a version 2 header (JSON) could be misread if a damaged byte left it
//! valid JSON (a digit of an expiry, a letter of the content type).

use super::FormatError;
use crate::object::{Codec, ObjectMeta};

/// Bytes of the header hash that ends the block.
pub(super) const HASH_LEN: usize = 8;

/// Append `meta`'s fields to `out` (the header hash is appended by
/// [`seal`], once the whole header is written).
pub(super) fn encode_fields(meta: &ObjectMeta, out: &mut Vec<u8>) {
    put_str(out, &meta.key);
    out.extend_from_slice(&meta.size.to_le_bytes());
    out.extend_from_slice(&meta.original_size.to_le_bytes());
    out.extend_from_slice(&meta.created_ms.to_le_bytes());
    put_opt_u64(out, meta.expires_ms);
    put_str(out, &meta.checksum);
    out.push(match meta.codec {
        Codec::Identity => 0,
        Codec::Gzip => 1,
    });
    put_opt_str(out, meta.content_type.as_deref());
    out.extend_from_slice(&len_u32(meta.metadata.len()).to_le_bytes());
    for (name, value) in &meta.metadata {
        put_str(out, name);
        put_str(out, value);
    }
    put_opt_str(out, meta.etag.as_deref());
    put_opt_u64(out, meta.validated_ms);
}

/// Append the header hash: the xxh3 of everything in `header` so far.
pub(super) fn seal(header: &mut Vec<u8>) {
    let hash = super::data_hash(header);
    header.extend_from_slice(&hash.to_le_bytes());
}

/// The metadata of a header whose block is `header[fields_start..]`,
/// checked against the header hash that ends it.
pub(super) fn decode(header: &[u8], fields_start: usize) -> Result<ObjectMeta, FormatError> {
    let hashed_len = header.len().checked_sub(HASH_LEN).filter(|&end| end >= fields_start);
    let hashed_len = hashed_len.ok_or_else(|| bad("shorter than its header hash"))?;
    let (hashed, stored) = header.split_at(hashed_len);
    if super::data_hash(hashed).to_le_bytes() != stored {
        return Err(FormatError::HeaderMismatch);
    }
    let mut fields = Fields(&hashed[fields_start..]);
    let meta = ObjectMeta {
        key: fields.str("key")?,
        size: fields.u64("size")?,
        original_size: fields.u64("original_size")?,
        created_ms: fields.u64("created_ms")?,
        expires_ms: fields.opt_u64("expires_ms")?,
        checksum: fields.str("checksum")?,
        codec: match fields.u8("codec")? {
            0 => Codec::Identity,
            1 => Codec::Gzip,
            other => return Err(bad(format!("unknown codec {other}"))),
        },
        content_type: fields.opt_str("content_type")?,
        metadata: {
            let count = fields.u32("metadata count")?;
            let mut metadata = std::collections::BTreeMap::new();
            for _ in 0..count {
                let name = fields.str("metadata name")?;
                let value = fields.str("metadata value")?;
                if metadata.last_key_value().is_some_and(|(last, _)| *last >= name) {
                    return Err(bad(format!("metadata name {name:?} out of order")));
                }
                metadata.insert(name, value);
            }
            metadata
        },
        etag: fields.opt_str("etag")?,
        validated_ms: fields.opt_u64("validated_ms")?,
    };
    if !fields.0.is_empty() {
        return Err(bad(format!("{} bytes after the last field", fields.0.len())));
    }
    Ok(meta)
}

fn bad(why: impl std::fmt::Display) -> FormatError {
    FormatError::BadMeta(why.to_string())
}

/// A length as the format writes it. Lengths are bounded by
/// [`MAX_META_LEN`](super::MAX_META_LEN) before any file is written, far
/// below `u32::MAX`; a larger one is a bug in the caller.
fn len_u32(len: usize) -> u32 {
    u32::try_from(len).expect("metadata lengths fit in u32")
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&len_u32(s.len()).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

fn put_opt_u64(out: &mut Vec<u8>, v: Option<u64>) {
    match v {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
}

/// The fields not read yet.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn take(&mut self, len: usize, field: &str) -> Result<&[u8], FormatError> {
        if self.0.len() < len {
            return Err(bad(format!("{field} runs past the metadata block")));
        }
        let (taken, rest) = self.0.split_at(len);
        self.0 = rest;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self, field: &str) -> Result<[u8; N], FormatError> {
        Ok(self.take(N, field)?.try_into().expect("took N bytes"))
    }

    fn u8(&mut self, field: &str) -> Result<u8, FormatError> {
        Ok(self.array::<1>(field)?[0])
    }

    fn u32(&mut self, field: &str) -> Result<u32, FormatError> {
        Ok(u32::from_le_bytes(self.array(field)?))
    }

    fn u64(&mut self, field: &str) -> Result<u64, FormatError> {
        Ok(u64::from_le_bytes(self.array(field)?))
    }

    fn str(&mut self, field: &str) -> Result<String, FormatError> {
        let len = self.u32(field)? as usize;
        let bytes = self.take(len, field)?;
        let s = std::str::from_utf8(bytes).map_err(|e| bad(format!("{field} is not UTF-8: {e}")))?;
        Ok(s.to_owned())
    }

    /// The presence byte of an optional field.
    fn present(&mut self, field: &str) -> Result<bool, FormatError> {
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            other => Err(bad(format!("{field} has presence byte {other}"))),
        }
    }

    fn opt_u64(&mut self, field: &str) -> Result<Option<u64>, FormatError> {
        if self.present(field)? { self.u64(field).map(Some) } else { Ok(None) }
    }

    fn opt_str(&mut self, field: &str) -> Result<Option<String>, FormatError> {
        if self.present(field)? { self.str(field).map(Some) } else { Ok(None) }
    }
}
