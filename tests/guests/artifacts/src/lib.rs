//! The test policy components, built by this crate's build script from the
//! guest crates beside it, for the tests of the workspace (a dev-dependency;
//! the library never builds them).
//!
//! Each constant is the path of a component file; the `*_WASM` constants are
//! its bytes. The eviction algorithm library is crate `tiered-algorithms`.

/// `tests/guests/faulty`: misbehaves on command (traps, loops, wrong shapes,
/// log floods, leaks), chosen by `[policy_config] mode`.
pub const FAULTY_PATH: &str = env!("TIERED_FAULTY_POLICY_WASM");
/// The bytes of [`FAULTY_PATH`].
pub const FAULTY_WASM: &[u8] = include_bytes!(env!("TIERED_FAULTY_POLICY_WASM"));

/// `tests/guests/old-contract`: a policy built against an older contract, to
/// be refused with a clear error.
pub const OLD_CONTRACT_PATH: &str = env!("TIERED_OLD_CONTRACT_POLICY_WASM");
/// The bytes of [`OLD_CONTRACT_PATH`].
pub const OLD_CONTRACT_WASM: &[u8] = include_bytes!(env!("TIERED_OLD_CONTRACT_POLICY_WASM"));

/// `tests/guests/early-order`: an ordered policy built against the first
/// text of this contract version, whose `eviction` lacks `residents`, to be
/// refused by naming the interface.
pub const EARLY_ORDER_WASM: &[u8] = include_bytes!(env!("TIERED_EARLY_ORDER_POLICY_WASM"));
