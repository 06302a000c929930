//! Guests that get the eviction order wrong, through the engine: for each
//! fault of `tests/guests/faulty` (names unknown ids, names each victim
//! twice, names the other tier's objects, frees too little, refuses every
//! arrival, never evicts, evicts everything, grows until its memory limit,
//! traps in the middle of a batch, loops while the tier waits for room, traps
//! on every call, loses track of what it holds),
//! every request succeeds with the right bytes, the tier stays within its
//! budget after every write, the host's own order makes up what the guest
//! did not, and what happened is counted where an operator looks
//! (`/v1/stats`: the tier's and the policy's counters).
//!
//! The guest places every write in warm (a disk tier of a few objects'
//! room; `other-tier` in a hot tier that holds them all, too), so warm's
//! order is the one under test. Every seventh object is four times larger,
//! so some arrivals need more than one victim.

use std::sync::Arc;
use std::time::Duration;

use tiered::policy::{Capacities, Policy};
use tiered::store::{CacheTier, DiskTier, LocalColdTier};
use tiered::{SetOptions, StoreConfig, StoreStats, TierId, TieredStore};
use tiered_wasm::{PolicyEngine, PolicyLimits, WasmPolicy};

const FAULTY_WASM: &[u8] = tiered_test_guests::FAULTY_WASM;
const WRITES: usize = 60;
const VALUE: usize = 1000;
/// Room for about a dozen of the objects written.
const WARM_BYTES: u64 = 16 << 10;

struct Run {
    stats: StoreStats,
    /// The most bytes warm held after a write, and its budget.
    most: u64,
}

fn value(i: usize) -> Vec<u8> {
    let len = if i % 7 == 3 { 4 * VALUE } else { VALUE };
    let mut v = vec![(i % 251) as u8; len];
    v[..8].copy_from_slice(&(i as u64).to_le_bytes());
    v
}

/// Writes `WRITES` objects and reads each back, under the faulty guest in
/// `mode` (with `limits`).
async fn run(mode: &str, limits: PolicyLimits) -> anyhow::Result<Run> {
    let dir = tempfile::tempdir()?;
    let warm = Arc::new(DiskTier::open(dir.path().join("warm"), WARM_BYTES)?);
    let capacities = Capacities { hot_bytes: 1 << 20, warm_bytes: WARM_BYTES };
    let config = vec![("mode".to_owned(), mode.to_owned())];
    let policy: Arc<dyn Policy> =
        Arc::new(WasmPolicy::load(&PolicyEngine::new(None)?, FAULTY_WASM, &config, capacities, limits)?);
    // The order's count is checked every 8 calls (not 1024): these runs
    // make about a hundred.
    let config = StoreConfig { order_check_calls: 8, ..StoreConfig::default() };
    let store = TieredStore::builder()
        .config(config)
        .hot_bytes(1 << 20)
        .warm(warm.clone())
        .cold(Arc::new(LocalColdTier::open(dir.path().join("cold"))?))
        .policy(policy)
        .build()?;
    let mut most = 0;
    for i in 0..WRITES {
        store.set(&format!("k{i:03}"), value(i), SetOptions::default()).await?;
        most = most.max(warm.usage().bytes);
    }
    for i in 0..WRITES {
        let got = store.get(&format!("k{i:03}")).await?;
        anyhow::ensure!(got.as_deref() == Some(&value(i)[..]), "{mode}: k{i:03} read back wrong");
        most = most.max(warm.usage().bytes);
    }
    Ok(Run { stats: store.stats(), most })
}

fn relaxed() -> PolicyLimits {
    PolicyLimits { deadline: Duration::from_secs(60), ..PolicyLimits::default() }.unthrottled()
}

/// The checks every mode must pass; returns warm's counters.
fn common(mode: &str, r: &Run) -> anyhow::Result<tiered::engine::TierStats> {
    let warm = r.stats.tier(TierId::Warm).cloned().ok_or_else(|| anyhow::anyhow!("no warm tier"))?;
    anyhow::ensure!(r.most <= WARM_BYTES, "{mode}: warm held {} bytes, budget {WARM_BYTES}", r.most);
    anyhow::ensure!(warm.evictions > 0, "{mode}: warm never evicted: {warm:?}");
    Ok(warm)
}

#[tokio::test]
async fn a_guest_that_gets_it_right_decides_alone() -> anyhow::Result<()> {
    let r = run("ok", relaxed()).await?;
    let warm = common("ok", &r)?;
    assert_eq!((warm.victims_rejected, warm.host_evictions, warm.refused), (0, 0, 0), "{warm:?}");
    assert_eq!(warm.order_mismatches, 0, "its count of residents is checked and agrees: {warm:?}");
    assert_eq!(r.stats.policy_counters.fallbacks, 0);
    Ok(())
}

