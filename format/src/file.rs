//! The object file format of the disk and local-cold tiers.
//!
//! ```text
//! magic      8 bytes   "TIERED\0\x01" (format version 1)
//! meta_len   u32 LE    length of the JSON metadata
//! data_hash  u64 LE    xxh3-64 of the data (fast verification on every read)
//! meta       JSON      ObjectMeta (carries the key and the sha256 checksum)
//! data       meta.size bytes
//! ```
//!
//! A file is written whole to a temporary name, fsync'd, then renamed into
//! place, so a reader sees either the old file or the new one. [`decode`]
//! rejects anything that does not parse, has the wrong length or fails the
//! data hash: a torn or tampered file is reported as corrupt, never served.
//! [`encode`] refuses what [`decode`] would refuse: metadata larger than
//! [`MAX_META_LEN`] is an error before anything is written.
//! [`read_header`] reads the header alone (the index rebuild, `head`, and the
//! streamed reads of large objects, which check the data hash at the end).

use bytes::Bytes;

use crate::object::{Object, ObjectMeta};

/// File magic: format name and version.
pub const MAGIC: &[u8; 8] = b"TIERED\0\x01";
/// Bytes before the metadata.
pub const PREFIX_LEN: usize = 8 + 4 + 8;
/// The largest metadata block accepted (keys are ≤ 1 KiB; custom metadata is
/// bounded by the HTTP layer well below this).
pub const MAX_META_LEN: usize = 1 << 20;

/// Why a file could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    #[error("file is shorter than its header ({0} bytes)")]
    Truncated(usize),
    #[error("not a tiered object file (bad magic)")]
    BadMagic,
    #[error("metadata length {0} is out of range")]
    BadMetaLength(usize),
    #[error("metadata does not parse: {0}")]
    BadMeta(String),
    #[error("data is {actual} bytes; the header says {expected}")]
    WrongLength { expected: u64, actual: u64 },
    #[error("data does not match its hash")]
    HashMismatch,
    /// [`encode`] was given metadata the format cannot hold.
    #[error("metadata is {0} bytes as JSON; the file format holds at most {MAX_META_LEN}")]
    MetaTooLarge(usize),
}

/// The fast hash of the data, stored in the header.
pub fn data_hash(data: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(data)
}

/// Serialize an object into file bytes; refused when its metadata is larger
/// than [`MAX_META_LEN`] (the file could not be read back).
pub fn encode(object: &Object) -> Result<Vec<u8>, FormatError> {
    let mut out = encode_header(&object.meta, data_hash(&object.data), object.data.len())?;
    out.extend_from_slice(&object.data);
    Ok(out)
}

/// The header alone (for data written separately), with room reserved for
/// `data_capacity` more bytes; refused like [`encode`].
pub fn encode_header(meta: &ObjectMeta, data_hash: u64, data_capacity: usize) -> Result<Vec<u8>, FormatError> {
    let meta = serde_json::to_vec(meta).expect("metadata always serializes");
    if meta.len() > MAX_META_LEN {
        return Err(FormatError::MetaTooLarge(meta.len()));
    }
    let mut out = Vec::with_capacity(PREFIX_LEN + meta.len() + data_capacity);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(&data_hash.to_le_bytes());
    out.extend_from_slice(&meta);
    Ok(out)
}

/// Parse the header: the metadata, the stored data hash and where data starts.
pub fn decode_header(file: &[u8]) -> Result<(ObjectMeta, u64, usize), FormatError> {
    if file.len() < PREFIX_LEN {
        return Err(FormatError::Truncated(file.len()));
    }
    if &file[..8] != MAGIC {
        return Err(FormatError::BadMagic);
    }
    let meta_len = u32::from_le_bytes(file[8..12].try_into().expect("4 bytes")) as usize;
    if meta_len > MAX_META_LEN {
        return Err(FormatError::BadMetaLength(meta_len));
    }
    let hash = u64::from_le_bytes(file[12..20].try_into().expect("8 bytes"));
    let end = PREFIX_LEN + meta_len;
    let meta_bytes = file.get(PREFIX_LEN..end).ok_or(FormatError::Truncated(file.len()))?;
    let meta: ObjectMeta = serde_json::from_slice(meta_bytes).map_err(|e| FormatError::BadMeta(e.to_string()))?;
    Ok((meta, hash, end))
}

/// What an object file's header says, read without its data.
#[derive(Debug)]
pub struct Header {
    pub meta: ObjectMeta,
    /// The xxh3 of the data recorded in the header.
    pub data_hash: u64,
    /// Where the data starts in the file.
    pub data_start: usize,
    pub file_len: u64,
}

