//! The libCacheSim `oracleGeneral` parser on arbitrary bytes, against the
//! format's definition (24-byte little-endian records: u32 seconds, u64 id,
//! u32 size, i64 ignored).
//!
//! - accepted exactly when the input is a non-empty whole number of records;
//!   a refusal of a partial record names the last record;
//! - every record becomes one get whose time, size and id (the key, 16 hex
//!   digits) are the record's, with keys interned once in order of first use.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tiered_format::trace::{ORACLE_RECORD, Op, Trace, TraceError};

fuzz_target!(|input: &[u8]| {
    let records = input.len().div_ceil(ORACLE_RECORD);
    let trace = match Trace::parse_oracle(input) {
        Ok(trace) => trace,
        Err(TraceError::EmptyTrace) => return assert!(input.is_empty()),
        Err(TraceError::Record { record, .. }) => {
            assert_ne!(input.len() % ORACLE_RECORD, 0, "a whole number of records was refused");
            return assert_eq!(record, records as u64);
        }
        Err(other) => panic!("unexpected error: {other}"),
    };
    assert_eq!(input.len() % ORACLE_RECORD, 0);
    assert_eq!(trace.requests.len(), records);
    let mut ids: Vec<u64> = Vec::new();
    for (r, rec) in trace.requests.iter().zip(input.chunks(ORACLE_RECORD)) {
        let time = u32::from_le_bytes(rec[0..4].try_into().unwrap());
        let id = u64::from_le_bytes(rec[4..12].try_into().unwrap());
        let size = u32::from_le_bytes(rec[12..16].try_into().unwrap());
        assert_eq!((r.time_ms, r.size, r.op), (u64::from(time) * 1000, u64::from(size), Op::Get));
        let key = &trace.keys[r.key as usize];
        assert_eq!(key, &format!("{id:016x}"));
        if !ids.contains(&id) {
            assert_eq!(r.key as usize, ids.len(), "keys numbered in order of first use");
            ids.push(id);
        }
    }
    assert_eq!(trace.keys.len(), ids.len());
});
