//! What the library measures, recorded through the [`metrics`] facade (as
//! it logs through `tracing`): nothing is kept unless the embedding program
//! installs a recorder (the `tiered` service installs a Prometheus one), and
//! without one a record costs an atomic load.
//!
//! - [`DISK_OPERATION_SECONDS`]: reads and writes of the file tiers, labelled
//!   `kind` (`disk`: warm; `local`: a local cold directory) and `operation`
//!   (`read`, `write`).
//! - [`EVICTION_ROUND_SECONDS`]: one eviction (the policy's answer, the
//!   host's CLOCK for any shortfall, the deletions), for an arrival that
//!   needed room or a tier over budget, labelled `tier` (`hot`, `warm`).
//!
//! The store's counters (hits, misses, evictions, ...) are not recorded here:
//! they are read from [`TieredStore::stats`](crate::TieredStore::stats).

/// Histogram of file-tier operations, in seconds.
pub const DISK_OPERATION_SECONDS: &str = "tiered_disk_operation_duration_seconds";

/// Histogram of eviction rounds, in seconds.
pub const EVICTION_ROUND_SECONDS: &str = "tiered_eviction_round_duration_seconds";
