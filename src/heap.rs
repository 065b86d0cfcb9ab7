//! The binary's allocator: size classes with free lists over 64 KiB
//! chunks for the blocks of at most 16 KiB that are nearly all of a run's
//! allocations, the libc's for the rest.
//!
//! cntr's processes live for a millisecond or two and allocate a few
//! thousand small blocks (paths, JSON values, format strings). musl's
//! allocator maps and unmaps a group of slots for them time and again:
//! `mmap`, `munmap` and the slot bookkeeping took about a fifth of a
//! resolve's CPU time here. With a free list per class, a block freed is
//! the next one of its class handed out, and a process maps a chunk or
//! two in all. The classes go up to 16 KiB for the buffers files are read
//! into (4 KiB first, doubling): musl maps and unmaps each of those too,
//! two system calls and a fresh page's fault per file read.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, Ordering};

/// The size classes: 16, 32, ... 16384 bytes.
const CLASSES: usize = 11;
const MIN: usize = 16;
const MAX: usize = MIN << (CLASSES - 1);
/// What is taken from the libc at a time for the classes.
const CHUNK: usize = 64 << 10;

pub struct Heap {
    /// cntr runs one thread; the lock makes a second one safe all the
    /// same (it is never contended).
    lock: AtomicBool,
    state: UnsafeCell<State>,
}

struct State {
    /// Each class's freed blocks, each holding the next one's address.
    free: [*mut u8; CLASSES],
    /// The part of the current chunk not handed out yet.
    next: usize,
    end: usize,
}

// SAFETY: the state is only touched under the lock.
unsafe impl Sync for Heap {}

impl Heap {
    pub const fn new() -> Heap {
        Heap {
            lock: AtomicBool::new(false),
            state: UnsafeCell::new(State {
                free: [std::ptr::null_mut(); CLASSES],
                next: 0,
                end: 0,
            }),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        while self
            .lock
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            std::hint::spin_loop();
        }
        // SAFETY: the lock is held.
        let r = f(unsafe { &mut *self.state.get() });
        self.lock.store(false, Ordering::Release);
        r
    }
}

impl Default for Heap {
    fn default() -> Heap {
        Heap::new()
    }
}

/// The class of blocks of `l`, if it is small.
fn class(l: Layout) -> Option<usize> {
    if l.size() > MAX || l.align() > MIN {
        return None;
    }
    let size = l.size().max(MIN).next_power_of_two();
    Some((size.trailing_zeros() - MIN.trailing_zeros()) as usize)
}

// SAFETY: blocks of a class are `MIN << class` bytes, aligned to MIN (chunks
// are, and every class size is a multiple of MIN), handed out to one owner
// at a time; everything else is the libc's.
unsafe impl GlobalAlloc for Heap {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        let Some(c) = class(l) else {
            // SAFETY: as the caller promises.
            return unsafe { System.alloc(l) };
        };
        self.with(|s| {
            let head = s.free[c];
            if !head.is_null() {
                // SAFETY: a freed block holds the next one's address.
                s.free[c] = unsafe { head.cast::<*mut u8>().read() };
                return head;
            }
            let size = MIN << c;
            if s.end - s.next < size {
                // SAFETY: a non-zero size and a valid alignment.
                let chunk = unsafe { System.alloc(Layout::from_size_align_unchecked(CHUNK, MIN)) };
                if chunk.is_null() {
                    return chunk;
                }
                // The rest of the old chunk is left unused.
                s.next = chunk as usize;
                s.end = s.next + CHUNK;
            }
            let p = s.next as *mut u8;
            s.next += size;
            p
        })
    }

    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        let Some(c) = class(l) else {
            // SAFETY: as the caller promises: it came from System.alloc.
            return unsafe { System.dealloc(p, l) };
        };
        self.with(|s| {
            // SAFETY: the block is at least MIN bytes, aligned, ours again.
            unsafe { p.cast::<*mut u8>().write(s.free[c]) };
            s.free[c] = p;
        });
    }

    unsafe fn realloc(&self, p: *mut u8, l: Layout, size: usize) -> *mut u8 {
        // SAFETY: the caller promises a valid size for l's alignment.
        let new = unsafe { Layout::from_size_align_unchecked(size, l.align()) };
        match (class(l), class(new)) {
            (Some(a), Some(b)) if a == b => p,
            // SAFETY: both are the libc's.
            (None, None) => unsafe { System.realloc(p, l, size) },
            _ => {
                // SAFETY: a fresh block of `new`, the old one's bytes copied
                // (as many as both hold), then the old one freed.
                unsafe {
                    let q = self.alloc(new);
                    if !q.is_null() {
                        std::ptr::copy_nonoverlapping(p, q, l.size().min(size));
                        self.dealloc(p, l);
                    }
                    q
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        let c = |size, align| class(Layout::from_size_align(size, align).unwrap());
        assert_eq!(c(0, 1), Some(0));
        assert_eq!(c(16, 8), Some(0));
        assert_eq!(c(17, 8), Some(1));
        assert_eq!(c(2048, 16), Some(7));
        assert_eq!(c(4096, 1), Some(8));
        assert_eq!(c(16384, 16), Some(10));
        assert_eq!(c(16385, 1), None);
        assert_eq!(c(8, 32), None);
    }

    #[test]
    fn blocks_are_reused_kept_apart_and_keep_their_bytes() {
        let h = Heap::new();
        let l = Layout::from_size_align(100, 8).unwrap();
        unsafe {
            let a = h.alloc(l);
            let b = h.alloc(l);
            assert_ne!(a, b);
            assert!(b as usize - a as usize >= 128);
            std::ptr::write_bytes(a, 7, 100);
            h.dealloc(b, l);
            assert_eq!(h.alloc(l), b, "a freed block is the next one");
            // Grown across classes and into the libc's: the bytes follow.
            let c = h.realloc(a, l, 1000);
            assert_eq!(*c.add(99), 7);
            let big = Layout::from_size_align(1000, 8).unwrap();
            let d = h.realloc(c, big, 100_000);
            assert_eq!(*d.add(50), 7);
            h.dealloc(d, Layout::from_size_align(100_000, 8).unwrap());
            // A file buffer's sizes, 4 KiB doubling to 16 KiB: each a
            // block of its own class, reused once freed.
            let four = Layout::from_size_align(4096, 1).unwrap();
            let e = h.alloc(four);
            std::ptr::write_bytes(e, 9, 4096);
            let f = h.realloc(e, four, 16384);
            assert_eq!(*f.add(4095), 9);
            assert_eq!(h.alloc(four), e, "the 4 KiB block is free again");
            h.dealloc(f, Layout::from_size_align(16384, 1).unwrap());
            // Many blocks: more than one chunk, each distinct.
            let mut seen = std::collections::HashSet::new();
            for _ in 0..5000 {
                let p = h.alloc(Layout::from_size_align(40, 8).unwrap());
                assert_eq!(p as usize % 16, 0);
                assert!(seen.insert(p as usize));
            }
        }
    }
}
