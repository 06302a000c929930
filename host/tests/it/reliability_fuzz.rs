//! A bounded, stable-toolchain fuzz harness: mutated inputs (see
//! `support/mutate.rs`) against the parsers that read untrusted bytes. Each
//! target checks properties, not just "no panic":
//!
//! - keys from request paths: a key accepted is valid UTF-8, 1..=1024 bytes,
//!   free of control characters, and hashes to a 64-hex-digit file name;
//! - the disk file format: a decoded file's data matches its length and hash;
//!   a damaged file reopened by the disk tier reads as the original bytes or
//!   not at all;
//! - the snapshot import parser: an accepted snapshot has valid keys;
//! - the trace parsers (CSV, oracleGeneral): errors, never panics.
//!
//! `cargo fuzz` (libFuzzer) needs a nightly toolchain; RELIABILITY.md says how
//! to run these targets longer (`TIERED_FUZZ_SECS`) and what nightly adds.

use crate::support::mutate::fuzz;
use bytes::Bytes;
use tiered::engine::Snapshot;
use tiered::key::{MAX_KEY_BYTES, key_hash};
use tiered::store::format::{self, decode};
use tiered::store::{CacheTier, Tier};
use tiered_host::http::extract::key_from_path;

#[test]
fn keys_from_paths() {
    let seeds: Vec<Vec<u8>> =
        ["/v1/objects/a", "/v1/objects/a/b%2Fc", "/v1/objects/%D0%BA%20x", "/v1/objects/..%2F..%2Fx"]
            .iter()
            .map(|s| s.as_bytes().to_vec())
            .chain(std::iter::once(format!("/v1/objects/{}", "k".repeat(1024)).into_bytes()))
            .collect();
    let runs = fuzz("fuzz/keys", &seeds, |input| {
        let path = String::from_utf8_lossy(input);
        if let Ok(key) = key_from_path(&path, "/v1/objects/") {
            assert!(!key.is_empty() && key.len() <= MAX_KEY_BYTES, "{key:?}");
            assert!(!key.chars().any(char::is_control), "{key:?}");
            let hash = key_hash(&key);
            assert!(hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
        }
    });
    assert!(runs > 1_000, "the harness ran: {runs}");
}

fn encoded(key: &str, data: &[u8]) -> Vec<u8> {
    format::encode(&crate::support::object(key, data, 1_700_000_000_000)).expect("small metadata encodes")
}

#[test]
fn disk_file_format() {
    let seeds = vec![encoded("a", b"hello"), encoded("dir/k\u{e9}y", &[7u8; 3000]), encoded("e", b"")];
    let runs = fuzz("fuzz/format", &seeds, |input| {
        if let Ok(object) = decode(Bytes::copy_from_slice(input)) {
            let header = format::decode_header(input).expect("decoded, so the header parses");
            assert_eq!(object.data.len() as u64, object.meta.size);
            assert_eq!(format::data_hash(&object.data), header.data_hash);
            assert_eq!(&input[header.data_start..header.table_start() as usize], &object.data[..]);
            assert_eq!(input.len() as u64, header.file_len);
        }
    });
    assert!(runs > 1_000, "the harness ran: {runs}");
}

#[tokio::test(flavor = "current_thread")]
async fn damaged_files_reopened_by_the_disk_tier() -> anyhow::Result<()> {
    let data = crate::support::rng::value_for("key", 1, 2_000);
    let seed = encoded("key", &data);
    let path_of = |root: &std::path::Path| {
        let h = key_hash("key");
        root.join("objects").join(&h[..2]).join(h)
    };
    let mut inputs = Vec::new();
    fuzz("fuzz/disk-reopen (mutations)", &[seed], |input| {
        if inputs.len() < 3_000 {
            inputs.push(input.to_vec());
        }
    });
    let mut served = 0;
    for input in inputs.iter().take(3_000) {
        let dir = tempfile::tempdir()?;
        std::fs::create_dir_all(path_of(dir.path()).parent().unwrap())?;
        std::fs::write(path_of(dir.path()), input)?;
        let tier = tiered::store::DiskTier::open(dir.path(), 1 << 20)?;
        if let Ok(Some(object)) = tier.get("key").await {
            assert_eq!(&object.data[..], &data[..], "a damaged file served other bytes");
            served += 1;
        }
        let usage = tier.usage();
        let on_disk: u64 =
            crate::support::files_under(&dir.path().join("objects")).iter().map(|f| f.metadata().unwrap().len()).sum();
        assert_eq!(usage.bytes, on_disk, "accounting after reopening a damaged file");
    }
    let _ = std::io::Write::write_fmt(
        &mut std::io::stderr(),
        format_args!("fuzz/disk-reopen: {} damaged files reopened, {served} served intact\n", inputs.len().min(3_000)),
    );
    assert!(served >= 1, "the undamaged seed is served");
    Ok(())
}

#[test]
fn snapshot_import_parser() {
    let entry = |key: &str| {
        format!(
            r#"{{"meta":{},"cached_in":["hot"],"frequency":3}}"#,
            serde_json::to_string(&*crate::support::object(key, b"x", 5).meta).unwrap()
        )
    };
    let seeds = vec![
        format!(r#"{{"version":1,"exported_ms":9,"entries":[{},{}]}}"#, entry("a"), entry("b/c")).into_bytes(),
        br#"{"version":1,"exported_ms":0,"entries":[]}"#.to_vec(),
    ];
    assert!(Snapshot::from_json(&seeds[0]).is_ok(), "the seed is a valid snapshot");
    let runs = fuzz("fuzz/snapshot", &seeds, |input| {
        if let Ok(snapshot) = Snapshot::from_json(input) {
            for e in &snapshot.entries {
                assert!(tiered::key::validate(&e.meta.key).is_ok(), "accepted an invalid key {:?}", e.meta.key);
            }
        }
    });
    assert!(runs > 1_000, "the harness ran: {runs}");
}

#[test]
fn trace_parsers() {
    let csv = b"timestamp,key,size,op\n1,a,100,get\n2,b,2000,set\n3,a,100,get\n".to_vec();
    let mut oracle = Vec::new();
    for (t, id, size) in [(1u32, 7u64, 100u32), (2, 8, 4000), (3, 7, 100)] {
        oracle.extend_from_slice(&t.to_le_bytes());
        oracle.extend_from_slice(&id.to_le_bytes());
        oracle.extend_from_slice(&size.to_le_bytes());
        oracle.extend_from_slice(&(-1i64).to_le_bytes());
    }
    let runs = fuzz("fuzz/traces", &[csv, oracle], |input| {
        let _ = tiered_host::sim::Trace::parse_csv(input);
        let _ = tiered_host::sim::Trace::parse_oracle(input);
    });
    assert!(runs > 1_000, "the harness ran: {runs}");
}
