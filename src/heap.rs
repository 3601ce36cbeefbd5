//! The .wasm's allocator, in place of std's dlmalloc (5.7 KB of code: HACKING.md "Size").
//!
//! Blocks carry no header: the caller passes the `Layout` back (Rust's `GlobalAlloc`
//! contract), which says which kind a block is and how big.
//! - Small blocks (up to 512 bytes: span names, ids, attribute texts, small `Vec`s): one free
//!   list per size class, 16-byte steps up to 128 and four steps a power of two after that;
//!   an allocation pops its list, a free pushes it, a `realloc` within the class is a no-op.
//! - Large blocks (captured values, record and request bodies, the queue's buffers): exact to
//!   16 bytes, taken first-fit from an address-ordered list of free ranges that merges
//!   neighbours as they are freed; a range that reaches the end of the heap goes back to it,
//!   and a block at the end grows or shrinks in place.
//! - A small list that is empty takes from the ranges too, then from the end of the heap,
//!   which grows the memory by whole pages.
//!
//! The memory bench (`scripts/bench/memory.mjs`, every case) peaks at or below dlmalloc's
//! with it, the exporter-down backlogs included, and stays flat over each run.
//! Single-threaded (wasm32 without atomics); the host build keeps the system allocator, and
//! [`Heap`] is tested on the host over a plain buffer.

use core::alloc::Layout;
use core::ptr::null_mut;

/// Every block is a multiple of this, and so is every block's address.
const MIN_ALIGN: usize = 16;
/// Sizes up to this are served by size classes; larger ones (request bodies, big buffers)
/// by the address-ordered list of free ranges, which merges neighbours.
const SMALL_MAX: usize = 512;
/// Classes up to [`SMALL_MAX`]: every 16 bytes up to 128, then four a power of two
/// (160, 192, 224, 256, 320, ...): a block wastes at most a fifth of itself past 16 bytes.
pub const CLASSES: usize = class_of(SMALL_MAX) + 1;
/// Large blocks are whole multiples of this (so every free range can hold its list node).
const GRAIN: usize = 16;

/// The size class of `size` bytes (at most [`SMALL_MAX`] for a small block).
pub const fn class_of(size: usize) -> usize {
    if size <= 128 {
        return size.saturating_sub(1) / 16;
    }
    // 2^k < size <= 2^(k+1), k >= 7, in steps of 2^(k-2).
    let k = (usize::BITS - 1 - (size - 1).leading_zeros()) as usize;
    8 + 4 * (k - 7) + ((size - 1) >> (k - 2)) - 4
}

/// Bytes of a block of class `c`.
pub fn block_size(c: usize) -> usize {
    if c < 8 {
        16 * (c + 1)
    } else {
        let k = (c - 8) / 4 + 7;
        ((c - 8) % 4 + 5) << (k - 2)
    }
}

/// A large block's bytes: `size` rounded up to [`GRAIN`] (0 when that overflows).
fn large_size(size: usize) -> usize {
    size.checked_add(GRAIN - 1).map_or(0, |s| s & !(GRAIN - 1))
}

/// A free range of large blocks: its node is stored in its first bytes.
#[repr(C)]
struct Range {
    next: usize,
    len: usize,
}

/// Free lists, the free ranges and the bump region `[next, end)`. `grow(end, bytes)`, which
/// each call takes, answers a region of at least `bytes` as `(start, len)`, or `None`: the
/// first (`end` 0) is where the heap starts, a later one the memory past `end` (the heap is
/// the only one growing the memory, so it extends the region before).
pub struct Heap {
    free: [usize; CLASSES],
    /// The first free range, by address (0: none).
    ranges: usize,
    next: usize,
    end: usize,
}

type Grow<'a> = &'a mut dyn FnMut(usize, usize) -> Option<(usize, usize)>;

impl Heap {
    pub const fn new() -> Heap {
        Heap {
            free: [0; CLASSES],
            ranges: 0,
            next: 0,
            end: 0,
        }
    }

    /// `size` bytes from the bump region, growing it; 0 when the memory cannot grow.
    fn bump(&mut self, size: usize, grow: Grow) -> usize {
        if self.end - self.next < size {
            // Only the first region starts elsewhere; later ones extend `end`, so the rest of
            // the current region is never lost.
            let Some((start, len)) = (size - (self.end - self.next))
                .checked_add(MIN_ALIGN)
                .and_then(|want| grow(self.end, want))
            else {
                return 0;
            };
            if start != self.end {
                self.next = (start + MIN_ALIGN - 1) & !(MIN_ALIGN - 1);
            }
            self.end = start + len;
            if self.end - self.next < size {
                return 0;
            }
        }
        self.next += size;
        self.next - size
    }

