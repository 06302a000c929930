//! The order of changes to one key: a change to a file takes effect in the
//! order it was asked for, even when it lands late.
//!
//! A write, a delete or an expiry rewrite runs on the blocking pool; if its
//! caller leaves (a client that hangs up), the file work goes on and can
//! land after a change asked for later — an older version over a newer,
//! acknowledged one, or a deleted object back. So each change takes a
//! [`Change`] when it is asked for (its place in one sequence for the
//! store), and at its commit (the rename or removal, under the index lock)
//! it is dropped if a later change to the same key has already committed:
//! its temporary file is removed and the newer state stays. This is the
//! order a caller sees: the later change was asked for after the earlier
//! one, so the earlier one is taken to have happened first.
//!
//! An expiry rewrite changes no value, but sets the expiry a caller was
//! told of: an older write or rewrite that lands after it gives way (a
//! cache fill of a value read before it would bring the old expiry back),
//! as it does to a later write; an older removal still takes effect (it
//! leaves no file in either order). A rewrite that finds no file counts
//! as one too. A rewrite itself is installed only over the file it copied
//! (see `file_copy`). A change that lands after a later one was abandoned
//! by its caller (an acknowledged change has landed), so giving way is
//! the outcome of a request that did not happen.
//!
//! A prefix removal lists its keys under the index lock and removes them
//! one by one, each removal a commit of that key. A key under the prefix
//! that the list does not hold (not stored when it was taken) is not
//! removed, so for such a key taking the list is the commit: an older write
//! of it that lands afterwards gives way. A key the list holds is not: its
//! old file is still there until the removal reaches it, and an older
//! change landing meanwhile takes effect (the removal then removes what it
//! left), so no reader sees a state older than an acknowledged change.
//!
//! Nothing waits here: a change never waits for an earlier one, it only
//! gives way at its commit. What is kept is bounded by the changes under
//! way: a key's changes outstanding, and its last commit only while an
//! older change of it (or an older prefix removal covering it) is
//! outstanding.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use parking_lot::Mutex;

/// The store's sequence of changes and what must be remembered of it.
#[derive(Debug, Default)]
pub(crate) struct ChangeOrder {
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// The next change's place.
    next: u64,
    /// Keys with a change outstanding or a commit to remember.
    keys: HashMap<String, KeyChanges>,
    /// Prefix removals outstanding, by place.
    prefixes: BTreeMap<u64, String>,
}

#[derive(Debug, Default)]
struct KeyChanges {
    /// Places of the key's changes asked for and not yet done (committed,
    /// given way or failed).
    outstanding: Vec<u64>,
    /// The key's last commit of a value (a write or a removal), while an
    /// older change may still land.
    committed: Option<u64>,
    /// The key's last expiry rewrite, while an older change may still land:
    /// an older write or rewrite gives way to it, an older removal does not.
    rewritten: Option<u64>,
}

/// What a change covers.
#[derive(Debug)]
enum Scope {
    Key(String),
    Prefix(String),
}

/// One change's place in the order; dropped when the change is done.
#[derive(Debug)]
pub struct Change {
    order: Arc<ChangeOrder>,
    place: u64,
    scope: Scope,
}

impl ChangeOrder {
    /// A change of `key` asked for now: after every change asked for before.
    pub(crate) fn ask(self: &Arc<Self>, key: &str) -> Change {
        let mut state = self.state.lock();
        let place = state.take_place();
        state.keys.entry(key.to_string()).or_default().outstanding.push(place);
        Change { order: self.clone(), place, scope: Scope::Key(key.to_string()) }
    }

    /// A removal of every key under `prefix`, asked for now.
    pub(crate) fn ask_prefix(self: &Arc<Self>, prefix: &str) -> Change {
        let mut state = self.state.lock();
        let place = state.take_place();
        state.prefixes.insert(place, prefix.to_string());
        Change { order: self.clone(), place, scope: Scope::Prefix(prefix.to_string()) }
    }

    /// Keys with something remembered (for tests).
    #[cfg(test)]
    pub(crate) fn remembered(&self) -> usize {
        self.state.lock().keys.len()
    }
}

impl State {
    fn take_place(&mut self) -> u64 {
        let place = self.next;
        self.next += 1;
        place
    }

