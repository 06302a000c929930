//! The metadata limit of the disk file format: objects whose metadata block
//! is within 8 KiB of `MAX_META_LEN` (1 MiB), beyond the input sizes the other
//! targets reach. `encode` refuses with `MetaTooLarge` exactly when the
//! metadata block (its length worked out here from the layout in
//! `format/src/file/meta.rs`) is over the limit (what `decode` would refuse),
//! and whatever it encodes decodes to the same object. Slow per input
//! (megabyte headers), so it is a target of its own.
#![no_main]

use libfuzzer_sys::arbitrary::{self, Arbitrary};
use libfuzzer_sys::fuzz_target;
use tiered_format::file::{FormatError, MAX_META_LEN, decode, encode};
use tiered_format::object::{Object, ObjectMeta, checksum};

#[derive(Arbitrary, Debug)]
struct Input {
    key: String,
    content_type: Option<String>,
    /// A bulk value of `MAX_META_LEN` - 8 KiB + `bulk` % 16 KiB bytes.
    bulk: u16,
    /// What the bulk value is made of (characters of 1 to 4 bytes).
    fill: char,
    data: Vec<u8>,
}

fuzz_target!(|input: Input| {
    let bulk = MAX_META_LEN - 8192 + usize::from(input.bulk) % 16384;
    let fill = input.fill.to_string();
    let value = fill.repeat(bulk / fill.len());
    let meta = ObjectMeta {
        key: input.key,
        size: input.data.len() as u64,
        original_size: input.data.len() as u64,
        created_ms: 0,
        expires_ms: None,
        checksum: checksum(&input.data),
        codec: Default::default(),
        content_type: input.content_type,
        metadata: [("bulk".to_string(), value)].into(),
        etag: None,
        validated_ms: None,
    };
    let object = Object::new(meta, input.data.into());
    let meta_len = block_len(&object.meta);
    match encode(&object) {
        Ok(file) => {
            assert!(meta_len <= MAX_META_LEN, "encoded {meta_len} bytes of metadata");
            assert_eq!(decode(file.into()), Ok(object));
        }
        Err(e) => assert_eq!(e, FormatError::MetaTooLarge(meta_len)),
    }
});

/// The length of `meta`'s version 3 metadata block, field by field.
fn block_len(meta: &ObjectMeta) -> usize {
    let string = |s: &str| 4 + s.len();
    let opt_string = |s: &Option<String>| 1 + s.as_deref().map_or(0, string);
    let opt_u64 = |v: Option<u64>| 1 + v.map_or(0, |_| 8);
    let metadata: usize = meta.metadata.iter().map(|(k, v)| string(k) + string(v)).sum();
    string(&meta.key)
        + 3 * 8
        + opt_u64(meta.expires_ms)
        + string(&meta.checksum)
        + 1
        + opt_string(&meta.content_type)
        + 4
        + metadata
        + opt_string(&meta.etag)
        + opt_u64(meta.validated_ms)
        + 8
}
