//! # tiered-example-size-admission
//!
//! An admission policy: it decides *what may enter* each cache tier, by size
//! and by evidence of reuse.
//!
//! - **place**: a write never goes to memory (most objects are written once
//!   and never read); it goes to disk when `size <= warm_max_object_bytes`.
//!   The TTL is the writer's.
//! - **promote**: an object enters memory only when `size <=
//!   hot_max_object_bytes` and it has been read `promote_after_reads` times
//!   (default 2); a cold hit that fits goes to disk.
//! - **eviction**: none of its own (world `policy`): the host's CLOCK keeps
//!   each tier's order, and offers an evicted hot object to disk.
//!
//! `component` holds the wit-bindgen exports (built for `wasm32-wasip2`).

#[cfg(target_arch = "wasm32")]
mod component;

/// A tier named in a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tier {
    Hot,
    Warm,
    Cold,
}

/// The configuration (`[policy_config]` keys of the same names).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admission {
    /// Largest object admitted to memory (default 256 KiB; 0 with no memory budget).
    pub hot_max_object_bytes: u64,
    /// Largest object admitted to disk (default 64 MiB; 0 with no disk budget).
    pub warm_max_object_bytes: u64,
    /// Reads an object needs before it enters memory (default 2).
    pub promote_after_reads: u64,
}

impl Admission {
    /// Parses the pairs; a tier with a zero budget admits nothing.
    pub fn parse(pairs: &[(String, String)], hot_bytes: u64, warm_bytes: u64) -> Result<Admission, String> {
        let mut a =
            Admission { hot_max_object_bytes: 256 << 10, warm_max_object_bytes: 64 << 20, promote_after_reads: 2 };
        for (key, value) in pairs {
            let n: u64 = value.trim().parse().map_err(|_| format!("`{key}` = `{value}`: expected a whole number"))?;
            match key.as_str() {
                "hot_max_object_bytes" => a.hot_max_object_bytes = n,
                "warm_max_object_bytes" => a.warm_max_object_bytes = n,
                "promote_after_reads" => a.promote_after_reads = n,
                _ => return Err(format!("unknown key `{key}`")),
            }
        }
        if hot_bytes == 0 {
            a.hot_max_object_bytes = 0;
        }
        if warm_bytes == 0 {
            a.warm_max_object_bytes = 0;
        }
        Ok(a)
    }

    fn fits(size: u64, max: u64) -> bool {
        max > 0 && size <= max
    }

    /// `(hot, warm)` for a write of `size` bytes.
    pub fn place(&self, size: u64) -> (bool, bool) {
        (false, Self::fits(size, self.warm_max_object_bytes))
    }

    /// `(hot, warm)` after a read served by `served_by`.
    pub fn promote(&self, size: u64, served_by: Tier, access_count: u64) -> (bool, bool) {
        let hot = served_by != Tier::Hot
            && access_count >= self.promote_after_reads
            && Self::fits(size, self.hot_max_object_bytes);
        let warm = served_by == Tier::Cold && Self::fits(size, self.warm_max_object_bytes);
        (hot, warm)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Admission {
        Admission::parse(&[], 1 << 30, 1 << 30).unwrap()
    }

    #[test]
    fn writes_skip_memory_and_large_objects_skip_disk() {
        assert_eq!(policy().place(10), (false, true));
        assert_eq!(policy().place(65 << 20), (false, false));
        assert_eq!(Admission::parse(&[], 1, 0).unwrap().place(10), (false, false));
    }

    #[test]
    fn memory_is_earned_by_the_second_read() {
        let p = policy();
        assert_eq!(p.promote(1000, Tier::Cold, 1), (false, true));
        assert_eq!(p.promote(1000, Tier::Cold, 2), (true, true));
        assert_eq!(p.promote(1000, Tier::Warm, 2), (true, false));
        assert_eq!(p.promote(1 << 20, Tier::Warm, 9), (false, false), "too big for memory");
    }

    #[test]
    fn bad_configurations_are_rejected() {
        let bad = |k: &str, v: &str| Admission::parse(&[(k.to_owned(), v.to_owned())], 1, 1).unwrap_err();
        assert!(bad("promote_after_reads", "twice").contains("promote_after_reads"));
        assert!(bad("colour", "1").contains("unknown key `colour`"));
    }
}
