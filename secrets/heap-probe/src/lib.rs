//! **Test-only.** A global allocator that reports heap blocks still holding a watched secret.
//!
//! `paved-secrets` promises that a secret's bytes are gone from the heap once the secret is
//! dropped (SE-11). Checking that needs to look at memory the program no longer owns, which
//! needs a global allocator, which needs `unsafe impl GlobalAlloc`. The workspace forbids
//! `unsafe`, so this crate holds that code, is never published and is only ever a
//! dev-dependency (of `paved-secrets`' `tests/heap.rs`).
//!
//! How it works: [`HeapProbe`] forwards to [`System`]. While [armed](arm), it
//! - scans every block *before* it is freed and counts the ones that still contain any
//!   [`WINDOW`]-byte window of a watched pattern ([`freed_hits`]); reallocation is left to the
//!   default `GlobalAlloc::realloc` (allocate, copy, free), so a block that moves is scanned too,
//!   which catches a secret buffer that grows in place;
//! - remembers the blocks it hands out, so [`live_hits`] can scan the ones not freed yet
//!   (a copy that leaked or was `mem::forget`-ten never reaches `dealloc`).
//!
//! The patterns live in fixed static arrays ([`watch`]), never on the heap, so the probe cannot
//! find its own copy of the secret. The probe itself never allocates.
//!
//! Caveat: scanning reads bytes that may be uninitialised (spare `Vec` capacity). It does so
//! with volatile byte reads, which the compiler cannot elide or reason about. That is
//! acceptable for a test tool and is the reason it lives here and not in shipping code.
#![allow(unsafe_code)] // See the crate documentation: a global allocator needs `unsafe`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize, Ordering};

/// Length of the windows searched for: a block "holds the secret" when it contains any
/// `WINDOW` consecutive bytes of a watched pattern.
pub const WINDOW: usize = 16;
/// How many patterns can be watched at once.
pub const MAX_PATTERNS: usize = 8;
/// The longest pattern that can be watched.
pub const MAX_PATTERN_LEN: usize = 256;
/// How many live blocks can be remembered while armed.
const TABLE_SLOTS: usize = 1 << 14;
const EMPTY: usize = 0;
const TOMBSTONE: usize = usize::MAX;

static PATTERNS: [[AtomicU8; MAX_PATTERN_LEN]; MAX_PATTERNS] =
    [const { [const { AtomicU8::new(0) }; MAX_PATTERN_LEN] }; MAX_PATTERNS];
static PATTERN_LENS: [AtomicUsize; MAX_PATTERNS] = [const { AtomicUsize::new(0) }; MAX_PATTERNS];
static ARMED: AtomicBool = AtomicBool::new(false);
static FREED_HITS: AtomicUsize = AtomicUsize::new(0);
static FREED_SCANNED: AtomicUsize = AtomicUsize::new(0);
static LIVE_PTRS: [AtomicUsize; TABLE_SLOTS] = [const { AtomicUsize::new(EMPTY) }; TABLE_SLOTS];
static LIVE_SIZES: [AtomicUsize; TABLE_SLOTS] = [const { AtomicUsize::new(0) }; TABLE_SLOTS];
static TABLE_OVERFLOW: AtomicBool = AtomicBool::new(false);

