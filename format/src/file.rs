//! The object file format of the disk and local-cold tiers.
//!
//! ```text
//! magic      8 bytes   "TIERED\0\x03" (format version 3)
//! meta_len   u32 LE    length of the metadata block
//! data_hash  u64 LE    xxh3-64 of the data (fast verification on every read)
//! meta       binary    ObjectMeta (carries the key and the sha256 checksum),
//!                      ending with the xxh3-64 of the header before it
//! data       meta.size bytes
//! chunks     u64 LE    xxh3-64 of each CHUNK_LEN bytes of the data (the last
//!                      chunk may be shorter), ceil(meta.size / CHUNK_LEN) of them
//! ```
//!
//! The metadata block's layout is `file/meta.rs`. Its binary fields parse in
//! a fraction of the time JSON took, which matters on the disk tier's read
//! path, and its hash means no damaged header byte goes unnoticed.
//!
//! The chunk table lets a range be read and verified without reading the rest
//! of the object: the chunks that cover it, each checked against its entry
//! ([`verify_chunks`]). It follows the data so that a writer streaming a large
//! object appends it once the data has passed.
//!
//! Earlier versions stay readable, and are written as version 3 when
//! rewritten: version 2 (`"TIERED\0\x02"`) is the same file with the
//! metadata as JSON and no header hash; version 1 (`"TIERED\0\x01"`) is a
//! version 2 file without the chunk table (a range of one is verified by
//! reading the whole data). [`encode_old_header`] writes their headers, for
//! tests of the files earlier releases left on disk.
//!
//! A file is written whole to a temporary name, fsync'd, then renamed into
//! place, so a reader sees either the old file or the new one. [`decode`]
//! rejects anything that does not parse, has the wrong length or fails a
//! hash: a torn or tampered file is reported as corrupt, never served.
//! [`encode`] refuses what [`decode`] would refuse: metadata larger than
//! [`MAX_META_LEN`] is an error before anything is written.
//! [`read_header`] reads the header alone (the index rebuild, `head`, ranges,
//! and the streamed reads of large objects, which check the data hash at the
//! end).
//!
//! [`data_hash`] is xxh3-64 as `twox-hash` computes it, which picks AVX2 at
//! run time where the CPU has it (twice the speed of SSE2 on a verified read
//! of 64 KiB); [`ChunkHasher`] and the tiers' streaming hashers compute the
//! same function incrementally with `xxhash-rust`.

mod meta;

use bytes::Bytes;
use xxhash_rust::xxh3::Xxh3;

use crate::object::{Object, ObjectMeta};

/// File magic of the current format: its name and version (3).
pub const MAGIC: &[u8; 8] = b"TIERED\0\x03";
/// File magic of version 2 (JSON metadata, no header hash), still read.
pub const MAGIC_V2: &[u8; 8] = b"TIERED\0\x02";
/// File magic of version 1 (JSON metadata, no chunk table), still read.
pub const MAGIC_V1: &[u8; 8] = b"TIERED\0\x01";
/// Bytes before the metadata.
pub const PREFIX_LEN: usize = 8 + 4 + 8;
/// The largest metadata block accepted (keys are ≤ 1 KiB; custom metadata is
/// bounded by the HTTP layer well below this).
pub const MAX_META_LEN: usize = 1 << 20;
/// Bytes of data under one entry of the chunk table.
pub const CHUNK_LEN: u64 = 64 * 1024;

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
    #[error("header does not match its hash")]
    HeaderMismatch,
    #[error("chunk {0} of the data does not match its hash")]
    ChunkMismatch(u64),
    /// [`encode`] was given metadata the format cannot hold.
    #[error("metadata is {0} bytes encoded; the file format holds at most {MAX_META_LEN}")]
    MetaTooLarge(usize),
}

/// The fast hash of the data, stored in the header.
pub fn data_hash(data: &[u8]) -> u64 {
    twox_hash::XxHash3_64::oneshot(data)
}

/// Entries in the chunk table of `size` bytes of data.
pub fn chunk_count(size: u64) -> u64 {
    size.div_ceil(CHUNK_LEN)
}

/// Bytes of the chunk table of `size` bytes of data.
pub fn table_len(size: u64) -> u64 {
    8 * chunk_count(size)
}

/// The chunk table of data that arrives in pieces of any length.
#[derive(Clone, Default)]
pub struct ChunkHasher {
    current: Box<Xxh3>,
    filled: u64,
    table: Vec<u8>,
}

impl std::fmt::Debug for ChunkHasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChunkHasher").field("chunks", &(self.table.len() / 8)).finish_non_exhaustive()
    }
}