    /// A block of `size` bytes, 16-aligned, or 0.
    ///
    /// # Safety
    /// Free lists, ranges and the bump region must be memory this heap owns.
    unsafe fn block(&mut self, size: usize, grow: Grow) -> usize {
        let size = if size <= SMALL_MAX {
            let c = class_of(size);
            let head = self.free[c];
            if head != 0 {
                self.free[c] = *(head as *const usize);
                return head;
            }
            block_size(c)
        } else {
            match large_size(size) {
                0 => return 0,
                s => s,
            }
        };
        // First fit over the ranges; the rest of the one taken stays free.
        let mut link: *mut usize = &mut self.ranges;
        while *link != 0 {
            let r = *link as *mut Range;
            if (*r).len >= size {
                let rest = (*r).len - size;
                if rest == 0 {
                    *link = (*r).next;
                } else {
                    let q = (r as usize + size) as *mut Range;
                    q.write(Range {
                        next: (*r).next,
                        len: rest,
                    });
                    *link = q as usize;
                }
                return r as usize;
            }
            link = &mut (*r).next;
        }
        self.bump(size, grow)
    }

    /// Returns block `b` of `size` bytes.
    unsafe fn release(&mut self, b: usize, size: usize) {
        if size <= SMALL_MAX {
            let c = class_of(size);
            *(b as *mut usize) = self.free[c];
            self.free[c] = b;
            return;
        }
        self.free_range(b, large_size(size));
    }

    /// Puts `[b, b + size)` (whole grains) into the address-ordered ranges, merged with the
    /// one before and the one after, or back into the bump region when it ends there.
    unsafe fn free_range(&mut self, b: usize, size: usize) {
        let mut prev: *mut Range = core::ptr::null_mut();
        let mut link: *mut usize = &mut self.ranges;
        while *link != 0 && *link < b {
            prev = *link as *mut Range;
            link = &mut (*prev).next;
        }
        let after = *link;
        let (start, len) = if !prev.is_null() && prev as usize + (*prev).len == b {
            (prev as usize, (*prev).len + size)
        } else {
            (b, size)
        };
        let (len, next) = if after == start + len {
            let a = after as *const Range;
            (len + (*a).len, (*a).next)
        } else {
            (len, after)
        };
        if start + len == self.next {
            // The top of the bump region: give it back, where small blocks may use it too.
            self.next = start;
            if start == prev as usize {
                self.unlink(prev);
            } else {
                *link = next;
            }
            return;
        }
        let r = start as *mut Range;
        r.write(Range { next, len });
        if start == b {
            *link = start;
        }
    }

    /// Removes range `r` (in the list) from the list.
    unsafe fn unlink(&mut self, r: *mut Range) {
        let mut link: *mut usize = &mut self.ranges;
        while *link != r as usize {
            link = &mut (*(*link as *mut Range)).next;
        }
        *link = (*r).next;
    }

    /// # Safety
    /// As `GlobalAlloc::alloc`.
    pub unsafe fn alloc(&mut self, l: Layout, grow: Grow) -> *mut u8 {
        if l.align() <= MIN_ALIGN {
            return self.block(l.size(), grow) as *mut u8;
        }
        // Rare (no type of this crate asks for it): a block with room to align inside it,
        // and the block's address kept in the word before the pointer handed out.
        let Some(size) = l.size().checked_add(l.align()) else {
            return null_mut();
        };
        let b = self.block(size, grow);
        if b == 0 {
            return null_mut();
        }
        let p = (b + l.align()) & !(l.align() - 1);
        *((p - core::mem::size_of::<usize>()) as *mut usize) = b;
        p as *mut u8
    }

    /// # Safety
    /// As `GlobalAlloc::dealloc`.
    pub unsafe fn dealloc(&mut self, p: *mut u8, l: Layout) {
        if l.align() <= MIN_ALIGN {
            self.release(p as usize, l.size());
        } else {
            let b = *((p as usize - core::mem::size_of::<usize>()) as *const usize);
            self.release(b, l.size() + l.align());
        }
    }

