//! The `current-object` import: the key, content type and custom metadata of
//! the object the running `place` or `promote` call is about, copied into the
//! policy only when it asks.
//!
//! Each string copied into a policy's memory costs a call into the policy's
//! allocator (about 90 ns with a Rust guest, whatever the length). Passed as
//! arguments, the three made every placement pay for three allocations, even
//! for a policy that decides by size alone. The host instead keeps the call's
//! text in the `Store` ([`CurrentObject`], buffers reused from call to call)
//! and answers the policy's requests from it.
//!
//! One slot per `Store` is enough because a `Store` runs one call at a time:
//! the pool lends an instance to one caller, and calls are synchronous. (With
//! concurrent calls into one instance, a borrowed resource handle per call
//! would be needed instead; it was measured to cost about as much as one
//! string, with wasmtime 48.)
//!
//! Outside `place` and `promote` there is no current object: the functions
//! then trap. In `score` the call falls back; in `identity` or `configure` the
//! instance cannot be built, so loading the policy fails.
//!
//! The import itself (the `Host` impl) is in `state.rs`, beside the rest of
//! the `Store`'s data; this file holds the text and answers from it.

use std::collections::BTreeMap;

use wasmtime::format_err;

/// The text of the current call's object, kept in the `Store`.
#[derive(Debug, Default)]
pub(crate) struct CurrentObject {
    /// Whether a `place` or `promote` call is running.
    active: bool,
    key: String,
    /// The content type, meaningful when `has_content_type`.
    content_type: String,
    has_content_type: bool,
    /// The metadata pairs are the first `metadata_len` entries; the rest are
    /// buffers kept for later calls.
    metadata: Vec<(String, String)>,
    metadata_len: usize,
}

impl CurrentObject {
    /// Makes `key`, `content_type` and `metadata` the current object's text
    /// until [`CurrentObject::clear`], reusing the buffers of earlier calls.
    pub(crate) fn set(&mut self, key: &str, content_type: Option<&str>, metadata: &BTreeMap<String, String>) {
        self.active = true;
        replace(&mut self.key, key);
        self.has_content_type = content_type.is_some();
        replace(&mut self.content_type, content_type.unwrap_or_default());
        for (i, (name, value)) in metadata.iter().enumerate() {
            match self.metadata.get_mut(i) {
                Some((n, v)) => {
                    replace(n, name);
                    replace(v, value);
                }
                None => self.metadata.push((name.clone(), value.clone())),
            }
        }
        self.metadata_len = metadata.len();
    }

    /// Ends the current call: until the next [`CurrentObject::set`], asking traps.
    pub(crate) fn clear(&mut self) {
        self.active = false;
    }

    fn get(&self, function: &str) -> wasmtime::Result<&Self> {
        if self.active {
            Ok(self)
        } else {
            Err(format_err!("current-object.{function} called outside `place` and `promote`"))
        }
    }
}

fn replace(buffer: &mut String, text: &str) {
    buffer.clear();
    buffer.push_str(text);
}

impl CurrentObject {
    /// `current-object.key`.
    pub(crate) fn key(&self) -> wasmtime::Result<String> {
        Ok(self.get("key")?.key.clone())
    }

    /// `current-object.content-type`.
    pub(crate) fn content_type(&self) -> wasmtime::Result<Option<String>> {
        let current = self.get("content-type")?;
        Ok(current.has_content_type.then(|| current.content_type.clone()))
    }

    /// `current-object.metadata`.
    pub(crate) fn metadata(&self) -> wasmtime::Result<Vec<(String, String)>> {
        let current = self.get("metadata")?;
        Ok(current.metadata[..current.metadata_len].to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|&(k, v)| (k.to_owned(), v.to_owned())).collect()
    }

    /// What a policy would read: key, content type, metadata.
    type Text = (String, Option<String>, Vec<(String, String)>);

    fn seen(state: &CurrentObject) -> wasmtime::Result<Text> {
        Ok((state.key()?, state.content_type()?, state.metadata()?))
    }

    #[test]
    fn each_call_sees_its_own_text_and_nothing_of_the_previous_one() -> wasmtime::Result<()> {
        let mut state = CurrentObject::default();
        state.set("first", Some("text/plain"), &pairs(&[("a", "1"), ("b", "2")]));
        let first = seen(&state)?;
        assert_eq!(
            first,
            ("first".into(), Some("text/plain".into()), vec![("a".into(), "1".into()), ("b".into(), "2".into())])
        );

        state.set("second", None, &pairs(&[("c", "3")]));
        assert_eq!(seen(&state)?, ("second".into(), None, vec![("c".into(), "3".into())]));
        state.set("", Some(""), &BTreeMap::new());
        assert_eq!(seen(&state)?, (String::new(), Some(String::new()), vec![]));
        Ok(())
    }

    #[test]
    fn asking_outside_a_call_is_an_error() {
        let mut state = CurrentObject::default();
        assert!(state.key().is_err(), "before any call");
        state.set("k", None, &BTreeMap::new());
        assert!(state.key().is_ok());
        state.clear();
        let err = state.metadata().map_err(|e| e.to_string());
        assert_eq!(err, Err("current-object.metadata called outside `place` and `promote`".to_string()));
    }
}
