//! The tier contract (`tiered::store::contract`) against every tier of this
//! crate: one named trial per rule and tier (`cargo test -p tiered --test
//! contract -- --list`), run on a fresh tier each. Rules of a role a tier
//! does not play are not trials. The S3 tier runs the same rules in
//! `tiered-s3`'s harness.

use std::sync::Arc;

use libtest_mimic::{Arguments, Failed, Trial};
use tiered::store::contract::{Applies, Role, rules};
use tiered::store::{DiskTier, LocalColdTier, MemoryTier, TierDouble};

/// A fresh tier, and the directory it lives in (removed when dropped).
type Make = fn() -> Result<(Role, Option<tempfile::TempDir>), Failed>;

fn tiers() -> Vec<(&'static str, Applies, Make)> {
    vec![
        ("memory", Applies::Cache, || Ok((Role::Cache(Arc::new(MemoryTier::new(1 << 20))), None))),
        ("disk", Applies::Cache, || {
            let dir = tempfile::tempdir()?;
            Ok((Role::Cache(Arc::new(DiskTier::open(dir.path(), 1 << 20)?)), Some(dir)))
        }),
        ("local", Applies::Source, || {
            let dir = tempfile::tempdir()?;
            Ok((Role::Source(Arc::new(LocalColdTier::open(dir.path())?)), Some(dir)))
        }),
        ("double_as_cache", Applies::Cache, || Ok((Role::Cache(Arc::new(TierDouble::new())), None))),
        ("double_as_source", Applies::Source, || Ok((Role::Source(Arc::new(TierDouble::new())), None))),
        ("double_over_local", Applies::Source, || {
            let dir = tempfile::tempdir()?;
            let local = Arc::new(LocalColdTier::open(dir.path())?);
            Ok((Role::Source(Arc::new(TierDouble::wrapping(local))), Some(dir)))
        }),
    ]
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = Vec::new();
    for (tier, role, make) in tiers() {
        for rule in rules().into_iter().filter(|r| r.applies == Applies::Every || r.applies == role) {
            trials.push(Trial::test(format!("{tier}::{}", rule.name), move || {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
                let (role, _dir) = make()?;
                runtime.block_on(rule.check(role)).map_err(Failed::from)
            }));
        }
    }
    libtest_mimic::run(&args, trials).exit();
}