/// The allocator. Install it in a test binary with
/// `#[global_allocator] static ALLOC: HeapProbe = HeapProbe;`.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeapProbe;

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so the
// `GlobalAlloc` contract is exactly `System`'s. The bookkeeping around it only touches atomics
// and reads (never writes) the block being freed, before it is freed.
unsafe impl GlobalAlloc for HeapProbe {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() && ARMED.load(Ordering::SeqCst) {
            remember(ptr as usize, layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc_zeroed`'s contract.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() && ARMED.load(Ordering::SeqCst) {
            remember(ptr as usize, layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::SeqCst) {
            forget(ptr as usize);
            FREED_SCANNED.fetch_add(1, Ordering::SeqCst);
            // SAFETY: the caller guarantees `ptr` was allocated by this allocator with `layout`
            // and is not freed yet, so `layout.size()` bytes from `ptr` are ours to read.
            if unsafe { holds_watched(ptr, layout.size()) } {
                FREED_HITS.fetch_add(1, Ordering::SeqCst);
            }
        }
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) };
    }
}

/// Watches `pattern`: blocks containing any [`WINDOW`]-byte window of it count as hits.
///
/// Returns `false` (and watches nothing) when the pattern is shorter than [`WINDOW`], longer
/// than [`MAX_PATTERN_LEN`], holds [`WINDOW`] zero bytes in a row (zeroized memory would match
/// it), or [`MAX_PATTERNS`] are already watched.
pub fn watch(pattern: &[u8]) -> bool {
    if pattern.len() < WINDOW
        || pattern.len() > MAX_PATTERN_LEN
        || pattern.windows(WINDOW).any(|w| w.iter().all(|&b| b == 0))
    {
        return false;
    }
    for (slot, len) in PATTERNS.iter().zip(&PATTERN_LENS) {
        if len.load(Ordering::SeqCst) == 0 {
            for (cell, &byte) in slot.iter().zip(pattern) {
                cell.store(byte, Ordering::SeqCst);
            }
            len.store(pattern.len(), Ordering::SeqCst);
            return true;
        }
    }
    false
}

/// Starts scanning frees and remembering new blocks.
pub fn arm() {
    ARMED.store(true, Ordering::SeqCst);
}

/// Stops scanning frees and remembering new blocks.
pub fn disarm() {
    ARMED.store(false, Ordering::SeqCst);
}

/// Disarms and forgets all patterns, counters and remembered blocks.
pub fn reset() {
    disarm();
    for len in &PATTERN_LENS {
        len.store(0, Ordering::SeqCst);
    }
    for slot in &PATTERNS {
        for cell in slot {
            cell.store(0, Ordering::SeqCst);
        }
    }
    for (ptr, size) in LIVE_PTRS.iter().zip(&LIVE_SIZES) {
        ptr.store(EMPTY, Ordering::SeqCst);
        size.store(0, Ordering::SeqCst);
    }
    FREED_HITS.store(0, Ordering::SeqCst);
    FREED_SCANNED.store(0, Ordering::SeqCst);
    TABLE_OVERFLOW.store(false, Ordering::SeqCst);
}

/// Number of blocks freed while armed that still held a watched pattern.
#[must_use]
pub fn freed_hits() -> usize {
    FREED_HITS.load(Ordering::SeqCst)
}

/// Number of blocks freed (and so scanned) while armed. A check whose scenario freed nothing
/// proves nothing; tests assert this is above zero.
#[must_use]
pub fn freed_scanned() -> usize {
    FREED_SCANNED.load(Ordering::SeqCst)
}

/// Whether more blocks were live at once than the probe can remember (then [`live_hits`] may
/// miss some and a test should fail as inconclusive).
#[must_use]
pub fn table_overflowed() -> bool {
    TABLE_OVERFLOW.load(Ordering::SeqCst)
}

/// Scans the blocks allocated while armed and not freed yet; returns how many hold a watched
/// pattern. Call it from the only running thread, after the scenario under test.
#[must_use]
pub fn live_hits() -> usize {
    let mut hits = 0;
    for (ptr, size) in LIVE_PTRS.iter().zip(&LIVE_SIZES) {
        let p = ptr.load(Ordering::SeqCst);
        if p == EMPTY || p == TOMBSTONE {
            continue;
        }
        let len = size.load(Ordering::SeqCst);
        // SAFETY: `p` was returned by `System.alloc` for `len` bytes and has not reached
        // `dealloc` (which removes it from the table), so the block is still allocated.
        // Reading is racy only if another thread writes it; callers run this single-threaded.
        if unsafe { holds_watched(p as *const u8, len) } {
            hits += 1;
        }
    }
    hits
}

fn slot_of(ptr: usize) -> usize {
    // Blocks are at least 8-byte aligned; mix the address bits a little.
    (ptr >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15) % TABLE_SLOTS
}

fn remember(ptr: usize, size: usize) {
    let start = slot_of(ptr);
    for i in 0..TABLE_SLOTS {
        let index = (start + i) % TABLE_SLOTS;
        let cell = &LIVE_PTRS[index];
        let current = cell.load(Ordering::SeqCst);
        if (current == EMPTY || current == TOMBSTONE)
            && cell
                .compare_exchange(current, ptr, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
        {
            LIVE_SIZES[index].store(size, Ordering::SeqCst);
            return;
        }
    }
    TABLE_OVERFLOW.store(true, Ordering::SeqCst);
}

fn forget(ptr: usize) {
    let start = slot_of(ptr);
    for i in 0..TABLE_SLOTS {
        let index = (start + i) % TABLE_SLOTS;
        let current = LIVE_PTRS[index].load(Ordering::SeqCst);
        if current == EMPTY {
            return;
        }
        if current == ptr {
            LIVE_SIZES[index].store(0, Ordering::SeqCst);
            LIVE_PTRS[index].store(TOMBSTONE, Ordering::SeqCst);
            return;
        }
    }
}

/// Whether the `len` bytes at `ptr` contain a [`WINDOW`]-byte window of a watched pattern.
///
/// # Safety
///
/// `ptr..ptr + len` must be one allocated block that no other thread writes meanwhile.
unsafe fn holds_watched(ptr: *const u8, len: usize) -> bool {
    if len < WINDOW {
        return false;
    }
    // SAFETY: the caller guarantees `ptr..ptr+len` is allocated; `i < len`.
    let byte_at = |i: usize| unsafe { ptr.add(i).read_volatile() };
    for (slot, pattern_len) in PATTERNS.iter().zip(&PATTERN_LENS) {
        let m = pattern_len.load(Ordering::SeqCst);
        if m < WINDOW {
            continue;
        }
        for start in 0..=(len - WINDOW) {
            let first = byte_at(start);
            'windows: for offset in 0..=(m - WINDOW) {
                if slot[offset].load(Ordering::SeqCst) != first {
                    continue;
                }
                for k in 1..WINDOW {
                    if slot[offset + k].load(Ordering::SeqCst) != byte_at(start + k) {
                        continue 'windows;
                    }
                }
                return true;
            }
        }
    }
    false
}
