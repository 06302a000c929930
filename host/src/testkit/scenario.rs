//! The scenario file: a TOML script of store operations and the expectations
//! checked after each (the format is documented in docs/writing-a-policy.md).
//!
//! ```toml
//! name = "tmp/ skips the disk"
//! [store]                  # optional: budgets, eviction sample, clock start
//! hot_bytes = "64KiB"
//! [policy_config]          # optional: handed to the policy's `configure`
//! "ttl.tmp/" = "30"
//!
//! [[step]]
//! put = "tmp/a"
//! size = 100
//! expect.in = ["hot", "cold"]
//! expect.not_in = ["warm"]
//! expect.ttl_ms = 30000
//! expect.s3 = { put = 1 }
//! ```
//!
//! Each `[[step]]` holds exactly one action (`put`, `get`, `delete`, `touch`,
//! `advance_ms`, or `check` for expectations alone); every `expect.*` field
//! is optional. Unknown fields are errors, so a misspelt expectation never passes
//! silently. The checking lives in [`super::expect`].

use std::collections::BTreeMap;

use serde::Deserialize;

use super::KitError;
use super::expect::{Expectations, TtlExpect};
use crate::config::ByteSize;
use tiered::policy::TierId;

/// A parsed scenario.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub store: StoreSettings,
    /// `[policy_config]` pairs; a `--config` file's pairs override these.
    #[serde(default)]
    pub policy_config: BTreeMap<String, String>,
    #[serde(rename = "step", default)]
    pub steps: Vec<Step>,
}

/// The store the scenario runs on. A zero budget leaves that tier out.
#[derive(Clone, Debug, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreSettings {
    pub hot_bytes: ByteSize,
    pub warm_bytes: ByteSize,
    /// The manual clock's start, ms since the Unix epoch.
    pub start_ms: u64,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings { hot_bytes: ByteSize(64 << 20), warm_bytes: ByteSize(256 << 20), start_ms: 1_700_000_000_000 }
    }
}

/// One step as written: one action field plus expectations.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub put: Option<String>,
    pub get: Option<String>,
    pub delete: Option<String>,
    pub touch: Option<String>,
    #[serde(alias = "advance")]
    pub advance_ms: Option<u64>,
    /// A key to check, with no operation.
    pub check: Option<String>,
    /// Size of a `put`'s value.
    pub size: Option<ByteSize>,
    /// TTL of a `put` (requested from the policy) or of a `touch` (absent: never).
    pub ttl_ms: Option<u64>,
    pub content_type: Option<String>,
    #[serde(default)]
    pub meta: BTreeMap<String, String>,
    /// Checked after the action (`expect.in = ["hot"]`, `expect.s3 = { get = 0 }`, ...).
    #[serde(default)]
    pub expect: Expectations,
}

/// What a step does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Put { key: String, size: u64, ttl_ms: Option<u64>, content_type: Option<String>, meta: BTreeMap<String, String> },
    Get { key: String },
    Delete { key: String },
    Touch { key: String, ttl_ms: Option<u64> },
    Advance { ms: u64 },
    Check { key: String },
}

impl Action {
    /// The key the step is about, if any.
    pub fn key(&self) -> Option<&str> {
        match self {
            Action::Put { key, .. }
            | Action::Get { key }
            | Action::Delete { key }
            | Action::Touch { key, .. }
            | Action::Check { key } => Some(key),
            Action::Advance { .. } => None,
        }
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Action::Put { key, size, ttl_ms: Some(ttl), .. } => write!(f, "put {key} {size} B ttl {ttl} ms"),
            Action::Put { key, size, .. } => write!(f, "put {key} {size} B"),
            Action::Get { key } => write!(f, "get {key}"),
            Action::Delete { key } => write!(f, "delete {key}"),
            Action::Touch { key, ttl_ms: Some(ttl) } => write!(f, "touch {key} ttl {ttl} ms"),
            Action::Touch { key, ttl_ms: None } => write!(f, "touch {key} (no expiry)"),
            Action::Advance { ms } => write!(f, "advance {ms} ms"),
            Action::Check { key } => write!(f, "check {key}"),
        }
    }
}

