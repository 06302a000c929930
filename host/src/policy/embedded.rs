//! The default policy component, embedded in the host binary.
//!
//! `build.rs` compiles `guest-policy/` (crate `tiered-default-policy`) for
//! `wasm32-wasip2` and points `TIERED_DEFAULT_POLICY_WASM` at the result, so
//! `tiered serve` runs the default policy as a real WebAssembly component with
//! no file to ship next to the binary.

/// The bytes of the default policy component (`tiered-default`), built from
/// `guest-policy/` for `wasm32-wasip2` against `wit/policy.wit`. Its logic is
/// the same code [`super::BuiltinPolicy`] links natively.
pub const DEFAULT_POLICY_WASM: &[u8] = include_bytes!(env!("TIERED_DEFAULT_POLICY_WASM"));
