//! How much memory policies may hold: each linear memory is bounded per
//! instance ([`PolicyLimits::memory_bytes`]), and the linear memory of *all*
//! instances of every policy one [`PolicyEngine`] runs is bounded together
//! ([`MemoryBudget`], `[policy_limits] total_memory_bytes`).
//!
//! Why both: the per-instance bound stops one runaway call, but the pool keeps
//! several idle instances (and builds more under a burst), each of which may
//! have grown to the per-instance bound. A policy that leaks a little on every
//! call would then hold pool size × bound, a figure that grows with the core
//! count. The process-wide budget caps the sum; the pool also drops, rather
//! than keeps, an instance that grew past [`PolicyLimits::idle_growth_bytes`]
//! since it was configured (see `pool.rs`), so a leak is returned to the
//! operating system as soon as the call that made it ends.
//!
//! [`InstanceMemory`] is each `Store`'s `ResourceLimiter`: it applies the
//! per-memory bound (through wasmtime's `StoreLimits`), reserves every growth
//! from the shared budget (wasmtime asks for the initial size of a memory as a
//! growth from zero, so instantiation is counted too), and gives its
//! reservation back when the `Store` is dropped. A refused growth traps (the
//! call falls back and the instance is rebuilt) instead of returning -1 to the
//! guest, so a runaway allocation ends at once.
//!
//! [`PolicyLimits::memory_bytes`]: super::PolicyLimits::memory_bytes
//! [`PolicyLimits::idle_growth_bytes`]: super::PolicyLimits::idle_growth_bytes
//! [`PolicyEngine`]: super::PolicyEngine

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};

/// The linear memory all policy instances of one engine may hold together.
/// Cheap to clone (clones share the account).
#[derive(Clone)]
pub struct MemoryBudget {
    inner: Arc<Account>,
}

struct Account {
    /// The bound, in bytes.
    total: usize,
    /// Bytes held by live instances.
    used: AtomicUsize,
    /// Growths refused because the budget was spent.
    refused: AtomicU64,
}

/// The budget was spent: what a refused growth reports (its trap message).
#[derive(Debug, thiserror::Error)]
#[error(
    "policy memory budget exhausted: growing by {wanted} bytes would pass the process-wide bound of {total} bytes \
     ({used} bytes held by policy instances; raise [policy_limits] total_memory_bytes)"
)]
pub struct BudgetExhausted {
    pub wanted: usize,
    pub used: usize,
    pub total: usize,
}

impl MemoryBudget {
    /// A budget of `total` bytes.
    pub fn new(total: usize) -> Self {
        MemoryBudget { inner: Arc::new(Account { total, used: AtomicUsize::new(0), refused: AtomicU64::new(0) }) }
    }

    /// The default bound for this machine: a quarter of its memory (or of the
    /// control group's limit, when lower), at most 4 GiB and at least 512 MiB.
    pub fn default_total() -> usize {
        let machine = physical_memory().unwrap_or(4 << 30);
        usize::try_from(machine / 4).unwrap_or(usize::MAX).clamp(512 << 20, 4 << 30)
    }

    /// The bound, in bytes.
    pub fn total(&self) -> usize {
        self.inner.total
    }

    /// Bytes held by live instances now.
    pub fn used(&self) -> usize {
        self.inner.used.load(Ordering::Relaxed)
    }

    /// Growths refused so far because the budget was spent.
    pub fn refused(&self) -> u64 {
        self.inner.refused.load(Ordering::Relaxed)
    }

    /// Takes `bytes` from the budget, or refuses (and counts the refusal).
    fn reserve(&self, bytes: usize) -> Result<(), BudgetExhausted> {
        let a = &self.inner;
        a.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|&after| after <= a.total)
            })
            .map(drop)
            .map_err(|used| {
                a.refused.fetch_add(1, Ordering::Relaxed);
                BudgetExhausted { wanted: bytes, used, total: a.total }
            })
    }

    fn release(&self, bytes: usize) {
        self.inner.used.fetch_sub(bytes, Ordering::Relaxed);
    }
}

impl Default for MemoryBudget {
    fn default() -> Self {
        MemoryBudget::new(MemoryBudget::default_total())
    }
}

