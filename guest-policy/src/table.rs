//! [`IdTable`]: an index from object ids to `u32` positions in an array the
//! caller keeps (a slab of objects, a ring of ghost ids), at 4 bytes a cell.
//!
//! A `HashMap<u64, u32>` spends 16 bytes a bucket (the pair, padded) plus a
//! control byte; at a million residents that is most of a policy's memory.
//! Here a cell holds only the position; the id of the entry in a cell is read
//! back from the caller's array through the `id_of` closure every call takes.
//!
//! Open addressing with linear probing, Fibonacci hashing of the id with
//! its high bits folded in (the host's ids are already hashes; a trace's
//! are often small integers), a
//! load of at most 3/4, and backward-shift deletion (no tombstones, so probe
//! lengths stay short however many entries come and go). Sized once from the
//! expected count: growing rehashes every entry, which at millions of
//! entries can outlast a call's deadline. A cell holds its position plus
//! one, so an empty cell is 0 and a new table is zeroed memory: fresh pages
//! the allocator need not touch (filling 16 MiB of a policy's memory with a
//! marker took longer than a call's 20 ms deadline).

/// A cell with no entry; any other cell holds a position plus one.
const EMPTY: u32 = 0;

/// Ids → positions, the ids kept by the caller.
#[derive(Clone, Debug)]
pub struct IdTable {
    cells: Vec<u32>,
    /// `64 - log2(cells.len())`: the home cell is the top bits of the hash.
    shift: u32,
    len: usize,
}

impl IdTable {
    /// A table holding `expected` entries without growing.
    pub fn with_capacity(expected: usize) -> IdTable {
        let cells = (expected.saturating_mul(4) / 3 + 1).next_power_of_two().max(16);
        IdTable { cells: vec![EMPTY; cells], shift: 64 - cells.trailing_zeros(), len: 0 }
    }

    /// Entries held.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Bytes of the cells.
    pub fn heap_bytes(&self) -> usize {
        self.cells.len() * std::mem::size_of::<u32>()
    }

    fn home(&self, id: u64) -> usize {
        // Fold the high bits in before Fibonacci hashing: ids that differ
        // only in their high bits (multiples of a large constant) would
        // otherwise share their top bits after the multiply.
        ((id ^ (id >> 29)).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> self.shift) as usize
    }

    fn mask(&self) -> usize {
        self.cells.len() - 1
    }

    /// The cell holding `id`, if any.
    fn cell_of(&self, id: u64, id_of: impl Fn(u32) -> u64) -> Option<usize> {
        let mask = self.mask();
        let mut i = self.home(id);
        loop {
            match self.cells[i] {
                EMPTY => return None,
                cell if id_of(cell - 1) == id => return Some(i),
                _ => i = (i + 1) & mask,
            }
        }
    }

    /// The position of `id`.
    pub fn get(&self, id: u64, id_of: impl Fn(u32) -> u64) -> Option<u32> {
        self.cell_of(id, id_of).map(|i| self.cells[i] - 1)
    }

    /// Records `id` at `pos` (below `u32::MAX`). The caller makes sure `id`
    /// is absent (it looks it up first) and that `id_of(pos)` is already
    /// `id`.
    pub fn insert(&mut self, id: u64, pos: u32, id_of: impl Fn(u32) -> u64) {
        debug_assert_ne!(pos, u32::MAX, "position u32::MAX is reserved");
        if (self.len + 1) * 4 > self.cells.len() * 3 {
            self.grow(&id_of);
        }
        let mask = self.mask();
        let mut i = self.home(id);
        while self.cells[i] != EMPTY {
            i = (i + 1) & mask;
        }
        self.cells[i] = pos + 1;
        self.len += 1;
    }

    /// Moves `id`'s entry to `pos` (the caller moved its record there).
    pub fn repoint(&mut self, id: u64, pos: u32, id_of: impl Fn(u32) -> u64) {
        if let Some(i) = self.cell_of(id, id_of) {
            self.cells[i] = pos + 1;
        }
    }

    /// Forgets `id`; its position, if it was held.
    pub fn remove(&mut self, id: u64, id_of: impl Fn(u32) -> u64) -> Option<u32> {
        let mut hole = self.cell_of(id, &id_of)?;
        let removed = self.cells[hole] - 1;
        let mask = self.mask();
        // Shift back every entry of the run after the hole that may live
        // there, so no lookup ever stops early at an empty cell.
        let mut j = (hole + 1) & mask;
        loop {
            let cell = self.cells[j];
            if cell == EMPTY {
                break;
            }
            let home = self.home(id_of(cell - 1));
            let stays = if hole <= j { hole < home && home <= j } else { hole < home || home <= j };
            if !stays {
                self.cells[hole] = cell;
                hole = j;
            }
            j = (j + 1) & mask;
        }
        self.cells[hole] = EMPTY;
        self.len -= 1;
        Some(removed)
    }

    fn grow(&mut self, id_of: &impl Fn(u32) -> u64) {
        let old = std::mem::take(&mut self.cells);
        let cells = old.len() * 2;
        self.cells = vec![EMPTY; cells];
        self.shift = 64 - cells.trailing_zeros();
        let mask = cells - 1;
        for cell in old.into_iter().filter(|&c| c != EMPTY) {
            let mut i = self.home(id_of(cell - 1));
            while self.cells[i] != EMPTY {
                i = (i + 1) & mask;
            }
            self.cells[i] = cell;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table over `ids` (position = index), checked against a plain map
    /// through a long mix of inserts and removals.
    #[test]
    fn agrees_with_a_map_through_inserts_removals_and_growth() {
        let mut ids: Vec<u64> = Vec::new();
        let mut table = IdTable::with_capacity(4);
        let mut live = std::collections::HashMap::new();
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        for round in 0..20_000u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            // Few distinct ids, many of them small integers, so runs collide.
            let id = if round % 3 == 0 { x % 64 } else { x % 5000 };
            let found = table.get(id, |p| ids[p as usize]);
            assert_eq!(found, live.get(&id).copied(), "id {id} at round {round}");
            match found {
                Some(_) if x.is_multiple_of(2) => {
                    table.remove(id, |p| ids[p as usize]);
                    live.remove(&id);
                }
                Some(_) => {}
                None => {
                    ids.push(id);
                    let pos = (ids.len() - 1) as u32;
                    table.insert(id, pos, |p| ids[p as usize]);
                    live.insert(id, pos);
                }
            }
            assert_eq!(table.len(), live.len());
        }
        for (&id, &pos) in &live {
            assert_eq!(table.get(id, |p| ids[p as usize]), Some(pos));
        }
        assert!(table.heap_bytes() >= live.len() * 4);
    }

    #[test]
    fn repoint_moves_an_entry_and_missing_ids_are_none() {
        let ids = [7u64, 9, 7];
        let mut table = IdTable::with_capacity(2);
        table.insert(7, 0, |p| ids[p as usize]);
        table.insert(9, 1, |p| ids[p as usize]);
        table.repoint(7, 2, |p| ids[p as usize]);
        assert_eq!(table.get(7, |p| ids[p as usize]), Some(2));
        assert_eq!(table.remove(8, |p| ids[p as usize]), None);
        assert_eq!(table.remove(9, |p| ids[p as usize]), Some(1));
        assert_eq!(table.get(9, |p| ids[p as usize]), None);
        assert_eq!(table.len(), 1);
    }
}