/// Why a header could not be read from a file.
#[derive(Debug)]
pub enum HeaderError {
    Io(std::io::Error),
    Format(FormatError),
}

/// Read just the header of the object file at `path`, checking that the
/// file's length agrees with it.
pub fn read_header(path: &std::path::Path) -> Result<Header, HeaderError> {
    read_open_header(&mut std::fs::File::open(path).map_err(HeaderError::Io)?)
}

/// [`read_header`] of an open file, left positioned at the data.
pub fn read_open_header(file: &mut std::fs::File) -> Result<Header, HeaderError> {
    use std::io::Read;
    let file_len = file.metadata().map_err(HeaderError::Io)?.len();
    let truncated = |_| HeaderError::Format(FormatError::Truncated(file_len as usize));
    let mut head = vec![0u8; PREFIX_LEN];
    file.read_exact(&mut head).map_err(truncated)?;
    let meta_len = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes")) as usize;
    if meta_len <= MAX_META_LEN {
        let mut rest = vec![0u8; meta_len];
        file.read_exact(&mut rest).map_err(truncated)?;
        head.extend_from_slice(&rest);
    }
    let (meta, data_hash, data_start) = decode_header(&head).map_err(HeaderError::Format)?;
    if file_len != data_start as u64 + meta.size {
        let actual = file_len.saturating_sub(data_start as u64);
        return Err(HeaderError::Format(FormatError::WrongLength { expected: meta.size, actual }));
    }
    Ok(Header { meta, data_hash, data_start, file_len })
}

/// Parse and verify a whole file.
pub fn decode(file: Bytes) -> Result<Object, FormatError> {
    let (meta, hash, start) = decode_header(&file)?;
    let actual = (file.len() - start) as u64;
    if actual != meta.size {
        return Err(FormatError::WrongLength { expected: meta.size, actual });
    }
    let data = file.slice(start..);
    if data_hash(&data) != hash {
        return Err(FormatError::HashMismatch);
    }
    Ok(Object::new(meta, data))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::object::checksum;

    fn sample() -> Object {
        let data = Bytes::from_static(b"hello world");
        let meta = ObjectMeta {
            key: "k/../x".into(),
            size: 11,
            original_size: 11,
            created_ms: 1,
            expires_ms: None,
            checksum: checksum(&data),
            codec: Default::default(),
            content_type: Some("text/plain".into()),
            metadata: [("a".to_string(), "b".to_string())].into(),
            etag: None,
            validated_ms: None,
        };
        Object::new(meta, data)
    }

    #[test]
    fn round_trips() {
        let obj = sample();
        assert_eq!(decode(Bytes::from(encode(&obj).unwrap())), Ok(obj));
    }

    #[test]
    fn rejects_every_kind_of_damage() {
        let file = encode(&sample()).unwrap();
        assert_eq!(decode(Bytes::copy_from_slice(&file[..5])), Err(FormatError::Truncated(5)));
        let mut bad = file.clone();
        bad[0] = b'X';
        assert_eq!(decode(Bytes::from(bad)), Err(FormatError::BadMagic));
        let mut bad = file.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert_eq!(decode(Bytes::from(bad)), Err(FormatError::HashMismatch));
        assert!(matches!(
            decode(Bytes::copy_from_slice(&file[..file.len() - 1])),
            Err(FormatError::WrongLength { .. })
        ));
        let mut bad = file.clone();
        bad[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(matches!(decode(Bytes::from(bad)), Err(FormatError::BadMetaLength(_))));
        let mut bad = file;
        bad[PREFIX_LEN] = b'!';
        assert!(matches!(decode(Bytes::from(bad)), Err(FormatError::BadMeta(_))));
    }

    /// Found by the `file_roundtrip` fuzz target: `encode` wrote files with
    /// more than `MAX_META_LEN` bytes of metadata, which `decode` refuses, so
    /// the disk and local-cold tiers acknowledged writes they could not read.
    #[test]
    fn encode_refuses_metadata_decode_would_refuse() {
        let with_value = |len: usize| {
            let mut obj = sample();
            Arc::make_mut(&mut obj.meta).metadata.insert("bulk".into(), "x".repeat(len));
            obj
        };
        let base = serde_json::to_vec(&*with_value(0).meta).unwrap().len();
        let largest = with_value(MAX_META_LEN - base);
        let file = encode(&largest).expect("metadata of exactly MAX_META_LEN bytes");
        assert_eq!(decode(Bytes::from(file)), Ok(largest));
        assert_eq!(encode(&with_value(MAX_META_LEN - base + 1)), Err(FormatError::MetaTooLarge(MAX_META_LEN + 1)));
    }
}