impl ChunkHasher {
    pub fn new() -> ChunkHasher {
        ChunkHasher::default()
    }

    /// The next bytes of the data.
    pub fn update(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            let take = ((CHUNK_LEN - self.filled) as usize).min(data.len());
            self.current.update(&data[..take]);
            self.filled += take as u64;
            data = &data[take..];
            if self.filled == CHUNK_LEN {
                self.close_chunk();
            }
        }
    }

    fn close_chunk(&mut self) {
        self.table.extend_from_slice(&self.current.digest().to_le_bytes());
        self.current.reset();
        self.filled = 0;
    }

    /// The table, as it is written after the data.
    pub fn finish(mut self) -> Vec<u8> {
        if self.filled > 0 {
            self.close_chunk();
        }
        self.table
    }
}

/// The chunk table of `data`.
pub fn chunk_table(data: &[u8]) -> Vec<u8> {
    let mut table = Vec::with_capacity(table_len(data.len() as u64) as usize);
    for chunk in data.chunks(CHUNK_LEN as usize) {
        table.extend_from_slice(&data_hash(chunk).to_le_bytes());
    }
    table
}

/// Check whole chunks of data against their table entries: `data` starts at
/// chunk `first` and covers one or more chunks (the last may end the
/// object), `table` holds the entries of those chunks.
pub fn verify_chunks(first: u64, data: &[u8], table: &[u8]) -> Result<(), FormatError> {
    let chunks = data.chunks(CHUNK_LEN as usize);
    if chunks.len() * 8 != table.len() {
        return Err(FormatError::WrongLength {
            expected: (table.len() / 8) as u64 * CHUNK_LEN,
            actual: data.len() as u64,
        });
    }
    for (i, (chunk, entry)) in chunks.zip(table.chunks_exact(8)).enumerate() {
        if data_hash(chunk).to_le_bytes() != entry {
            return Err(FormatError::ChunkMismatch(first + i as u64));
        }
    }
    Ok(())
}

/// Serialize an object into file bytes; refused when its metadata is larger
/// than [`MAX_META_LEN`] (the file could not be read back).
pub fn encode(object: &Object) -> Result<Vec<u8>, FormatError> {
    let table = chunk_table(&object.data);
    let mut out = encode_header(&object.meta, data_hash(&object.data), object.data.len() + table.len())?;
    out.extend_from_slice(&object.data);
    out.extend_from_slice(&table);
    Ok(out)
}

/// The header alone (for data and chunk table written separately), with room
/// reserved for `capacity` more bytes; refused like [`encode`].
pub fn encode_header(meta: &ObjectMeta, data_hash: u64, capacity: usize) -> Result<Vec<u8>, FormatError> {
    let mut out = Vec::with_capacity(PREFIX_LEN + 256 + capacity);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&[0; 4]); // meta_len, known once the fields are written
    out.extend_from_slice(&data_hash.to_le_bytes());
    meta::encode_fields(meta, &mut out);
    let meta_len = out.len() - PREFIX_LEN + meta::HASH_LEN;
    if meta_len > MAX_META_LEN {
        return Err(FormatError::MetaTooLarge(meta_len));
    }
    out[8..12].copy_from_slice(&(meta_len as u32).to_le_bytes());
    meta::seal(&mut out);
    Ok(out)
}

/// The header as version 2 (`chunked`) or version 1 wrote it: JSON metadata,
/// no header hash, no bound checked. Nothing writes these files any more;
/// tests use it to make the files earlier releases left on disk.
pub fn encode_old_header(meta: &ObjectMeta, data_hash: u64, chunked: bool) -> Vec<u8> {
    let meta = serde_json::to_vec(meta).expect("metadata always serializes");
    let mut out = Vec::with_capacity(PREFIX_LEN + meta.len());
    out.extend_from_slice(if chunked { MAGIC_V2 } else { MAGIC_V1 });
    out.extend_from_slice(&(meta.len() as u32).to_le_bytes());
    out.extend_from_slice(&data_hash.to_le_bytes());
    out.extend_from_slice(&meta);
    out
}

/// What an object file's header says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub meta: ObjectMeta,
    /// The xxh3 of the data recorded in the header.
    pub data_hash: u64,
    /// Where the data starts in the file.
    pub data_start: usize,
    /// Whether a chunk table follows the data (versions 2 and 3).
    pub chunked: bool,
    /// The length the whole file has: header, data and chunk table.
    pub file_len: u64,
}

