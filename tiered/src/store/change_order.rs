//! [`ChangeOrder`]: a file tier's changes to one key (writes, deletes,
//! expiry rewrites) run in the order they were asked for, each to its end.
//!
//! A file tier changes its files on the blocking pool. The future that asked
//! for a change can be dropped while the file work goes on (a client that
//! hung up): the engine then releases what ordered the change against the
//! key's other changes, and a later one (a delete, a newer write) could run
//! first and be undone when the abandoned one lands: a deleted object back
//! in warm, or an older version installed over a newer one in a local cold
//! directory. So each change holds its key's stripe from before its file
//! work starts until that work ends, whether or not anyone still waits for
//! it, and the key's next change waits for it (the stripe's lock is fair:
//! changes run in the order they were asked for). Reads take no stripe.
//!
//! Keys hash onto [`STRIPES`] stripes; a prefix deletion takes all of them,
//! in order (single-key changes take one, so none can deadlock).

use std::sync::Arc;

use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::key_id::object_id;

/// Stripes of a tier's change order.
const STRIPES: usize = 1024;

/// The order of one file tier's changes (shared by its clones).
#[derive(Clone, Debug)]
pub(crate) struct ChangeOrder {
    stripes: Arc<[Arc<Mutex<()>>]>,
}

/// A change's turn: its key's stripe, held until dropped (move it into the
/// file work).
pub(crate) type Turn = OwnedMutexGuard<()>;

impl ChangeOrder {
    pub(crate) fn new() -> ChangeOrder {
        ChangeOrder { stripes: (0..STRIPES).map(|_| Arc::new(Mutex::new(()))).collect() }
    }

    /// The turn of a change to `key`, once the changes asked for before it
    /// (of keys on its stripe) have ended.
    pub(crate) async fn key(&self, key: &str) -> Turn {
        let stripe = (object_id(key) % STRIPES as u64) as usize;
        Arc::clone(&self.stripes[stripe]).lock_owned().await
    }

    /// The turn of a change to any number of keys: every stripe.
    pub(crate) async fn all(&self) -> Vec<Turn> {
        let mut turns = Vec::with_capacity(STRIPES);
        for stripe in self.stripes.iter() {
            turns.push(Arc::clone(stripe).lock_owned().await);
        }
        turns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_change_waits_for_the_turn_held_before_it() {
        let order = ChangeOrder::new();
        let first = order.key("k").await;
        let waiting = tokio::spawn({
            let order = order.clone();
            async move { order.key("k").await }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "the second change waits");
        drop(first);
        drop(waiting.await.expect("gets its turn once the first ends"));
        let all = order.all().await;
        assert_eq!(all.len(), STRIPES);
    }
}
