//! The `current-object` import: the key, content type and custom metadata of
//! the object the running `place` or `promote` call is about, fetched by the
//! policy only when it reads them.
//!
//! Each string copied into a policy's memory costs a call into the policy's
//! allocator (about 90 ns with a Rust guest, whatever the length). Passed as
//! arguments, the three made every placement pay three such calls, even for
//! a policy that decides by size alone. The host instead keeps the call's text
//! in the `Store` ([`CallText`], its buffers reused from call to call) and
//! answers the policy's requests from it. (A borrowed resource handle would
//! scope the text to the call in the type system, but lending and dropping
//! it cost about as much as one string, measured with wasmtime 48.)
//!
//! Outside `place` and `promote` there is no current object: the functions
//! then trap, so the call falls back and is counted.

use std::collections::BTreeMap;

use wasmtime::format_err;

use super::bindings::CurrentObjectHost;
use super::limits::HostState;

/// The text of the current call's object, kept in the `Store`.
#[derive(Debug, Default)]
pub(crate) struct CallText {
    /// Whether a `place` or `promote` call is running.
    active: bool,
    key: String,
    content_type: Option<String>,
    metadata: Vec<(String, String)>,
}

impl CallText {
    /// Makes `key`, `content_type` and `metadata` the current object's text
    /// until [`CallText::clear`], reusing the buffers of the previous call.
    pub(crate) fn set(&mut self, key: &str, content_type: Option<&str>, metadata: &BTreeMap<String, String>) {
        self.active = true;
        self.key.clear();
        self.key.push_str(key);
        match (content_type, &mut self.content_type) {
            (Some(ct), Some(buf)) => {
                buf.clear();
                buf.push_str(ct);
            }
            (ct, buf) => *buf = ct.map(str::to_owned),
        }
        self.metadata.truncate(metadata.len());
        for (i, (name, value)) in metadata.iter().enumerate() {
            match self.metadata.get_mut(i) {
                Some((n, v)) => {
                    n.clear();
                    n.push_str(name);
                    v.clear();
                    v.push_str(value);
                }
                None => self.metadata.push((name.clone(), value.clone())),
            }
        }
    }

    /// Ends the current call: until the next [`CallText::set`], asking traps.
    pub(crate) fn clear(&mut self) {
        self.active = false;
    }

    fn current(&self, function: &str) -> wasmtime::Result<&Self> {
        if self.active {
            Ok(self)
        } else {
            Err(format_err!("current-object.{function} called outside `place` and `promote`"))
        }
    }
}

impl CurrentObjectHost for HostState {
    fn key(&mut self) -> wasmtime::Result<String> {
        Ok(self.text.current("key")?.key.clone())
    }

    fn content_type(&mut self) -> wasmtime::Result<Option<String>> {
        Ok(self.text.current("content-type")?.content_type.clone())
    }

    fn metadata(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        Ok(self.text.current("metadata")?.metadata.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_and_stale_entries_dropped() {
        let mut text = CallText::default();
        let two = BTreeMap::from([("a".to_string(), "1".to_string()), ("b".to_string(), "2".to_string())]);
        text.set("first", Some("text/plain"), &two);
        text.set("second", None, &BTreeMap::from([("c".to_string(), "3".to_string())]));
        let now = text.current("key").map_err(|e| e.to_string());
        let now = now.as_ref().map(|t| (t.key.as_str(), t.content_type.as_deref(), t.metadata.clone()));
        assert_eq!(now, Ok(("second", None, vec![("c".to_string(), "3".to_string())])));
    }

    #[test]
    fn asking_outside_a_call_is_an_error() {
        let mut text = CallText::default();
        assert!(text.current("key").is_err(), "before any call");
        text.set("k", None, &BTreeMap::new());
        assert!(text.current("key").is_ok());
        text.clear();
        let err = text.current("metadata").map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(err, Err("current-object.metadata called outside `place` and `promote`".to_string()));
    }
}
