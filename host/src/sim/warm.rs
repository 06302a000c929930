//! [`SimWarm`]: the warm tier of a replay, a [`MemoryTier`] with the warm
//! budget standing in for the disk.
//!
//! It forwards every call to the memory tier and differs in one answer:
//! [`verifies_reads`](Tier::verifies_reads) is `true`. The service's disk tier
//! verifies what it reads itself (the data hash in each file's header), so the
//! engine does not hash disk hits again; a bare memory tier would make the
//! engine hash every warm hit with sha256, a cost the service never pays. The
//! replayed objects are immutable in-memory values that cannot rot.

use std::sync::Arc;

use async_trait::async_trait;

use tiered::clock::Clock;
use tiered::error::TierError;
use tiered::object::{Object, ObjectMeta};
use tiered::store::{KeyStream, MemoryTier, Resident, Tier, Usage};

/// The simulated warm tier.
#[derive(Debug)]
pub struct SimWarm {
    memory: MemoryTier,
}

impl SimWarm {
    /// A warm tier of `capacity` bytes on `clock`.
    pub fn new(capacity: u64, clock: Arc<dyn Clock>) -> Self {
        SimWarm { memory: MemoryTier::with_clock(capacity, clock) }
    }
}

#[async_trait]
impl Tier for SimWarm {
    fn name(&self) -> &'static str {
        "sim-warm"
    }

    async fn get(&self, key: &str) -> Result<Option<Object>, TierError> {
        self.memory.get(key).await
    }

    async fn head(&self, key: &str) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        self.memory.head(key).await
    }

    async fn put(&self, object: Object) -> Result<Arc<ObjectMeta>, TierError> {
        self.memory.put(object).await
    }

    async fn delete(&self, key: &str) -> Result<bool, TierError> {
        self.memory.delete(key).await
    }

    async fn set_expiry(&self, key: &str, expires_ms: Option<u64>) -> Result<Option<Arc<ObjectMeta>>, TierError> {
        self.memory.set_expiry(key, expires_ms).await
    }

    fn list(&self, prefix: &str) -> KeyStream {
        self.memory.list(prefix)
    }

    async fn delete_prefix(&self, prefix: &str) -> Result<u64, TierError> {
        self.memory.delete_prefix(prefix).await
    }

    fn usage(&self) -> Usage {
        self.memory.usage()
    }

    fn verifies_reads(&self) -> bool {
        true
    }

    fn eviction_sample(&self, max: usize) -> Vec<Resident> {
        self.memory.eviction_sample(max)
    }

    fn residents(&self) -> Vec<Resident> {
        self.memory.residents()
    }
}
