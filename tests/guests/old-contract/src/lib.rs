//! A policy built against an older contract (`tiered:policy@0.1.0`, see this
//! crate's `wit/`): the host must refuse it at load time, naming both
//! versions, rather than report a generic "wrong world".

#[cfg(target_arch = "wasm32")]
mod component {
    wit_bindgen::generate!({ path: "wit", world: "policy" });

    use exports::tiered::policy::decisions::{Guest, PolicyIdentity};

    struct Old;

    impl Guest for Old {
        fn identity() -> PolicyIdentity {
            PolicyIdentity { name: "old-contract".into(), version: env!("CARGO_PKG_VERSION").into() }
        }
    }

    export!(Old);
}
