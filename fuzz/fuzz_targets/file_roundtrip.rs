//! The disk file format from the writer's side: any object `encode` is given
//! (any key, metadata, content type, ETag, times, codec and bytes) decodes back
//! to an equal object, and every single-byte change to the encoded file is
//! refused or decoded with the original data; a change in the header (which
//! ends with its own hash) is always refused.
//!
//! Metadata stays far below `MAX_META_LEN` here (inputs are a few KiB);
//! `file_meta_limit` tries the limit itself.
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use tiered_format::file::{decode, decode_header, encode};
use tiered_format::object::{Codec, Object, ObjectMeta, checksum};

#[derive(Arbitrary, Debug)]
struct Input {
    key: String,
    original_size: u64,
    created_ms: u64,
    expires_ms: Option<u64>,
    gzip: bool,
    content_type: Option<String>,
    metadata: BTreeMap<String, String>,
    etag: Option<String>,
    validated_ms: Option<u64>,
    /// Which byte of the encoded file to damage, and how.
    damage: (u16, u8),
    data: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let meta = ObjectMeta {
        key: input.key,
        size: input.data.len() as u64,
        original_size: input.original_size,
        created_ms: input.created_ms,
        expires_ms: input.expires_ms,
        checksum: checksum(&input.data),
        codec: if input.gzip { Codec::Gzip } else { Codec::Identity },
        content_type: input.content_type,
        metadata: input.metadata,
        etag: input.etag,
        validated_ms: input.validated_ms,
    };
    let object = Object::new(meta, input.data.into());
    let file = encode(&object).expect("metadata of a few KiB encodes");
    assert_eq!(decode(file.clone().into()), Ok(object.clone()));

    let data_start = decode_header(&file).expect("an encoded header parses").data_start;
    let (at, flip) = input.damage;
    let mut damaged = file;
    let at = usize::from(at) % damaged.len();
    damaged[at] ^= flip.max(1);
    match decode(damaged.into()) {
        Ok(_) if at < data_start => panic!("a damaged header byte ({at}) was accepted"),
        Ok(decoded) => assert_eq!(decoded.data, object.data, "a damaged file decoded with other data (byte {at})"),
        Err(_) => {}
    }
});
