//! The metadata snapshot format and its import parser.
//!
//! A [`Snapshot`] lists every object cold holds with its metadata, and which
//! cache tiers held a copy at export (`tiered::TieredStore::export` writes one,
//! `import` applies one). It is JSON, versioned ([`SNAPSHOT_VERSION`]), and
//! strict: unknown fields, unknown versions and keys that break the key rules
//! are refused by [`Snapshot::from_json`] with a [`SnapshotError`].

use serde::{Deserialize, Serialize};

use crate::key::{self, KeyError};
use crate::object::ObjectMeta;
use crate::tier::TierId;

/// The snapshot format version this build reads and writes.
pub const SNAPSHOT_VERSION: u32 = 1;

/// A metadata snapshot of a store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Snapshot {
    pub version: u32,
    pub exported_ms: u64,
    pub entries: Vec<SnapshotEntry>,
}

/// One object in a snapshot.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotEntry {
    pub meta: ObjectMeta,
    /// Cache tiers holding a copy at export.
    pub cached_in: Vec<TierId>,
    /// The host's frequency estimate at export.
    pub frequency: u32,
}

/// Why a snapshot was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The bytes are not JSON with a `version` number.
    #[error("not a snapshot: {0}")]
    NotASnapshot(String),
    #[error("version {found} is not supported (this build reads {SNAPSHOT_VERSION})")]
    UnsupportedVersion { found: u32 },
    /// A supported version whose fields do not parse.
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("entry {key:?}: {source}")]
    InvalidKey { key: String, source: KeyError },
}

impl Snapshot {
    /// Parse a snapshot, rejecting unknown versions and malformed entries.
    pub fn from_json(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
        #[derive(Deserialize)]
        struct Version {
            version: u32,
        }
        let v: Version = serde_json::from_slice(bytes).map_err(|e| SnapshotError::NotASnapshot(e.to_string()))?;
        if v.version != SNAPSHOT_VERSION {
            return Err(SnapshotError::UnsupportedVersion { found: v.version });
        }
        let snapshot: Snapshot = serde_json::from_slice(bytes).map_err(|e| SnapshotError::Malformed(e.to_string()))?;
        for entry in &snapshot.entries {
            key::validate(&entry.meta.key)
                .map_err(|source| SnapshotError::InvalidKey { key: entry.meta.key.clone(), source })?;
        }
        Ok(snapshot)
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("snapshots always serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENTRY: &str = r#"{"meta":{"key":"a/b","size":1,"original_size":1,"created_ms":5,
        "checksum":"00"},"cached_in":["hot","warm"],"frequency":3}"#;

    #[test]
    fn parses_and_round_trips() {
        let json = format!(r#"{{"version":1,"exported_ms":9,"entries":[{ENTRY}]}}"#);
        let snapshot = Snapshot::from_json(json.as_bytes()).unwrap();
        assert_eq!(snapshot.entries[0].cached_in, [TierId::Hot, TierId::Warm]);
        assert_eq!(Snapshot::from_json(&snapshot.to_json()), Ok(snapshot));
    }

    #[test]
    fn refusals_are_typed() {
        assert!(matches!(Snapshot::from_json(b"not json"), Err(SnapshotError::NotASnapshot(_))));
        let v2 = br#"{"version": 2, "exported_ms": 0, "entries": []}"#;
        assert_eq!(Snapshot::from_json(v2), Err(SnapshotError::UnsupportedVersion { found: 2 }));
        let extra = br#"{"version": 1, "exported_ms": 0, "entries": [], "x": 1}"#;
        assert!(matches!(Snapshot::from_json(extra), Err(SnapshotError::Malformed(_))));
        let bad_key = format!(r#"{{"version":1,"exported_ms":9,"entries":[{}]}}"#, ENTRY.replace("a/b", "a\\u0000"));
        assert!(matches!(
            Snapshot::from_json(bad_key.as_bytes()),
            Err(SnapshotError::InvalidKey { source: KeyError::ControlCharacter { .. }, .. })
        ));
    }
}