    /// # Safety
    /// As `GlobalAlloc::realloc`.
    pub unsafe fn realloc(
        &mut self,
        p: *mut u8,
        l: Layout,
        new_size: usize,
        grow: Grow,
    ) -> *mut u8 {
        if l.align() <= MIN_ALIGN {
            let (old, new) = (l.size(), new_size);
            if old <= SMALL_MAX && new <= SMALL_MAX && class_of(old) == class_of(new) {
                return p;
            }
            if old > SMALL_MAX && new > SMALL_MAX {
                let (old, new) = (large_size(old), large_size(new));
                let b = p as usize;
                if new != 0 && new <= old {
                    if new < old {
                        self.free_range(b + new, old - new);
                    }
                    return p;
                }
                // Growing the block at the top of the bump region: in place.
                if new != 0 && b + old == self.next {
                    match self.bump(new - old, grow) {
                        t if t == b + old => return p,
                        0 => {}
                        t => self.free_range(t, new - old),
                    }
                }
            }
        }
        let new = self.alloc(Layout::from_size_align_unchecked(new_size, l.align()), grow);
        if !new.is_null() {
            core::ptr::copy_nonoverlapping(p, new, l.size().min(new_size));
            self.dealloc(p, l);
        }
        new
    }
}

impl Default for Heap {
    fn default() -> Self {
        Heap::new()
    }
}

#[cfg(any(target_arch = "wasm32", test))]
const PAGE: usize = 65536;

#[cfg(any(target_arch = "wasm32", test))]
fn round_pages(bytes: usize) -> usize {
    (bytes + PAGE - 1) & !(PAGE - 1)
}

#[cfg(target_arch = "wasm32")]
mod global {
    use super::{round_pages, Heap, PAGE};
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::UnsafeCell;

    struct Global(UnsafeCell<Heap>);
    // wasm32 without atomics has one thread.
    unsafe impl Sync for Global {}

    #[global_allocator]
    static HEAP: Global = Global(UnsafeCell::new(Heap::new()));

    extern "C" {
        /// Where the linker's layout (stack, data) ends and the heap may begin.
        static __heap_base: u8;
    }

    /// The memory past `end` (past `__heap_base` at first), grown by whole pages to at least
    /// `bytes`.
    fn grow(end: usize, bytes: usize) -> Option<(usize, usize)> {
        let mem_end = core::arch::wasm32::memory_size(0) * PAGE;
        let start = if end == 0 {
            core::ptr::addr_of!(__heap_base) as usize
        } else {
            mem_end
        };
        let have = mem_end - start;
        let more = round_pages(bytes.saturating_sub(have));
        if more > 0 && core::arch::wasm32::memory_grow(0, more / PAGE) == usize::MAX {
            return None;
        }
        Some((start, have + more))
    }

    unsafe impl GlobalAlloc for Global {
        unsafe fn alloc(&self, l: Layout) -> *mut u8 {
            (*self.0.get()).alloc(l, &mut grow)
        }
        unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
            (*self.0.get()).dealloc(p, l)
        }
        unsafe fn realloc(&self, p: *mut u8, l: Layout, new_size: usize) -> *mut u8 {
            (*self.0.get()).realloc(p, l, new_size, &mut grow)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_small_size_gets_the_smallest_class_that_holds_it() {
        let mut last = 0;
        for size in 0..=SMALL_MAX {
            let c = class_of(size);
            assert!(c < CLASSES, "{size}");
            assert!(
                block_size(c) >= size && block_size(c).is_multiple_of(MIN_ALIGN),
                "{size}"
            );
            assert!(
                c == 0 || block_size(c - 1) < size,
                "{size}: a smaller class holds it"
            );
            assert!(c >= last);
            last = c;
            // Waste: at most a fifth of a block past 16 bytes.
            assert!(size <= 16 || block_size(c) * 4 <= size * 5 + 64, "{size}");
        }
        assert_eq!(block_size(CLASSES - 1), SMALL_MAX);
        for c in 0..CLASSES {
            assert_eq!(class_of(block_size(c)), c);
        }
    }

    /// A heap over a buffer, as the memory grows in wasm: by whole pages at its end.
    struct Arena {
        buf: Vec<u8>,
        used: usize,
    }

    impl Arena {
        fn pages(n: usize) -> Arena {
            Arena {
                buf: vec![0u8; n * PAGE],
                used: 0,
            }
        }

        fn grow(&mut self) -> impl FnMut(usize, usize) -> Option<(usize, usize)> + '_ {
            |_, bytes| {
                let at = self.used;
                let bytes = round_pages(bytes);
                (at + bytes <= self.buf.len()).then(|| {
                    self.used += bytes;
                    (self.buf.as_ptr() as usize + at, bytes)
                })
            }
        }
    }