#[tokio::test]
async fn wrong_victims_are_rejected_and_the_host_makes_up_the_rest() -> anyhow::Result<()> {
    for mode in ["unknown-ids", "other-tier", "twice"] {
        let r = run(mode, relaxed()).await?;
        let warm = common(mode, &r)?;
        assert!(warm.victims_rejected > 0, "{mode}: {warm:?}");
        if mode == "unknown-ids" {
            assert!(warm.host_evictions > 0, "{mode}: the CLOCK made up the shortfall: {warm:?}");
        }
        // `twice` still names enough once. `other-tier` names all of hot:
        // ids belong to keys, so the ones warm holds too are valid victims
        // (and free more than needed); the rest are rejected.
        assert_eq!(r.stats.policy_counters.fallbacks, 0, "{mode}: wrong answers are not failures");
    }
    Ok(())
}

#[tokio::test]
async fn too_few_or_no_victims_leave_the_host_evicting() -> anyhow::Result<()> {
    for mode in ["too-few", "never-evict"] {
        let r = run(mode, relaxed()).await?;
        let warm = common(mode, &r)?;
        assert!(warm.host_evictions > 0, "{mode}: {warm:?}");
        assert_eq!(warm.victims_rejected, 0, "{mode}: {warm:?}");
    }
    Ok(())
}

#[tokio::test]
async fn a_guest_may_refuse_every_arrival_or_evict_everything() -> anyhow::Result<()> {
    let r = run("refuse-all", relaxed()).await?;
    let warm = r.stats.tier(TierId::Warm).cloned().unwrap();
    assert!(warm.refused >= WRITES as u64, "every write's warm copy refused: {warm:?}");
    assert_eq!((warm.objects, warm.evictions), (0, 0), "nothing entered, nothing left: {warm:?}");

    let r = run("evict-all", relaxed()).await?;
    let warm = common("evict-all", &r)?;
    assert!(warm.objects <= 1, "each arrival empties the tier first: {warm:?}");
    Ok(())
}

#[tokio::test]
async fn an_order_that_loses_count_is_rebuilt_from_the_residents() -> anyhow::Result<()> {
    let r = run("lose-arrivals", relaxed()).await?;
    let warm = common("lose-arrivals", &r)?;
    assert!(warm.order_mismatches > 0, "the count check found it: {warm:?}");
    assert!(warm.handovers >= warm.order_mismatches, "each mismatch hands the residents over again: {warm:?}");
    let p = &r.stats.policy_counters;
    assert_eq!((p.fallbacks, p.traps), (0, 0), "a wrong count is not a failed call: {p:?}");
    assert!(p.order_resets >= warm.order_mismatches, "the order was dropped: {p:?}");
    Ok(())
}

#[tokio::test]
async fn a_failing_order_is_rebuilt_and_handed_the_residents() -> anyhow::Result<()> {
    let cases = [
        ("trap-in-observe", relaxed()),
        ("loop-in-evict", PolicyLimits { deadline: Duration::from_millis(50), ..relaxed() }),
        ("grow", PolicyLimits { order_memory_bytes: 24 << 20, ..relaxed() }),
        ("trap", relaxed()),
    ];
    for (mode, limits) in cases {
        let r = run(mode, limits).await?;
        let warm = common(mode, &r)?;
        let p = &r.stats.policy_counters;
        assert!(p.fallbacks > 0 && p.order_resets > 0, "{mode}: failures counted: {p:?}");
        match mode {
            "loop-in-evict" => assert!(p.timeouts > 0, "{mode}: {p:?}"),
            _ => assert!(p.traps > 0, "{mode}: {p:?}"),
        }
        // Rebuilt and handed the residents, or (failing call after call)
        // resting: three failures in a row pause the order for 30 s.
        assert!(warm.handovers >= 2 || p.order_pauses >= 1, "{mode}: {warm:?} {p:?}");
        if mode == "trap" {
            assert_eq!(p.order_pauses, 1, "{mode}: a policy failing every call rests: {p:?}");
            assert!(p.order_resets <= 3, "{mode}: and is not rebuilt meanwhile: {p:?}");
        }
        assert!(warm.host_evictions > 0, "{mode}: the CLOCK evicted while the order was lost: {warm:?}");
    }
    Ok(())
}