    /// Whether a change of `key` older than `place` is outstanding.
    fn older_outstanding(&self, key: &str, place: u64) -> bool {
        self.keys.get(key).is_some_and(|k| k.outstanding.iter().any(|&p| p < place))
            || self.prefixes.range(..place).any(|(_, prefix)| key.starts_with(prefix.as_str()))
    }

    /// Whether `key`'s entry must stay: a change of it is outstanding, or
    /// its last commit is newer than an outstanding prefix removal that
    /// covers it.
    fn keeps(&self, key: &str, changes: &KeyChanges) -> bool {
        !changes.outstanding.is_empty()
            || changes
                .committed
                .is_some_and(|last| self.prefixes.range(..last).any(|(_, prefix)| key.starts_with(prefix.as_str())))
    }
}

impl Change {
    /// Whether this write or expiry rewrite must give way at its commit to
    /// `key`: a change asked for later has committed already (a value, or
    /// an expiry rewrite). Asked under the store's index lock, with
    /// [`committed`](Self::committed) or [`rewrote`](Self::rewrote) after a
    /// commit under the same hold, so the commits of one key are not
    /// interleaved.
    pub(crate) fn gives_way(&self, key: &str) -> bool {
        debug_assert!(self.covers(key), "a change of {:?} used for {key:?}", self.scope);
        let state = self.order.state.lock();
        state.keys.get(key).is_some_and(|k| k.committed.max(k.rewritten).is_some_and(|last| last > self.place))
    }

    /// [`gives_way`](Self::gives_way) for a removal: only to a later commit
    /// of a value. A later expiry rewrite does not hold it back: a removal
    /// leaves no file in either order.
    pub(crate) fn removal_gives_way(&self, key: &str) -> bool {
        debug_assert!(self.covers(key), "a change of {:?} used for {key:?}", self.scope);
        let state = self.order.state.lock();
        state.keys.get(key).and_then(|k| k.committed).is_some_and(|last| last > self.place)
    }

    /// Records this expiry rewrite's commit to `key` (its copy installed, or
    /// nothing to rewrite), for an older write or rewrite still outstanding,
    /// which will give way.
    pub(crate) fn rewrote(&self, key: &str) {
        let mut state = self.order.state.lock();
        if state.older_outstanding(key, self.place) {
            let rewritten = &mut state.keys.entry(key.to_string()).or_default().rewritten;
            *rewritten = Some(rewritten.map_or(self.place, |last| last.max(self.place)));
        }
    }

    /// Records this change's commit to `key`, for any older change of it
    /// still outstanding (which will give way).
    pub(crate) fn committed(&self, key: &str) {
        let mut state = self.order.state.lock();
        if state.older_outstanding(key, self.place) {
            state.keys.entry(key.to_string()).or_default().committed = Some(self.place);
        }
    }

    /// Records that this prefix removal has taken its list of keys, under
    /// the index lock, `stored` telling which keys the index holds: for a
    /// key under the prefix with an older change outstanding that is not
    /// stored (so not listed, and not to be removed), taking the list is
    /// this removal's commit, and that change gives way when it lands. A
    /// listed key gets its commit when it is removed.
    pub(crate) fn listed(&self, stored: impl Fn(&str) -> bool) {
        let Scope::Prefix(prefix) = &self.scope else {
            debug_assert!(false, "only a prefix removal lists keys");
            return;
        };
        let mut state = self.order.state.lock();
        for (key, changes) in &mut state.keys {
            if key.starts_with(prefix.as_str()) && changes.outstanding.iter().any(|&p| p < self.place) && !stored(key) {
                changes.committed = Some(changes.committed.map_or(self.place, |last| last.max(self.place)));
            }
        }
    }

    fn covers(&self, key: &str) -> bool {
        match &self.scope {
            Scope::Key(own) => own == key,
            Scope::Prefix(prefix) => key.starts_with(prefix.as_str()),
        }
    }

    /// Both, for the tests: gives way, or commits a value (a write or a
    /// removal: with no rewrite in these tests, their two rules agree).
    #[cfg(test)]
    fn may_commit(&self, key: &str) -> bool {
        if self.gives_way(key) {
            return false;
        }
        self.committed(key);
        true
    }
}

