//! The disk file header parser and file decoder on arbitrary bytes.
//!
//! - `decode_header` and `decode` never panic;
//! - an accepted header is consistent with the input: a magic is there, the
//!   data starts at `PREFIX_LEN + meta_len` (the length field), within the
//!   input, and `meta_len` is at most `MAX_META_LEN`; a version 3 header ends
//!   with the xxh3 of the bytes before it;
//! - an accepted file agrees with its header: the data follows it, its length
//!   is `meta.size`, the input is as long as the header says (with the chunk
//!   table in version 2), its xxh3 is the stored hash;
//! - an accepted file re-encodes to a file that decodes to the same object
//!   (or, if its metadata grew past `MAX_META_LEN` as re-serialized JSON,
//!   `encode` says so).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tiered_format::file::{
    FormatError, MAGIC, MAGIC_V1, MAGIC_V2, MAX_META_LEN, PREFIX_LEN, data_hash, decode, decode_header, encode,
};
use tiered_format::object::Object;

fuzz_target!(|input: &[u8]| {
    let header = decode_header(input);
    let file = decode(input.to_vec().into());
    let Ok(header) = header else {
        assert!(file.is_err(), "a file whose header is refused was decoded");
        return;
    };
    let (meta, hash, start) = (header.meta, header.data_hash, header.data_start);
    let magic = &input[..8];
    assert!(magic == MAGIC || magic == MAGIC_V2 || magic == MAGIC_V1);
    assert_eq!(header.chunked, magic != MAGIC_V1);
    let meta_len = u32::from_le_bytes(input[8..12].try_into().unwrap()) as usize;
    assert!(meta_len <= MAX_META_LEN, "meta_len {meta_len}");
    assert_eq!(start, PREFIX_LEN + meta_len);
    assert!(start <= input.len(), "data starts at {start}, past the input ({})", input.len());
    if magic == MAGIC {
        assert_eq!(data_hash(&input[..start - 8]).to_le_bytes(), input[start - 8..start], "the header hash");
    }
    assert_eq!(hash, u64::from_le_bytes(input[12..20].try_into().unwrap()));
    let Ok(object) = file else { return };
    assert_eq!(*object.meta, meta);
    assert_eq!(&object.data[..], &input[start..start + object.data.len()]);
    assert_eq!(input.len() as u64, header.file_len);
    assert_eq!(object.data.len() as u64, object.meta.size);
    assert_eq!(data_hash(&object.data), hash);
    match encode(&object) {
        Ok(file) => {
            let again: Result<Object, _> = decode(file.into());
            assert_eq!(again, Ok(object), "re-encoding an accepted file");
        }
        Err(FormatError::MetaTooLarge(len)) => assert!(len > MAX_META_LEN),
        Err(e) => panic!("encode refused an accepted file: {e}"),
    }
});
