//! How long the disk tier takes to open (rebuild its index) with 100k objects,
//! next to a baseline in the same run: a bare walk of the same directory that
//! opens every file and reads its first 4 KiB with `std::fs`.
//!
//! Run: `cargo bench -p tiered --bench reopen` (set `REOPEN_OBJECTS` for another count).
#![allow(clippy::print_stdout)]

use std::io::Read;
use std::time::{Duration, Instant};

use futures::FutureExt;
use tiered::store::{CacheTier, DiskTier, Tier};

fn main() {
    let n: usize = std::env::var("REOPEN_OBJECTS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).build().expect("runtime");
    {
        let tier = DiskTier::open(dir.path(), u64::MAX).expect("open");
        rt.block_on(async {
            for i in 0..n {
                let data = bytes::Bytes::from(format!("value of object {i}").repeat(8));
                let meta = tiered::ObjectMeta {
                    key: format!("reopen/{i:08}"),
                    size: data.len() as u64,
                    original_size: data.len() as u64,
                    created_ms: i as u64,
                    expires_ms: None,
                    checksum: tiered::object::checksum(&data),
                    codec: tiered::Codec::Identity,
                    content_type: Some("text/plain".into()),
                    metadata: Default::default(),
                    etag: None,
                    validated_ms: None,
                };
                tier.put(tiered::Object::new(meta, data)).await.expect("put");
            }
        });
    }
    let mut opens = Vec::new();
    let mut walks = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let tier = DiskTier::open(dir.path(), u64::MAX).expect("reopen");
        opens.push(start.elapsed());
        assert_eq!(tier.usage().objects, n as u64);
        assert!(tier.get("reopen/00000000").now_or_never().expect("inline").expect("read").is_some());
        let start = Instant::now();
        let files = walk(&dir.path().join("objects"));
        walks.push(start.elapsed());
        assert_eq!(files, n);
    }
    let (open, walk) = (median(opens), median(walks));
    println!(
        "disk tier open with {n} objects: median {:.3} s; bare directory walk reading 4 KiB per file: median {:.3} s; ratio {:.2}x",
        open.as_secs_f64(),
        walk.as_secs_f64(),
        open.as_secs_f64() / walk.as_secs_f64()
    );
}

fn walk(dir: &std::path::Path) -> usize {
    let mut buf = vec![0u8; 4096];
    let mut files = 0;
    for fan in std::fs::read_dir(dir).expect("read_dir") {
        for file in std::fs::read_dir(fan.expect("entry").path()).expect("read_dir") {
            let mut f = std::fs::File::open(file.expect("entry").path()).expect("open");
            let _ = f.read(&mut buf).expect("read");
            files += 1;
        }
    }
    files
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}