impl fmt::Debug for MemoryBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryBudget").field("total", &self.total()).field("used", &self.used()).finish()
    }
}

/// The memory of the machine, or of this process's control group when it has
/// a lower limit; `None` where neither can be read.
fn physical_memory() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 =
        meminfo.lines().find_map(|l| l.strip_prefix("MemTotal:"))?.trim().strip_suffix("kB")?.trim().parse().ok()?;
    let machine = kib * 1024;
    let cgroup = std::fs::read_to_string("/sys/fs/cgroup/memory.max").ok().and_then(|s| s.trim().parse::<u64>().ok());
    Some(cgroup.map_or(machine, |limit| limit.min(machine)))
}

/// The `ResourceLimiter` of one instance's `Store`.
pub(crate) struct InstanceMemory {
    /// The per-memory bound, and wasmtime's defaults for tables and counts.
    limits: StoreLimits,
    budget: MemoryBudget,
    /// Bytes of linear memory this instance holds (reserved from `budget`).
    held: usize,
}

impl InstanceMemory {
    /// A limiter bounding each memory at `memory_bytes` and the sum of all
    /// instances at `budget`.
    pub(crate) fn new(memory_bytes: usize, budget: MemoryBudget) -> Self {
        let limits = StoreLimitsBuilder::new().memory_size(memory_bytes).trap_on_grow_failure(true).build();
        InstanceMemory { limits, budget, held: 0 }
    }

    /// Bytes of linear memory this instance holds.
    pub(crate) fn held(&self) -> usize {
        self.held
    }
}

impl ResourceLimiter for InstanceMemory {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        if !self.limits.memory_growing(current, desired, maximum)? {
            return Ok(false);
        }
        let growth = desired.saturating_sub(current);
        self.budget.reserve(growth)?;
        self.held += growth;
        Ok(true)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

impl Drop for InstanceMemory {
    fn drop(&mut self) {
        self.budget.release(self.held);
    }
}

impl fmt::Debug for InstanceMemory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceMemory").field("held", &self.held).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn growth_is_taken_from_the_shared_budget_and_given_back_on_drop() -> wasmtime::Result<()> {
        let budget = MemoryBudget::new(10 * MIB);
        let mut a = InstanceMemory::new(8 * MIB, budget.clone());
        let mut b = InstanceMemory::new(8 * MIB, budget.clone());
        assert!(a.memory_growing(0, 4 * MIB, None)?, "the initial size is a growth from zero");
        assert!(a.memory_growing(4 * MIB, 6 * MIB, None)?);
        assert_eq!((a.held(), budget.used()), (6 * MIB, 6 * MIB));

        let refused = b.memory_growing(0, 5 * MIB, None).unwrap_err();
        let exhausted = refused.downcast_ref::<BudgetExhausted>().expect("a budget error");
        assert_eq!((exhausted.wanted, exhausted.used, exhausted.total), (5 * MIB, 6 * MIB, 10 * MIB));
        assert!(refused.to_string().contains("total_memory_bytes"), "{refused}");
        assert_eq!((b.held(), budget.used(), budget.refused()), (0, 6 * MIB, 1), "a refusal takes nothing");

        drop(a);
        assert_eq!(budget.used(), 0, "a dropped instance gives its memory back");
        assert!(b.memory_growing(0, 5 * MIB, None)?);
        assert_eq!(budget.used(), 5 * MIB);
        Ok(())
    }

    #[test]
    fn the_per_memory_bound_still_applies_and_takes_nothing() {
        let budget = MemoryBudget::new(100 * MIB);
        let mut a = InstanceMemory::new(8 * MIB, budget.clone());
        assert!(a.memory_growing(0, 9 * MIB, None).is_err(), "past the per-instance bound: a trap");
        assert_eq!((a.held(), budget.used(), budget.refused()), (0, 0, 0));
    }

    #[test]
    fn the_default_total_is_sized_for_the_machine_within_bounds() {
        let total = MemoryBudget::default_total();
        assert!((512 << 20..=4 << 30).contains(&total), "{total}");
        if let Some(machine) = physical_memory() {
            let quarter = usize::try_from(machine / 4).unwrap_or(usize::MAX);
            assert_eq!(total, quarter.clamp(512 << 20, 4 << 30));
        }
    }
}