    #[test]
    fn blocks_are_aligned_distinct_reused_and_realloc_keeps_the_bytes() {
        let (mut arena, mut heap) = (Arena::pages(64), Heap::new());
        let mut live: Vec<(*mut u8, Layout, u8)> = Vec::new();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        for i in 0..20_000u32 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let mut grow = arena.grow();
            if rng.is_multiple_of(3) && !live.is_empty() {
                let (p, l, v) = live.swap_remove((rng >> 8) as usize % live.len());
                let bytes = unsafe { std::slice::from_raw_parts(p, l.size()) };
                assert!(bytes.iter().all(|&b| b == v), "a block was overwritten");
                unsafe { heap.dealloc(p, l) };
            } else if rng % 3 == 1 && !live.is_empty() {
                let at = (rng >> 8) as usize % live.len();
                let (p, l, v) = live[at];
                let new_size = (rng >> 20) as usize % 6000;
                let q = unsafe { heap.realloc(p, l, new_size, &mut grow) };
                let kept = unsafe { std::slice::from_raw_parts(q, l.size().min(new_size)) };
                assert!(kept.iter().all(|&b| b == v), "realloc lost bytes");
                let l = Layout::from_size_align(new_size, l.align()).unwrap();
                unsafe { q.write_bytes(v, new_size) };
                live[at] = (q, l, v);
            } else {
                let align = [1, 4, 8, 16, 64][(rng >> 40) as usize % 5];
                let size = (rng >> 16) as usize % if i % 50 == 0 { 70_000 } else { 300 };
                let l = Layout::from_size_align(size, align).unwrap();
                let p = unsafe { heap.alloc(l, &mut grow) };
                assert!(!p.is_null() && (p as usize).is_multiple_of(align));
                let v = (i % 251) as u8 + 1;
                unsafe { p.write_bytes(v, size) };
                live.push((p, l, v));
            }
        }
        for (p, l, v) in live {
            let bytes = unsafe { std::slice::from_raw_parts(p, l.size()) };
            assert!(bytes.iter().all(|&b| b == v), "a block was overwritten");
        }
    }

    #[test]
    fn a_freed_block_is_reused_and_a_full_memory_answers_null() {
        let (mut arena, mut heap) = (Arena::pages(2), Heap::new());
        let l = Layout::from_size_align(100, 8).unwrap();
        let mut grow = arena.grow();
        let a = unsafe { heap.alloc(l, &mut grow) };
        unsafe { heap.dealloc(a, l) };
        assert_eq!(
            unsafe { heap.alloc(Layout::from_size_align(97, 1).unwrap(), &mut grow) },
            a
        );
        let big = Layout::from_size_align(3 * PAGE, 8).unwrap();
        assert!(unsafe { heap.alloc(big, &mut grow) }.is_null());
    }

    #[test]
    fn freed_large_blocks_merge_and_the_top_goes_back_to_the_bump_region() {
        let (mut arena, mut heap) = (Arena::pages(4), Heap::new());
        let mut grow = arena.grow();
        let l = Layout::from_size_align(10_000, 8).unwrap();
        let small = Layout::from_size_align(8, 8).unwrap();
        let [a, b, c] = [(); 3].map(|_| unsafe { heap.alloc(l, &mut grow) });
        let s = unsafe { heap.alloc(small, &mut grow) };
        // Freed in an order that merges with the range after, then before, then both.
        unsafe { heap.dealloc(b, l) };
        unsafe { heap.dealloc(a, l) };
        unsafe { heap.dealloc(c, l) };
        let whole = Layout::from_size_align(30_000, 8).unwrap();
        assert_eq!(
            unsafe { heap.alloc(whole, &mut grow) },
            a,
            "one range of all three"
        );
        unsafe { heap.dealloc(a, whole) };
        assert_eq!(unsafe { heap.alloc(l, &mut grow) }, a, "the first fit");
        assert_eq!(unsafe { heap.alloc(l, &mut grow) }, b);
        assert_eq!(unsafe { heap.alloc(l, &mut grow) }, c);
        unsafe { heap.dealloc(s, small) };
        assert_eq!(
            unsafe { heap.alloc(small, &mut grow) },
            s,
            "the small class's list"
        );
        // What ends at the bump region's top goes back to it: a small block is carved there.
        let x = unsafe { heap.alloc(l, &mut grow) };
        unsafe { heap.dealloc(x, l) };
        assert_eq!(unsafe { heap.alloc(small, &mut grow) }, x);
        // A block at the top grows in place; shrunk, its tail goes back to the top.
        let e = unsafe { heap.alloc(l, &mut grow) };
        let grown = unsafe { heap.realloc(e, l, 50_000, &mut grow) };
        assert_eq!(grown, e);
        let shrunk = unsafe {
            heap.realloc(
                grown,
                Layout::from_size_align(50_000, 8).unwrap(),
                20_000,
                &mut grow,
            )
        };
        assert_eq!(shrunk, e);
        assert_eq!(
            unsafe { heap.alloc(l, &mut grow) } as usize,
            e as usize + large_size(20_000)
        );
    }
}
