//! The CSV trace parser on arbitrary bytes.
//!
//! - `Trace::parse_csv` never panics; a refusal names a line of the input;
//! - an accepted trace is well formed: at least one request, every request's
//!   key index in range, keys distinct, valid and in order of first use;
//! - it round-trips: written back as CSV (`seconds.millis,key,size,op`), it
//!   parses to the same trace (times compared exactly below 2^50 ms, where
//!   the parser's f64 arithmetic is exact to the millisecond).
#![no_main]

use std::collections::HashSet;
use std::fmt::Write;

use libfuzzer_sys::fuzz_target;
use tiered_format::key;
use tiered_format::trace::{Op, Trace, TraceError};

fuzz_target!(|input: &[u8]| {
    let trace = match Trace::parse_csv(input) {
        Ok(trace) => trace,
        Err(TraceError::Line { line, .. }) => {
            assert!(line >= 1 && line <= input.split(|&b| b == b'\n').count(), "line {line}");
            return;
        }
        Err(TraceError::EmptyTrace) => return,
        Err(other) => panic!("unexpected error from in-memory CSV: {other}"),
    };
    assert!(!trace.requests.is_empty());
    let distinct: HashSet<&String> = trace.keys.iter().collect();
    assert_eq!(distinct.len(), trace.keys.len(), "keys are interned once");
    for k in &trace.keys {
        assert_eq!(key::validate(k), Ok(()), "{k:?}");
    }
    let mut next_new = 0;
    for r in &trace.requests {
        assert!((r.key as usize) < trace.keys.len());
        assert!(r.key <= next_new, "keys numbered in order of first use");
        next_new = next_new.max(r.key + 1);
    }

    let mut csv = String::new();
    for r in &trace.requests {
        let op = match r.op {
            Op::Get => "get",
            Op::Set => "set",
            Op::Delete => "delete",
        };
        let (s, ms) = (r.time_ms / 1000, r.time_ms % 1000);
        writeln!(csv, "{s}.{ms:03},{},{},{op}", trace.keys[r.key as usize], r.size).unwrap();
    }
    let again = Trace::parse_csv(csv.as_bytes()).unwrap_or_else(|e| panic!("re-reading {csv:?}: {e}"));
    assert_eq!(again.keys, trace.keys);
    assert_eq!(again.requests.len(), trace.requests.len());
    for (a, b) in again.requests.iter().zip(&trace.requests) {
        assert_eq!((a.key, a.size, a.op), (b.key, b.size, b.op));
        if b.time_ms < 1 << 50 {
            assert_eq!(a.time_ms, b.time_ms, "time of {b:?}");
        }
    }
});