impl Header {
    /// Where the chunk table starts in the file (meaningful when `chunked`).
    pub fn table_start(&self) -> u64 {
        self.data_start as u64 + self.meta.size
    }
}

/// Parse the header at the start of `file` (the rest of the file need not
/// be there).
pub fn decode_header(file: &[u8]) -> Result<Header, FormatError> {
    if file.len() < PREFIX_LEN {
        return Err(FormatError::Truncated(file.len()));
    }
    // Whether the metadata is binary (else JSON), whether a chunk table follows the data.
    let (binary, chunked) = match &file[..8] {
        m if m == MAGIC => (true, true),
        m if m == MAGIC_V2 => (false, true),
        m if m == MAGIC_V1 => (false, false),
        _ => return Err(FormatError::BadMagic),
    };
    let meta_len = u32::from_le_bytes(file[8..12].try_into().expect("4 bytes")) as usize;
    if meta_len > MAX_META_LEN {
        return Err(FormatError::BadMetaLength(meta_len));
    }
    let data_hash = u64::from_le_bytes(file[12..20].try_into().expect("8 bytes"));
    let data_start = PREFIX_LEN + meta_len;
    let header = file.get(..data_start).ok_or(FormatError::Truncated(file.len()))?;
    let meta: ObjectMeta = if binary {
        meta::decode(header, PREFIX_LEN)?
    } else {
        serde_json::from_slice(&header[PREFIX_LEN..]).map_err(|e| FormatError::BadMeta(e.to_string()))?
    };
    let table = if chunked { table_len(meta.size) } else { 0 };
    let file_len = (data_start as u64).checked_add(meta.size).and_then(|end| end.checked_add(table));
    let file_len = file_len.ok_or(FormatError::WrongLength { expected: meta.size, actual: 0 })?;
    Ok(Header { meta, data_hash, data_start, chunked, file_len })
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
    let actual_len = file.metadata().map_err(HeaderError::Io)?.len();
    let truncated = |_| HeaderError::Format(FormatError::Truncated(actual_len as usize));
    let mut head = vec![0u8; PREFIX_LEN];
    file.read_exact(&mut head).map_err(truncated)?;
    let meta_len = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes")) as usize;
    if meta_len <= MAX_META_LEN {
        let mut rest = vec![0u8; meta_len];
        file.read_exact(&mut rest).map_err(truncated)?;
        head.extend_from_slice(&rest);
    }
    let header = decode_header(&head).map_err(HeaderError::Format)?;
    if actual_len != header.file_len {
        return Err(HeaderError::Format(wrong_length(&header, actual_len)));
    }
    Ok(header)
}

/// The error for a file of `actual_len` bytes whose header says otherwise.
fn wrong_length(header: &Header, actual_len: u64) -> FormatError {
    let actual = actual_len.saturating_sub(header.file_len - header.meta.size);
    FormatError::WrongLength { expected: header.meta.size, actual }
}

