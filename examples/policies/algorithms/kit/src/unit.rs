//! [`SizeUnit`]: what libCacheSim's "one byte" is in the host's sizes.
//!
//! libCacheSim replays a unit-size trace with objects of one byte, and a few
//! algorithms use that byte as a step or a floor: ARC adapts its target by
//! at least 1, LIRS gives its HIR list at least 1. The host sizes objects by
//! footprint (value bytes plus metadata), so in a unit-size trace every
//! object costs the same `F > 1` bytes, and libCacheSim's byte is `F` of
//! them. Once sizes differ, a byte is a byte again.
//!
//! [`SizeUnit`] learns which case holds from the sizes it is shown: the
//! common size while every object seen has had one, else 1.

/// The size all objects seen so far share, if any.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SizeUnit {
    common: Option<u64>,
    mixed: bool,
}

impl SizeUnit {
    /// An object of `size` bytes was seen.
    pub fn observe(&mut self, size: u64) {
        match self.common {
            None if !self.mixed => self.common = Some(size),
            Some(common) if common != size => {
                self.common = None;
                self.mixed = true;
            }
            _ => {}
        }
    }

    /// Bytes per libCacheSim byte: the common size, or 1 once sizes differ
    /// (1 before any object is seen).
    pub fn bytes(&self) -> u64 {
        self.common.unwrap_or(1).max(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_common_size_is_the_unit_until_another_size_is_seen() {
        let mut unit = SizeUnit::default();
        assert_eq!(unit.bytes(), 1);
        unit.observe(150);
        unit.observe(150);
        assert_eq!(unit.bytes(), 150);
        unit.observe(151);
        assert_eq!(unit.bytes(), 1);
        unit.observe(150);
        assert_eq!(unit.bytes(), 1);
    }
}