impl Drop for Change {
    fn drop(&mut self) {
        let mut guard = self.order.state.lock();
        let state = &mut *guard;
        match &self.scope {
            Scope::Key(key) => {
                let Some(mut changes) = state.keys.remove(key) else { return };
                changes.outstanding.retain(|&p| p != self.place);
                if state.keeps(key, &changes) {
                    state.keys.insert(key.clone(), changes);
                }
            }
            Scope::Prefix(_) => {
                state.prefixes.remove(&self.place);
                let keys = std::mem::take(&mut state.keys);
                state.keys = keys.into_iter().filter(|(key, changes)| state.keeps(key, changes)).collect();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_gives_way_to_a_later_one_that_committed_first() {
        let order = Arc::new(ChangeOrder::default());
        let early = order.ask("k");
        let other = order.ask("other");
        let late = order.ask("k");
        assert!(late.may_commit("k"));
        assert!(!early.may_commit("k"), "the earlier change lands after the later one: it gives way");
        assert!(other.may_commit("other"), "asked for before `late` too, but of another key: it commits");
    }

    #[test]
    fn changes_that_commit_in_order_all_commit() {
        let order = Arc::new(ChangeOrder::default());
        let (first, second) = (order.ask("k"), order.ask("k"));
        assert!(first.may_commit("k"));
        assert!(second.may_commit("k"));
    }

    #[test]
    fn nothing_is_remembered_once_no_older_change_is_outstanding() {
        let order = Arc::new(ChangeOrder::default());
        let alone = order.ask("k");
        assert!(alone.may_commit("k"));
        drop(alone);
        assert_eq!(order.remembered(), 0);

        let (early, late) = (order.ask("k"), order.ask("k"));
        assert!(late.may_commit("k"));
        drop(late);
        assert_eq!(order.remembered(), 1, "the early change may still land");
        drop(early);
        assert_eq!(order.remembered(), 0);
        let next = order.ask("k");
        assert!(next.may_commit("k"), "a change asked for after all of them commits");
    }

    #[test]
    fn commits_of_other_keys_are_not_remembered_for_a_long_change() {
        let order = Arc::new(ChangeOrder::default());
        let long = order.ask("large");
        for i in 0..100 {
            let key = format!("k{i}");
            let change = order.ask(&key);
            assert!(change.may_commit(&key));
        }
        assert_eq!(order.remembered(), 1, "only the outstanding change's key");
        drop(long);
        assert_eq!(order.remembered(), 0);
    }

    #[test]
    fn a_prefix_removal_gives_way_to_a_later_write_and_a_late_write_to_it() {
        let order = Arc::new(ChangeOrder::default());
        let stale = order.ask("p/a");
        let removal = order.ask_prefix("p/");
        let later = order.ask("p/b");
        assert!(later.may_commit("p/b"));
        drop(later);
        assert!(!removal.may_commit("p/b"), "p/b was written after the removal was asked for");
        assert!(removal.may_commit("p/a"));
        assert!(!stale.may_commit("p/a"), "the write asked for before the removal lands after it");
        drop(removal);
        drop(stale);
        assert_eq!(order.remembered(), 0);
    }

    #[test]
    fn an_older_change_gives_way_to_a_prefix_removal_s_list_only_for_a_key_it_did_not_list() {
        let order = Arc::new(ChangeOrder::default());
        let write = order.ask("p/new");
        let delete = order.ask("p/old");
        let removal = order.ask_prefix("p/");
        removal.listed(|key| key == "p/old");
        assert!(!write.may_commit("p/new"), "not stored when the list was taken: the list was its commit");
        assert!(
            delete.may_commit("p/old"),
            "listed, not removed yet: the older delete takes effect now, not when the removal reaches the key"
        );
        assert!(removal.may_commit("p/old"), "the removal then removes what the delete left");
        let other = order.ask("q/x");
        assert!(other.may_commit("q/x"), "outside the prefix");
        drop((write, delete, other));
        drop(removal);
        assert_eq!(order.remembered(), 0);
    }

    #[test]
    fn a_prefix_removal_keeps_no_commit_of_a_key_it_does_not_cover_or_that_is_older() {
        let order = Arc::new(ChangeOrder::default());
        let removal = order.ask_prefix("p/");
        for key in ["q/a", "q/b", "p/a"] {
            let change = order.ask(key);
            assert!(change.may_commit(key));
        }
        assert_eq!(order.remembered(), 1, "only p/a, whose commit the removal must give way to");
        drop(removal);
        assert_eq!(order.remembered(), 0);
    }
}
