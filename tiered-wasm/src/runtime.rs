//! [`PolicyEngine`]: the wasmtime `Engine` every policy component runs in,
//! the epoch ticker that enforces call deadlines, and the compiled-artifact
//! cache that spares a restart the seconds a large component takes to compile.
//!
//! - **Epochs.** The engine is built with epoch interruption; a background
//!   thread increments the epoch every [`EPOCH_TICK`] (1 ms) and each call sets
//!   its deadline in ticks. The thread also counts the ticks in an
//!   [`EpochClock`] the host imports read, since wasmtime checks the epoch
//!   only inside guest code. The thread stops when the last clone of the
//!   `PolicyEngine` is dropped (every loaded policy holds one, so a deadline
//!   can never outlive its clock).
//! - **Memory.** The engine holds the [`MemoryBudget`] every instance of every
//!   policy it runs draws its linear memory from.
//! - **Cache.** With a cache directory, the compiled artifact is written to
//!   `<dir>/<sha256 of the wasm>-<engine compatibility hash>.cwasm` (a temp
//!   file, then renamed) and loaded from there on the next start. Without one, every
//!   load compiles. Loaded artifacts are memory-mapped: files in the cache are
//!   only ever replaced (renamed over), never rewritten in place.

use std::fmt;
use std::fs;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::JoinHandle;

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{Config, Engine};

use super::PolicyLoadError;
use super::limits::EPOCH_TICK;
use super::memory::MemoryBudget;

/// The shared runtime for policy components. Cheap to clone.
#[derive(Clone, Debug)]
pub struct PolicyEngine {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    /// The epochs elapsed, as the ticker counts them.
    clock: EpochClock,
    /// What all instances of this engine's policies may hold together.
    memory: MemoryBudget,
    /// Where compiled artifacts are kept, if anywhere.
    cache_dir: Option<PathBuf>,
    /// Hex digest of `precompile_compatibility_hash`: artifacts compiled by an
    /// engine with other settings (or another wasmtime) get another name.
    compat: String,
    /// Without a cache directory: components compiled by this engine, by
    /// sha256 of their wasm (a few at most), so loading the same policy again
    /// only instantiates it. (With a directory, the artifact file is the
    /// cache, and mapping it again costs well under a millisecond.)
    compiled: parking_lot::Mutex<Vec<(String, Component)>>,
    /// Dropping it tells the ticker to stop.
    stop: Option<mpsc::Sender<()>>,
    ticker: Option<JoinHandle<()>>,
}

impl PolicyEngine {
    /// An engine whose compiled artifacts are cached in `cache_dir` (created if
    /// missing; `None` = always compile), with the default memory budget
    /// ([`MemoryBudget::default_total`]).
    pub fn new(cache_dir: Option<PathBuf>) -> Result<Self, PolicyLoadError> {
        PolicyEngine::with_memory(cache_dir, MemoryBudget::default())
    }

    /// [`PolicyEngine::new`] whose policies draw their linear memory from
    /// `memory` (`[policy_limits] total_memory_bytes` in the service).
    pub fn with_memory(cache_dir: Option<PathBuf>, memory: MemoryBudget) -> Result<Self, PolicyLoadError> {
        let mut config = Config::new();
        config.wasm_component_model(true).epoch_interruption(true);
        let engine = Engine::new(&config).map_err(PolicyLoadError::Engine)?;

        let mut hasher = Sha256Hasher(Sha256::new());
        engine.precompile_compatibility_hash().hash(&mut hasher);
        let compat = hex::encode(&hasher.0.finalize()[..8]);

        let (stop, stopped) = mpsc::channel::<()>();
        let ticking = engine.clone();
        let clock = EpochClock::default();
        let counting = clock.clone();
        let ticker = std::thread::Builder::new()
            .name("tiered-policy-epoch".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(EPOCH_TICK) {
                    ticking.increment_epoch();
                    counting.tick();
                }
            })
            .map_err(PolicyLoadError::Ticker)?;