/// Parse and verify a whole file.
pub fn decode(file: Bytes) -> Result<Object, FormatError> {
    let header = decode_header(&file)?;
    if file.len() as u64 != header.file_len {
        return Err(wrong_length(&header, file.len() as u64));
    }
    let start = header.data_start;
    let data = file.slice(start..start + header.meta.size as usize);
    if data_hash(&data) != header.data_hash {
        return Err(FormatError::HashMismatch);
    }
    Ok(Object::new(header.meta, data))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::object::{Codec, checksum};

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
        let last_data_byte = file.len() - table_len(11) as usize - 1;
        bad[last_data_byte] ^= 1;
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
        assert_eq!(decode(Bytes::from(bad)), Err(FormatError::HeaderMismatch));
    }

    /// Every byte of a version 3 file is covered: a flip in the header fails
    /// its hash (or its magic, its length), a flip in the data the data
    /// hash; a flip in the chunk table, which a whole read does not use,
    /// fails the range reads that use it (`verify_chunks`).
    #[test]
    fn a_flipped_byte_anywhere_in_a_version_3_file_is_detected() {
        let obj = sample();
        let file = encode(&obj).unwrap();
        let header = decode_header(&file).unwrap();
        for at in 0..file.len() {
            for flip in [0x01, 0x80] {
                let mut bad = file.clone();
                bad[at] ^= flip;
                let decoded = decode(Bytes::from(bad.clone()));
                if at < header.data_start {
                    assert!(decoded.is_err(), "header byte {at} ^ {flip:#x}: {decoded:?}");
                } else if at < header.table_start() as usize {
                    assert_eq!(decoded, Err(FormatError::HashMismatch), "data byte {at}");
                } else {
                    let table = &bad[header.table_start() as usize..];
                    assert_eq!(verify_chunks(0, &obj.data, table), Err(FormatError::ChunkMismatch(0)));
                }
            }
        }
    }

    #[test]
    fn the_binary_metadata_round_trips_every_field() {
        let data = Bytes::from_static(b"");
        let full = ObjectMeta {
            key: "d\u{e9}j\u{e0}/vu \u{1f600}".into(),
            size: 0,
            original_size: u64::MAX,
            created_ms: 1_700_000_000_000,
            expires_ms: Some(0),
            checksum: checksum(&data),
            codec: Codec::Gzip,
            content_type: Some(String::new()),
            metadata: [("".to_string(), "x".to_string()), ("z".to_string(), "\0\n\"".to_string())].into(),
            etag: Some("\"e\"".into()),
            validated_ms: Some(u64::MAX),
        };
        let bare = ObjectMeta {
            expires_ms: None,
            codec: Codec::Identity,
            content_type: None,
            metadata: Default::default(),
            etag: None,
            validated_ms: None,
            ..full.clone()
        };
        for meta in [full, bare] {
            let obj = Object::new(meta, data.clone());
            let file = encode(&obj).unwrap();
            assert_eq!(&file[..8], MAGIC);
            assert_eq!(decode(Bytes::from(file)), Ok(obj));
        }
    }

    /// A header whose hash matches but whose fields do not parse (a writer's
    /// bug, never a damaged file: damage fails the hash first).
    #[test]
    fn malformed_fields_under_a_valid_hash_are_refused() {
        let obj = sample();
        let sealed = |edit: &dyn Fn(&mut Vec<u8>)| {
            let mut header = encode_header(&obj.meta, data_hash(&obj.data), 0).unwrap();
            header.truncate(header.len() - 8);
            edit(&mut header);
            let meta_len = (header.len() - PREFIX_LEN + 8) as u32;
            header[8..12].copy_from_slice(&meta_len.to_le_bytes());
            meta::seal(&mut header);
            decode_header(&header)
        };
        assert!(sealed(&|_| {}).is_ok());
        let trailing = sealed(&|h| h.push(0));
        assert!(
            matches!(trailing, Err(FormatError::BadMeta(ref m)) if m.contains("after the last field")),
            "{trailing:?}"
        );
        let short = sealed(&|h| {
            h.pop();
        });
        assert!(matches!(short, Err(FormatError::BadMeta(_))), "{short:?}");
        let not_utf8 = sealed(&|h| h[PREFIX_LEN + 4] = 0xff);
        assert!(matches!(not_utf8, Err(FormatError::BadMeta(ref m)) if m.contains("UTF-8")), "{not_utf8:?}");
        let no_hash = {
            let mut h = encode_header(&obj.meta, 0, 0).unwrap();
            h.truncate(PREFIX_LEN + 3);
            h[8..12].copy_from_slice(&3u32.to_le_bytes());
            decode_header(&h)
        };
        assert!(matches!(no_hash, Err(FormatError::BadMeta(_))), "{no_hash:?}");
    }

    /// The bytes of a file the previous release (format version 2, JSON
    /// metadata) wrote, kept as it wrote them.
    const VERSION_2_FILE: &[u8] = include_bytes!("../tests/fixtures/object-v2.bin");

    #[test]
    fn a_version_2_file_written_by_the_previous_release_is_still_read() {
        let header = decode_header(VERSION_2_FILE).unwrap();
        assert!(header.chunked);
        let object = decode(Bytes::from_static(VERSION_2_FILE)).unwrap();
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        let meta = ObjectMeta {
            key: "fixtures/v2 \u{43a}\u{43b}\u{44e}\u{447}".into(),
            size: 300,
            original_size: 1234,
            created_ms: 1_700_000_000_123,
            expires_ms: Some(1_800_000_000_456),
            checksum: checksum(&data),
            codec: Codec::Gzip,
            content_type: Some("application/x-test; charset=\"utf-8\"".into()),
            metadata: [("alpha".to_string(), "1".to_string()), ("beta".to_string(), "two\nlines".to_string())].into(),
            etag: Some("\"0123456789abcdef0123456789abcdef\"".into()),
            validated_ms: Some(1_700_000_100_000),
        };
        assert_eq!(object, Object::new(meta.clone(), Bytes::from(data.clone())));

        // `encode_old_header` writes what that release wrote, byte for byte.
        let mut again = encode_old_header(&meta, data_hash(&data), true);
        again.extend_from_slice(&data);
        again.extend_from_slice(&chunk_table(&data));
        assert_eq!(again, VERSION_2_FILE);

        // Damage is still found by the data hash; the header has none.
        let mut bad = VERSION_2_FILE.to_vec();
        bad[header.data_start + 7] ^= 1;
        assert_eq!(decode(Bytes::from(bad)), Err(FormatError::HashMismatch));
        // Re-encoded, it is a version 3 file of the same object.
        let current = encode(&object).unwrap();
        assert_eq!(&current[..8], MAGIC);
        assert_eq!(decode(Bytes::from(current)), Ok(object));
    }

    /// `data_hash` (twox-hash) verifies what `ChunkHasher` and the tiers'
    /// streaming hashers (xxhash-rust) computed: the same xxh3-64, at every
    /// length class of the algorithm and however the data arrived.
    #[test]
    fn both_xxh3_implementations_agree() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        let lens = [0, 1, 3, 4, 8, 9, 16, 17, 128, 129, 240, 241, 1024, 1025, 65_535, 65_536, 65_537, 200_000];
        for len in lens {
            let data = &data[..len];
            assert_eq!(data_hash(data), xxhash_rust::xxh3::xxh3_64(data), "one shot, {len} bytes");
            let mut streamed = Xxh3::new();
            for piece in data.chunks(7_777) {
                streamed.update(piece);
            }
            assert_eq!(data_hash(data), streamed.digest(), "streamed, {len} bytes");
        }
    }

    fn large() -> Object {
        let data: Vec<u8> = (0..(3 * CHUNK_LEN as usize + 1000)).map(|i| (i % 251) as u8).collect();
        let mut meta = (*sample().meta).clone();
        (meta.size, meta.original_size, meta.checksum) = (data.len() as u64, data.len() as u64, checksum(&data));
        Object::new(meta, Bytes::from(data))
    }

    #[test]
    fn the_chunk_table_follows_the_data_and_checks_each_chunk() {
        let obj = large();
        let file = encode(&obj).unwrap();
        let header = decode_header(&file).unwrap();
        assert!(header.chunked);
        assert_eq!(header.file_len, file.len() as u64);
        assert_eq!(file.len() as u64, header.table_start() + table_len(obj.meta.size));
        assert_eq!(chunk_count(obj.meta.size), 4);
        let table = &file[header.table_start() as usize..];
        assert_eq!(table, chunk_table(&obj.data));
        let data = &file[header.data_start..header.table_start() as usize];
        let chunk = CHUNK_LEN as usize;
        assert_eq!(verify_chunks(1, &data[chunk..3 * chunk], &table[8..24]), Ok(()));
        assert_eq!(verify_chunks(3, &data[3 * chunk..], &table[24..]), Ok(()), "the short last chunk");
        let mut damaged = data[chunk..3 * chunk].to_vec();
        damaged[chunk + 5] ^= 1;
        assert_eq!(verify_chunks(1, &damaged, &table[8..24]), Err(FormatError::ChunkMismatch(2)));
        assert!(verify_chunks(1, &data[chunk..3 * chunk], &table[8..16]).is_err(), "a table of the wrong length");

        let mut hasher = ChunkHasher::new();
        for piece in obj.data.chunks(7_777) {
            hasher.update(piece);
        }
        assert_eq!(hasher.finish(), table, "the table of data arriving in pieces");
        assert!(ChunkHasher::new().finish().is_empty() && chunk_table(b"").is_empty());
    }

    #[test]
    fn a_version_1_file_is_still_read() {
        let obj = sample();
        let mut v1 = encode_old_header(&obj.meta, data_hash(&obj.data), false);
        v1.extend_from_slice(&obj.data);
        let header = decode_header(&v1).unwrap();
        assert!(!header.chunked);
        assert_eq!(header.file_len, v1.len() as u64);
        assert_eq!(decode(Bytes::from(v1.clone())), Ok(obj.clone()));
        let mut with_table = v1;
        with_table.extend_from_slice(&chunk_table(&obj.data));
        assert!(matches!(decode(Bytes::from(with_table)), Err(FormatError::WrongLength { .. })));
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
        let base = encode_header(&with_value(0).meta, 0, 0).unwrap().len() - PREFIX_LEN;
        let largest = with_value(MAX_META_LEN - base);
        let file = encode(&largest).expect("metadata of exactly MAX_META_LEN bytes");
        assert_eq!(decode(Bytes::from(file)), Ok(largest));
        assert_eq!(encode(&with_value(MAX_META_LEN - base + 1)), Err(FormatError::MetaTooLarge(MAX_META_LEN + 1)));
    }
}
