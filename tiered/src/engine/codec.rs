//! Compression, recorded per object in its metadata ([`Codec`]), never guessed
//! from the bytes.

use std::io::{Read, Write};

use bytes::Bytes;
use flate2::Compression;
use flate2::read::GzDecoder;
use flate2::write::GzEncoder;

use crate::error::Error;
use crate::object::{Codec, ObjectMeta};

/// Gzip `data`.
pub fn compress(data: &[u8]) -> Bytes {
    let mut enc = GzEncoder::new(Vec::with_capacity(data.len() / 2 + 64), Compression::fast());
    enc.write_all(data).expect("writing to a Vec cannot fail");
    Bytes::from(enc.finish().expect("writing to a Vec cannot fail"))
}

/// The original bytes of a stored object. Decoding stops at the recorded
/// original size plus one byte, so a corrupt or hostile stream cannot expand
/// without bound.
pub fn decode(meta: &ObjectMeta, stored: Bytes) -> Result<Bytes, Error> {
    match meta.codec {
        Codec::Identity => Ok(stored),
        Codec::Gzip => {
            let limit = meta.original_size.saturating_add(1);
            let mut out = Vec::with_capacity(meta.original_size.min(64 << 20) as usize);
            GzDecoder::new(&stored[..])
                .take(limit)
                .read_to_end(&mut out)
                .map_err(|e| Error::Decode { key: meta.key.clone(), message: format!("gzip: {e}") })?;
            if out.len() as u64 != meta.original_size {
                return Err(Error::Decode {
                    key: meta.key.clone(),
                    message: format!("decoded {} bytes; metadata says {}", out.len(), meta.original_size),
                });
            }
            Ok(Bytes::from(out))
        }
    }
}