        Ok(PolicyEngine {
            inner: Arc::new(Inner {
                engine,
                clock,
                memory,
                cache_dir,
                compat,
                compiled: parking_lot::Mutex::new(Vec::new()),
                stop: Some(stop),
                ticker: Some(ticker),
            }),
        })
    }

    /// The cache directory, if compiled artifacts are cached.
    pub fn cache_dir(&self) -> Option<&Path> {
        self.inner.cache_dir.as_deref()
    }

    pub(crate) fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The budget all instances of this engine's policies share.
    pub fn memory(&self) -> &MemoryBudget {
        &self.inner.memory
    }

    pub(crate) fn clock(&self) -> &EpochClock {
        &self.inner.clock
    }

    /// Compiles `wasm` (whose sha256 is `sha256`), or reuses what this engine
    /// or the on-disk cache compiled before. Returns the component and whether
    /// it came from a cache.
    pub(crate) fn compile(&self, wasm: &[u8], sha256: &str) -> wasmtime::Result<(Component, bool)> {
        if self.inner.cache_dir.is_some() {
            return self.compile_or_load(wasm, sha256);
        }
        if let Some((_, component)) = self.inner.compiled.lock().iter().find(|(h, _)| h == sha256) {
            return Ok((component.clone(), true));
        }
        let (component, cached) = self.compile_or_load(wasm, sha256)?;
        let mut compiled = self.inner.compiled.lock();
        if compiled.len() >= MAX_REMEMBERED {
            compiled.remove(0);
        }
        compiled.push((sha256.to_string(), component.clone()));
        Ok((component, cached))
    }

    fn compile_or_load(&self, wasm: &[u8], sha256: &str) -> wasmtime::Result<(Component, bool)> {
        let engine = &self.inner.engine;
        let Some(dir) = &self.inner.cache_dir else {
            return Ok((Component::new(engine, wasm)?, false));
        };
        let path = dir.join(format!("{sha256}-{}.cwasm", self.inner.compat));
        if path.is_file() {
            // SAFETY: `deserialize_file` maps the file and runs its machine code,
            // so the file must be an artifact wasmtime produced and must not
            // change while mapped. We wrote it ourselves (below) into our own
            // cache directory, named by the sha256 of the wasm it was compiled
            // from and by this engine's compatibility hash, and we only ever
            // replace it by renaming a complete temp file over it (the mapped
            // inode is never modified). Wasmtime checks the header, version and
            // engine settings and errors on a truncated or incompatible file;
            // we then delete it and compile again. The directory must be private
            // to tiered: whoever can write it could as well replace the binary,
            // and truncating a mapped file in place (instead of replacing it)
            // would kill the process with SIGBUS.
            match unsafe { Component::deserialize_file(engine, &path) } {
                Ok(component) => return Ok((component, true)),
                Err(err) => {
                    tracing::warn!(path = %path.display(), ?err, "unusable compiled policy in cache; recompiling");
                    let _ = fs::remove_file(&path);
                }
            }
        }
        let component = Component::new(engine, wasm)?;
        if let Err(err) = write_artifact(dir, &path, &component) {
            tracing::warn!(path = %path.display(), ?err, "could not cache the compiled policy");
        }
        Ok((component, false))
    }
}

/// The count of epoch ticks since the engine started, readable from host code
/// (wasmtime offers no way to read the engine's epoch). Cheap to clone.
#[derive(Clone, Debug, Default)]
pub(crate) struct EpochClock(Arc<AtomicU64>);

impl EpochClock {
    /// Ticks so far.
    pub(crate) fn now(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    /// One more tick.
    pub(crate) fn tick(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Compiled components an engine keeps in memory.
const MAX_REMEMBERED: usize = 4;

/// Writes the serialized component next to `path`, then renames it into place.
fn write_artifact(dir: &Path, path: &Path, component: &Component) -> anyhow::Result<()> {
    let bytes = component.serialize()?;
    fs::create_dir_all(dir)?;
    static WRITES: AtomicU64 = AtomicU64::new(0);
    let n = WRITES.fetch_add(1, Ordering::Relaxed);
    let tmp = path.with_extension(format!("cwasm.{}-{n}.tmp", std::process::id()));
    fs::write(&tmp, &bytes)?;
    fs::rename(&tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })?;
    Ok(())
}

impl Drop for Inner {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
    }
}

impl fmt::Debug for Inner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyEngine")
            .field("cache_dir", &self.cache_dir)
            .field("memory", &self.memory)
            .field("compat", &self.compat)
            .finish_non_exhaustive()
    }
}

/// Feeds a `Hash` into sha256 (stable across runs, unlike `RandomState`).
struct Sha256Hasher(Sha256);

impl Hasher for Sha256Hasher {
    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }

    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        u64::from_le_bytes(digest[..8].try_into().unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_last_clone_stops_the_ticker() -> Result<(), PolicyLoadError> {
        let engine = PolicyEngine::new(None)?;
        let clone = engine.clone();
        let weak = Arc::downgrade(&engine.inner);
        drop(engine);
        assert!(weak.upgrade().is_some(), "a clone keeps the engine alive");
        drop(clone);
        assert!(weak.upgrade().is_none(), "dropping the engine joins its ticker");
        Ok(())
    }
}
