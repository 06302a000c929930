//! A key's object id: one seeded 64-bit hash of the key, computed once per
//! request and used for everything that needs a hash of it.
//!
//! - [`object_id`]: the id the eviction order names objects by (the same in
//!   every process of one build), the hit events' id, the frequency sketch's
//!   index ([`crate::engine::sketch`]) and the hot tier's shard and table
//!   hash ([`crate::store::MemoryTier`]).
//! - [`HashedKey`]: a key with its id, so a hot hit hashes the key once and
//!   a caller cannot pair a key with another key's id.
//!
//! An id is not an identity: two keys may share one. Every table that finds
//! an object by id compares the key too, or refuses the second key (the
//! eviction order's residency table).

use std::hash::BuildHasher;

use crate::policy::ObjectId;

/// The seed of [`object_id`]; fixed, so ids repeat run to run.
const SEED: u64 = 0x6f62_6a65_6374_6964;

/// The id of `key`: a 64-bit hash with a fixed seed (the same in every
/// process of one build).
pub fn object_id(key: &str) -> ObjectId {
    foldhash::fast::FixedState::with_seed(SEED).hash_one(key)
}

/// A key and its [`object_id`], hashed once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashedKey<'a> {
    key: &'a str,
    id: ObjectId,
}

impl<'a> HashedKey<'a> {
    /// `key` with its id.
    pub fn new(key: &'a str) -> Self {
        HashedKey { key, id: object_id(key) }
    }

    /// The key.
    pub fn key(&self) -> &'a str {
        self.key
    }

    /// The key's [`object_id`].
    pub fn id(&self) -> ObjectId {
        self.id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_key_carries_its_object_id() {
        let k = HashedKey::new("reports/2026.csv");
        assert_eq!(k.key(), "reports/2026.csv");
        assert_eq!(k.id(), object_id("reports/2026.csv"));
        assert_ne!(k.id(), object_id("reports/2027.csv"));
    }
}
