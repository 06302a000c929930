//! Shared helpers for the integration tests.

pub mod crash_run;
pub mod decisions;
pub mod examples;
pub mod faulty_fs;
pub mod history;
pub mod large;
pub mod model_run;
pub mod mutate;
pub mod prometheus;
pub mod proxy;
pub mod raw_http;
pub mod rig;
pub mod rng;
pub mod s3;
pub mod s3_api;
pub mod server;
pub mod staleness;

/// An object as a writer would hand it to a tier (the contract's own).
pub use tiered::store::contract::object;

/// Every file name under `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// A policy that caches everything everywhere: placement in hot and warm,
/// promotion of every lower-tier hit to every upper tier, the host's CLOCK
/// evicting. Tests use it to make caching deterministic.
#[derive(Debug, Default)]
pub struct Everywhere;

impl tiered::policy::Policy for Everywhere {
    fn identity(&self) -> tiered::policy::PolicyIdentity {
        tiered::policy::FallbackPolicy::default().identity()
    }
    fn place(&self, w: &tiered::policy::WriteInfo<'_>) -> tiered::policy::Placement {
        tiered::policy::Placement { tiers: tiered::TierSet::ALL, ttl_ms: w.requested_ttl_ms, class: 0 }
    }
    fn promote(&self, _: &tiered::policy::ReadInfo<'_>) -> tiered::TierSet {
        tiered::TierSet::ALL
    }
}
