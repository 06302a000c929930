//! The names of the storage tiers: what snapshots record a copy in, and what
//! policies place objects in. Cold is the source of truth.

use serde::{Deserialize, Serialize};

/// A storage tier. Cold is the source of truth.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TierId {
    Hot,
    Warm,
    Cold,
}

impl TierId {
    /// The lowercase name used in headers, logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            TierId::Hot => "hot",
            TierId::Warm => "warm",
            TierId::Cold => "cold",
        }
    }
}

impl std::fmt::Display for TierId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
