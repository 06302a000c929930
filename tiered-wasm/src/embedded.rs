//! The default policy component, embedded in this crate (and so in the
//! `tiered` binary).
//!
//! `build.rs` compiles `guest-policy/` (crate `tiered-default-policy`) for
//! `wasm32-wasip2` and points `TIERED_DEFAULT_POLICY_WASM` at the result, so
//! `tiered serve` runs the default policy as a real WebAssembly component with
//! no file to ship next to the binary.

/// The bytes of the default policy component (`tiered-default`), built from
/// `guest-policy/` for `wasm32-wasip2` against `wit/policy.wit`. Its logic is
/// the same code [`tiered::policy::BuiltinPolicy`] links natively.
pub const DEFAULT_POLICY_WASM: &[u8] = include_bytes!(env!("TIERED_DEFAULT_POLICY_WASM"));

/// The embedded default component, configured with `config` and
/// `capacities`, on an engine shared by the whole process: the first call
/// compiles the component, later calls only instantiate it (well under a
/// millisecond). Being the project's own code, it is not throttled
/// ([`PolicyLimits::unthrottled`](crate::PolicyLimits::unthrottled)).
pub fn default_policy(
    config: &[(String, String)],
    capacities: tiered::policy::Capacities,
) -> Result<crate::WasmPolicy, crate::PolicyLoadError> {
    static ENGINE: std::sync::OnceLock<crate::PolicyEngine> = std::sync::OnceLock::new();
    let engine = match ENGINE.get() {
        Some(engine) => engine,
        None => {
            let engine = crate::PolicyEngine::new(None)?;
            ENGINE.get_or_init(|| engine)
        }
    };
    crate::WasmPolicy::load(
        engine,
        DEFAULT_POLICY_WASM,
        config,
        capacities,
        crate::PolicyLimits::default().unthrottled(),
    )
}
