//! The engine's decisions come from the WebAssembly policy it is given: the
//! same writes through the same tiers land and leave differently under a
//! custom guest (`tests/guests/faulty` in mode `ok`: warm only, never hot;
//! the newest object is evicted first) than under the native fallback
//! (hot and warm; the host's CLOCK evicts the oldest unread object).

use std::sync::Arc;
use std::time::Duration;

use tiered::policy::{Capacities, FallbackPolicy, Policy};
use tiered::store::{CacheTier, DiskTier, LocalColdTier, Tier};
use tiered::{SetOptions, TierId, TieredStore};
use tiered_wasm::DEFAULT_POLICY_WASM;
use tiered_wasm::{PolicyEngine, PolicyLimits, WasmPolicy};

const FAULTY_WASM: &[u8] = tiered_test_guests::FAULTY_WASM;
const VALUE: usize = 4096;

/// Room on disk for three of the test's objects, not four.
fn warm_budget(dir: &std::path::Path) -> anyhow::Result<u64> {
    // Measure one object file, then allow 3.5 of them.
    let probe = DiskTier::open(dir.join("probe"), 1 << 20)?;
    futures::executor::block_on(probe.put(crate::support::object("b", &[0; VALUE], 1)))?;
    Ok(probe.usage().bytes * 7 / 2)
}

struct Rig {
    store: TieredStore,
    warm: Arc<DiskTier>,
    _dir: tempfile::TempDir,
}

fn rig(policy: Arc<dyn Policy>) -> anyhow::Result<Rig> {
    let dir = tempfile::tempdir()?;
    let warm = Arc::new(DiskTier::open(dir.path().join("warm"), warm_budget(dir.path())?)?);
    let store = TieredStore::builder()
        .hot_bytes(1 << 20)
        .warm(warm.clone())
        .cold(Arc::new(LocalColdTier::open(dir.path().join("cold"))?))
        .policy(policy)
        .build()?;
    Ok(Rig { store, warm, _dir: dir })
}

fn wasm(bytes: &[u8], config: &[(&str, &str)]) -> anyhow::Result<Arc<dyn Policy>> {
    let config: Vec<(String, String)> = config.iter().map(|&(k, v)| (k.into(), v.into())).collect();
    let capacities = Capacities { hot_bytes: 1 << 20, warm_bytes: 16 << 10 };
    // A deadline no preemption reaches, and no throttle: the tests check the policy's own decisions.
    let limits = PolicyLimits { deadline: Duration::from_secs(60), ..PolicyLimits::default() }.unthrottled();
    Ok(Arc::new(WasmPolicy::load(&PolicyEngine::new(None)?, bytes, &config, capacities, limits)?))
}

/// Write b, c, a (a little larger than the others), then d (one more than
/// warm holds); what warm keeps.
async fn run(rig: &Rig) -> anyhow::Result<(Vec<TierId>, Vec<&'static str>)> {
    let mut first = Vec::new();
    for key in ["b", "c", "a", "d"] {
        let len = if key == "a" { VALUE + 96 } else { VALUE };
        let outcome = rig.store.set(key, vec![7u8; len], SetOptions::default()).await?;
        if first.is_empty() {
            first = outcome.tiers;
        }
    }
    let mut kept = Vec::new();
    for key in ["a", "b", "c", "d"] {
        if rig.warm.get(key).await?.is_some() {
            kept.push(key);
        }
    }
    Ok((first, kept))
}

#[tokio::test]
async fn a_custom_guest_changes_placement_and_eviction() -> anyhow::Result<()> {
    let custom = rig(wasm(FAULTY_WASM, &[("mode", "ok")])?)?;
    let (placed, kept) = run(&custom).await?;
    assert_eq!(placed, vec![TierId::Warm, TierId::Cold], "the guest places in warm only");
    assert_eq!(kept, ["b", "c", "d"], "the guest evicts the newest object, 'a', which the CLOCK would keep");
    assert_eq!(custom.store.stats().tier(TierId::Warm).map(|t| t.evictions), Some(1));
    assert_eq!(custom.store.stats().policy_counters.fallbacks, 0, "every decision came from the guest");

    let lru = rig(Arc::new(FallbackPolicy::new(Capacities { hot_bytes: 1 << 20, warm_bytes: 16 << 10 })))?;
    let (placed, kept) = run(&lru).await?;
    assert_eq!(placed, vec![TierId::Hot, TierId::Warm, TierId::Cold], "the fallback also fills hot");
    assert_eq!(kept, ["a", "c", "d"], "the CLOCK: the oldest unread object, 'b', goes");
    Ok(())
}

#[tokio::test]
async fn the_library_decides_with_the_default_policy_natively_when_nothing_else_is_given() -> anyhow::Result<()> {
    // The library never needs wasmtime: without a policy it links the
    // default's logic; the service runs the same logic as a component.
    let dir = tempfile::tempdir()?;
    let store = TieredStore::builder().hot_bytes(1 << 20).cold(Arc::new(LocalColdTier::open(dir.path())?)).build()?;
    let identity = store.policy().identity();
    assert_eq!((identity.interface.as_str(), identity.sha256.as_deref()), ("native", None), "{identity:?}");
    let component = wasm(DEFAULT_POLICY_WASM, &[])?.identity();
    assert_eq!((identity.name, identity.version), (component.name, component.version));
    Ok(())
}
