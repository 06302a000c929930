//! [`PolicyLoadError`]: why a policy component could not be loaded. Failures
//! *after* loading never surface as errors: they become fallback decisions
//! (see [`super::WasmPolicy`]).
//!
//! Messages name the failure; where wasmtime's error is the cause, it is kept
//! as the error's `source`, so print the chain (`{:#}` with anyhow) to see
//! e.g. `does not implement tiered:policy/decisions@0.4.0: no exported
//! instance named ...`. A failed set-up says its cause in the message itself.

use super::instance::{PrepareError, SetupError};

/// Why a policy component could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyLoadError {
    /// The bytes are not a WebAssembly component (a core module, text, a
    /// compiled artifact, or something else entirely).
    #[error("not a WebAssembly component: {0}")]
    NotAComponent(String),
    /// The component is malformed or uses features the engine does not support.
    #[error("invalid WebAssembly component (it could not be compiled)")]
    Compile(#[source] wasmtime::Error),
    /// The component imports something the host cannot provide with the
    /// right type (the host offers `tiered:policy/host@0.4.0` and
    /// `tiered:policy/current-object@0.4.0`).
    #[error("the policy's imports cannot be satisfied by the host")]
    Link(#[source] wasmtime::Error),
    /// The component does not export the decisions interface (or exports it
    /// with other types, e.g. built against another version of the WIT).
    #[error("does not implement tiered:policy/decisions@0.4.0")]
    WrongWorld(#[source] wasmtime::Error),
    /// The component exports this version's `eviction` interface, but not
    /// as this host has it (another function set or other types): it was
    /// built against an earlier text of the same version.
    #[error(
        "exports tiered:policy/eviction@0.4.0 unlike this host's (a function missing or of other \
         types: built against an earlier text of the contract?): rebuild the policy against this \
         host's wit/policy.wit"
    )]
    WrongEviction(#[source] wasmtime::Error),
    /// The component implements another version of the contract: it was
    /// built against another `wit/policy.wit`.
    #[error(
        "exports {found}, but this host implements tiered:policy@0.4.0: rebuild the policy \
         against this host's wit/policy.wit"
    )]
    OtherVersion { found: String },
    /// Instantiation, `identity` or `configure` trapped or ran out of time.
    /// `cause` comes first in its own words: the set-up deadline by name and
    /// value, or the trap's message (the guest's backtrace is logged at
    /// debug level).
    #[error("the policy failed during {during}: {cause}")]
    Setup { during: &'static str, cause: String },
    /// `identity` answered a name or version that cannot be used in logs and
    /// metrics (empty, too long, or holding control characters, line
    /// separators or bidirectional overrides).
    #[error("the policy's identity is unusable: {0}")]
    BadIdentity(String),
    /// `configure` rejected the `[policy_config]` table; the policy's message.
    #[error("the policy rejected its configuration: {0}")]
    ConfigRejected(String),
    /// The wasmtime engine could not be created.
    #[error("cannot create the WebAssembly engine")]
    Engine(#[source] wasmtime::Error),
    /// The epoch ticker thread could not be started.
    #[error("cannot start the policy deadline thread")]
    Ticker(#[source] std::io::Error),
}

impl From<PrepareError> for PolicyLoadError {
    fn from(err: PrepareError) -> Self {
        match err {
            PrepareError::Link(e) => PolicyLoadError::Link(e),
            PrepareError::Exports(e) => PolicyLoadError::WrongWorld(e),
            PrepareError::Eviction(e) => PolicyLoadError::WrongEviction(e),
            PrepareError::OtherVersion(found) => PolicyLoadError::OtherVersion { found },
        }
    }
}

impl From<SetupError> for PolicyLoadError {
    fn from(err: SetupError) -> Self {
        match err {
            SetupError::Failed { during, cause } => PolicyLoadError::Setup { during, cause },
            SetupError::BadIdentity(why) => PolicyLoadError::BadIdentity(why),
            SetupError::Rejected(message) => PolicyLoadError::ConfigRejected(message),
        }
    }
}

/// Refuses bytes that are not a component, saying what they are instead.
pub(crate) fn ensure_component(wasm: &[u8]) -> Result<(), PolicyLoadError> {
    let what = match wasm {
        // Preamble: magic, then a u16 version and a u16 layer (0 = core, 1 = component).
        [0, b'a', b's', b'm', _, _, 1, 0, ..] => return Ok(()),
        [0, b'a', b's', b'm', _, _, 0, 0, ..] => {
            "it is a core WebAssembly module; a policy is a component targeting the \
             `tiered:policy` world (build for wasm32-wasip2, or wrap the module with \
             `wasm-tools component new`)"
        }
        [0, b'a', b's', b'm', ..] => "unknown WebAssembly version or layer",
        [0x7f, b'E', b'L', b'F', ..] => "it is a native or precompiled (.cwasm) file; give the policy's .wasm",
        _ if wasm.trim_ascii_start().starts_with(b"(") => "it looks like WebAssembly text; give the binary component",
        [] => "the file is empty",
        _ => "the file does not start with the WebAssembly magic bytes `\\0asm`",
    };
    Err(PolicyLoadError::NotAComponent(what.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_component_preambles_pass() {
        assert!(ensure_component(b"\0asm\x0d\0\x01\0").is_ok());
        for bytes in [&b"\0asm\x01\0\0\0"[..], b"", b"hello", b"(component)", b"\x7fELF\x02"] {
            let err = ensure_component(bytes).unwrap_err();
            assert!(err.to_string().starts_with("not a WebAssembly component: "), "{err}");
        }
        let core = ensure_component(b"\0asm\x01\0\0\0").unwrap_err().to_string();
        assert!(core.contains("core WebAssembly module"), "{core}");
    }
}
