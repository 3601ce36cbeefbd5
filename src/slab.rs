//! A generational slab: values behind `u32` handles (the span and trace handles JS holds).
//!
//! A handle is a slot index plus a generation, so a handle kept past its value's removal can
//! never reach a newer value in a reused slot. A removed value may leave a tombstone behind
//! ([`Slab::retire`]), readable through the old handle until the slot is reused; slots are
//! reused oldest-first, so tombstones live long. Handles are never 0 nor `u32::MAX`, which the
//! tracer uses as "no parent" and "not recorded".

use std::collections::VecDeque;

/// 20 bits of slot index (a million open spans, ten times the bound) and 12 of generation: a
/// slot must be reused 4096 times before a stale handle can reach a newer value in it, and
/// with freed slots kept back (see [`Slab::keeping`]) that takes tens of millions of spans.
const INDEX_BITS: u32 = 20;
const GEN_MASK: u16 = (1 << (32 - INDEX_BITS)) - 1;
const INDEX_MASK: u32 = (1 << INDEX_BITS) - 1;
/// Highest usable slot index; keeps every handle distinct from `u32::MAX`.
const MAX_INDEX: u32 = INDEX_MASK - 2;

struct Slot<T> {
    gen: u16,
    value: Option<T>,
}

/// A generational slab with oldest-first reuse.
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: VecDeque<u32>,
    len: usize,
    /// Freed slots left unused before one is reused (see [`Slab::keeping`]).
    keep: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Self {
        Slab {
            slots: Vec::new(),
            free: VecDeque::new(),
            len: 0,
            keep: 0,
        }
    }
}

impl<T> Slab<T> {
    /// A slab that reuses a freed slot only while more than `keep` are free: a retired value
    /// (an ended span's tombstone) stays readable through at least `keep` later inserts, and a
    /// stale handle can reach a newer value only after 4096 times that many.
    pub fn keeping(keep: usize) -> Self {
        Slab {
            keep,
            // Room for what it will hold once used a while, in one allocation: grown by
            // doubling it left the halves behind in wasm memory (which never shrinks).
            slots: Vec::with_capacity(keep + keep / 8),
            ..Slab::default()
        }
    }

    /// Stores `value`; `None` when the slab is full.
    pub fn insert(&mut self, value: T) -> Option<u32> {
        let reuse = if self.free.len() > self.keep {
            self.free.pop_front()
        } else {
            None
        };
        let index = match reuse {
            Some(i) => i,
            None if (self.slots.len() as u32) <= MAX_INDEX => {
                // Past `keep` a slab holds `keep` plus the values live at once: grown by an
                // eighth, not doubled (4,096 kept spans and a few open ones had made room for
                // 8,192 slots: 0.5 MB of wasm memory that never comes back).
                if self.slots.len() == self.slots.capacity()
                    && self.keep > 0
                    && self.slots.len() >= self.keep
                {
                    self.slots.reserve_exact(self.slots.len() / 8 + 16);
                }
                self.slots.push(Slot {
                    gen: 0,
                    value: None,
                });
                self.slots.len() as u32 - 1
            }
            None => self.free.pop_front()?,
        };
        let slot = &mut self.slots[index as usize];
        slot.gen = slot.gen.wrapping_add(1) & GEN_MASK;
        slot.value = Some(value);
        self.len += 1;
        Some(((slot.gen as u32) << INDEX_BITS) | (index + 1))
    }

    fn slot(&self, handle: u32) -> Option<&Slot<T>> {
        let index = (handle & INDEX_MASK).checked_sub(1)?;
        let slot = self.slots.get(index as usize)?;
        (slot.gen as u32 == handle >> INDEX_BITS).then_some(slot)
    }

    pub fn get(&self, handle: u32) -> Option<&T> {
        self.slot(handle)?.value.as_ref()
    }

    pub fn get_mut(&mut self, handle: u32) -> Option<&mut T> {
        self.slot(handle)?;
        let index = (handle & INDEX_MASK) as usize - 1;
        self.slots[index].value.as_mut()
    }

    /// Replaces the value in place (same handle), returning the old one.
    pub fn replace(&mut self, handle: u32, value: T) -> Option<T> {
        let v = self.get_mut(handle)?;
        Some(std::mem::replace(v, value))
    }

    pub fn remove(&mut self, handle: u32) -> Option<T> {
        self.slot(handle)?;
        let index = (handle & INDEX_MASK) - 1;
        let v = self.slots[index as usize].value.take()?;
        self.free.push_back(index);
        self.len -= 1;
        Some(v)
    }

    /// Frees the slot for reuse but leaves `tombstone` readable through the old handle until
    /// the slot is reused.
    pub fn retire(&mut self, handle: u32, tombstone: T) -> Option<T> {
        self.slot(handle)?;
        let index = (handle & INDEX_MASK) - 1;
        let slot = &mut self.slots[index as usize];
        let v = slot.value.replace(tombstone)?;
        self.free.push_back(index);
        self.len -= 1;
        Some(v)
    }

    /// Live values (not counting tombstones).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_handles_miss() {
        let mut s = Slab::default();
        let a = s.insert("a").unwrap();
        assert_eq!(s.get(a), Some(&"a"));
        assert_eq!(s.remove(a), Some("a"));
        assert_eq!(s.get(a), None);
        let b = s.insert("b").unwrap();
        assert_ne!(a, b);
        assert_eq!(s.get(a), None);
        assert_eq!(s.get(b), Some(&"b"));
        assert_eq!(s.get(0), None, "0 is no handle");
        assert_eq!(s.get(u32::MAX), None, "nor is u32::MAX");
    }

    #[test]
    fn a_stale_handle_misses_through_thousands_of_reuses_of_its_slot() {
        let mut s = Slab::default();
        let first = s.insert(0).unwrap();
        s.remove(first);
        for i in 1..4096 {
            let h = s.insert(i).unwrap();
            assert_eq!(
                h & INDEX_MASK,
                first & INDEX_MASK,
                "the same slot each time"
            );
            assert_eq!(s.get(first), None, "reuse {i}");
            s.remove(h);
        }
    }

    #[test]
    fn reuse_is_oldest_first() {
        let mut s = Slab::default();
        let h: Vec<u32> = (0..3).map(|i| s.insert(i).unwrap()).collect();
        s.remove(h[0]);
        s.remove(h[1]);
        let n = s.insert(9).unwrap();
        assert_eq!(n & INDEX_MASK, h[0] & INDEX_MASK);
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn retired_values_stay_readable_until_reused() {
        let mut s = Slab::default();
        let a = s.insert(1).unwrap();
        assert_eq!(s.retire(a, -1), Some(1));
        assert_eq!((s.get(a), s.len()), (Some(&-1), 0));
        let b = s.insert(2).unwrap();
        assert_eq!((s.get(a), s.get(b)), (None, Some(&2)));
    }
}
