//! The snapshot import parser on arbitrary bytes.
//!
//! - `Snapshot::from_json` never panics;
//! - an accepted snapshot has the supported version and only keys that pass
//!   the key rules;
//! - it is stable: `from_json(to_json(s)) == s`, and `to_json` is a fixpoint
//!   from then on (export, import, export gives the same bytes);
//! - a refusal for the version is given only when the version really differs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tiered_format::key;
use tiered_format::snapshot::{SNAPSHOT_VERSION, Snapshot, SnapshotError};

fuzz_target!(|input: &[u8]| {
    match Snapshot::from_json(input) {
        Ok(snapshot) => {
            assert_eq!(snapshot.version, SNAPSHOT_VERSION);
            for entry in &snapshot.entries {
                assert_eq!(key::validate(&entry.meta.key), Ok(()), "accepted key {:?}", entry.meta.key);
            }
            let json = snapshot.to_json();
            let again = Snapshot::from_json(&json);
            assert_eq!(again.as_ref(), Ok(&snapshot), "re-reading {}", String::from_utf8_lossy(&json));
            assert_eq!(again.unwrap().to_json(), json);
        }
        Err(SnapshotError::UnsupportedVersion { found }) => assert_ne!(found, SNAPSHOT_VERSION),
        Err(_) => {}
    }
});
