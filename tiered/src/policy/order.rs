//! The eviction order's side of the seam (`interface eviction` in
//! `wit/policy.wit`): the events a policy keeping its own order is fed, the
//! arrival it decides on, and its answer.
//!
//! Objects are named by 64-bit ids ([`ObjectId`]), never by key: the host
//! derives them from keys with a seeded hash, and a policy keys its queues,
//! ghosts and per-object bits by them. Events travel as columns
//! ([`Events`]), one list per field, so a batch crosses the component
//! boundary as a few copies whatever its length.

use super::TierId;

/// An object's id: a seeded 64-bit hash of its key.
pub type ObjectId = u64;

/// The object was read from the tier.
pub const HIT: u8 = 0;
/// The object entered the tier without an `admit` call.
pub const ARRIVAL: u8 = 1;
/// The object left the tier: deleted, overwritten, expired or invalidated.
pub const REMOVAL: u8 = 2;
/// The host's own order evicted the object.
pub const HOST_EVICTION: u8 = 3;

/// What happened in one cache tier, oldest first, as columns of equal
/// length.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Events {
    pub tier: TierId,
    /// [`HIT`], [`ARRIVAL`], [`REMOVAL`] or [`HOST_EVICTION`].
    pub kind: Vec<u8>,
    pub id: Vec<ObjectId>,
    /// Bytes the object costs in the tier.
    pub size: Vec<u64>,
    pub class: Vec<u8>,
}

impl Events {
    /// No events, for `tier`.
    pub fn new(tier: TierId) -> Events {
        Events { tier, kind: Vec::new(), id: Vec::new(), size: Vec::new(), class: Vec::new() }
    }

    pub fn push(&mut self, kind: u8, id: ObjectId, size: u64, class: u8) {
        self.kind.push(kind);
        self.id.push(id);
        self.size.push(size);
        self.class.push(class);
    }

    pub fn len(&self) -> usize {
        self.kind.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kind.is_empty()
    }

    /// Moves the events out with their buffers, leaving this batch empty
    /// and without buffers ([`clear`](Self::clear) keeps them).
    pub fn take(&mut self) -> Events {
        let mut taken = Events::new(self.tier);
        std::mem::swap(&mut taken.kind, &mut self.kind);
        std::mem::swap(&mut taken.id, &mut self.id);
        std::mem::swap(&mut taken.size, &mut self.size);
        std::mem::swap(&mut taken.class, &mut self.class);
        taken
    }

    /// Empties the batch, keeping its buffers.
    pub fn clear(&mut self) {
        self.kind.clear();
        self.id.clear();
        self.size.clear();
        self.class.clear();
    }

    /// Events the batch holds without allocating.
    pub fn capacity(&self) -> usize {
        self.kind.capacity().min(self.id.capacity()).min(self.size.capacity()).min(self.class.capacity())
    }

    /// Event `i` as `(kind, id, size, class)`.
    pub fn get(&self, i: usize) -> (u8, ObjectId, u64, u8) {
        (self.kind[i], self.id[i], self.size[i], self.class[i])
    }
}

/// An object about to enter a cache tier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arrival {
    pub id: ObjectId,
    /// Bytes it will cost in the tier.
    pub size: u64,
    pub class: u8,
}

/// A policy's answer to an [`Arrival`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Do not cache the object in this tier.
    Refuse,
    /// Cache it after evicting these ids (empty when it fits).
    Admit(Vec<ObjectId>),
}