impl Scenario {
    /// Parse and validate a scenario's text.
    pub fn parse(text: &str) -> Result<Scenario, KitError> {
        let scenario: Scenario = toml::from_str(text).map_err(|e| KitError::Scenario(e.to_string()))?;
        if scenario.steps.is_empty() {
            return Err(KitError::Scenario("no steps: add at least one [[step]]".into()));
        }
        for (i, step) in scenario.steps.iter().enumerate() {
            step.action().map_err(|m| KitError::Scenario(format!("step {}: {m}", i + 1)))?;
        }
        Ok(scenario)
    }

    /// Read and parse a scenario file.
    pub fn from_file(path: &std::path::Path) -> Result<Scenario, KitError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| KitError::ReadScenario { path: path.to_path_buf(), source })?;
        Scenario::parse(&text)
    }
}

impl Step {
    /// The step's one action, or what is wrong with it.
    pub fn action(&self) -> Result<Action, String> {
        let named = [
            ("put", self.put.is_some()),
            ("get", self.get.is_some()),
            ("delete", self.delete.is_some()),
            ("touch", self.touch.is_some()),
            ("advance_ms", self.advance_ms.is_some()),
            ("check", self.check.is_some()),
        ];
        let set: Vec<&str> = named.iter().filter(|(_, on)| *on).map(|(n, _)| *n).collect();
        if set.len() != 1 {
            return Err(format!(
                "a step needs exactly one of put, get, delete, touch, advance_ms, check; found {set:?}"
            ));
        }
        let only = |field: &str, ok: bool| if ok { Ok(()) } else { Err(format!("`{field}` is not allowed here")) };
        only("size", self.size.is_none() || self.put.is_some())?;
        only("content_type", self.content_type.is_none() || self.put.is_some())?;
        only("meta", self.meta.is_empty() || self.put.is_some())?;
        only("ttl_ms", self.ttl_ms.is_none() || self.put.is_some() || self.touch.is_some())?;
        let action = if let Some(key) = &self.put {
            let size = self.size.ok_or("a put needs `size` (bytes)")?.0;
            let (ttl_ms, content_type, meta) = (self.ttl_ms, self.content_type.clone(), self.meta.clone());
            Action::Put { key: key.clone(), size, ttl_ms, content_type, meta }
        } else if let Some(key) = &self.get {
            Action::Get { key: key.clone() }
        } else if let Some(key) = &self.delete {
            Action::Delete { key: key.clone() }
        } else if let Some(key) = &self.touch {
            Action::Touch { key: key.clone(), ttl_ms: self.ttl_ms }
        } else if let Some(key) = &self.check {
            Action::Check { key: key.clone() }
        } else {
            Action::Advance { ms: self.advance_ms.unwrap_or(0) }
        };
        validate(&self.expect, &action)?;
        Ok(action)
    }
}

/// Whether a step's expectations make sense for its `action`.
fn validate(expect: &Expectations, action: &Action) -> Result<(), String> {
    if action.key().is_none() && !(expect.held.is_empty() && expect.not_in.is_empty()) {
        return Err("`expect.in` / `expect.not_in` need a step with a key (use `check = KEY`)".into());
    }
    if expect.source.is_some() && !matches!(action, Action::Get { .. }) {
        return Err("`expect.source` is for `get` steps".into());
    }
    if expect.ttl_ms.is_some() && !matches!(action, Action::Put { .. }) {
        return Err("`expect.ttl_ms` is for `put` steps".into());
    }
    if let Some(TtlExpect::Word(word)) = &expect.ttl_ms
        && word != "never"
    {
        return Err(format!("`expect.ttl_ms` is a number of milliseconds or \"never\", not {word:?}"));
    }
    let clash = |held: &[TierId], not: &[TierId]| held.iter().find(|t| not.contains(t)).copied();
    let clashes = std::iter::once(clash(&expect.held, &expect.not_in))
        .chain(expect.others.iter().map(|o| clash(&o.held, &o.not_in)));
    if let Some(tier) = clashes.flatten().next() {
        return Err(format!("tier {tier} is both in `in` and in `not_in`"));
    }
    Ok(())
}

#[cfg(test)]
#[path = "scenario_tests.rs"]
mod tests;
