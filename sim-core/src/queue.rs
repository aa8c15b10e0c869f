//! The event queue: a priority queue of timed events with O(1) cancellation.
//!
//! # Ordering contract
//!
//! Events pop in increasing `(time, seq)` order, where `seq` is a counter stamped at insertion.
//! Two events at the same instant therefore pop first-in, first-out, which is what makes a run
//! reproducible (design.md, principle 3; the same rule as smoltcp's `tests/netsim.rs` packet
//! ordering and nexosim's priority queue).
//!
//! # Layout and cost
//!
//! - The heap is a 4-ary min-heap of 16-byte keys: the time, then a 32-bit insertion `seq` and
//!   the 32-bit payload `slot` packed in one word, so a key compares as one `u128`. A 4-ary heap
//!   is half as deep as a binary one and four keys fill one 64-byte cache line, so a pop touches
//!   fewer lines; the keys carry no payload, so sifting moves 16 bytes whatever `E` is.
//! - `seq` is 32 bits: when it would overflow (after 2^32 insertions) the live keys are sorted
//!   and renumbered from zero, which keeps their relative order; it costs O(n log n) once per
//!   four billion events. Handles do not carry `seq`, so renumbering never invalidates them.
//! - Payloads live in a slab (`Vec` of slots plus a free list) indexed by `slot`. Slots are
//!   reused, so in steady state (as many schedules as pops) nothing is allocated per event.
//! - [`EventQueue::cancel`] is O(1): it empties the payload's slot and frees it. The heap key
//!   stays behind as a *tombstone*, recognised on pop because the slot's `seq` no longer matches
//!   (the slot was reused) or its payload is gone. A handle is `(slot, generation)`; the slot's
//!   generation is bumped on every reuse, so a stale handle matches nothing (unless it is kept
//!   across 2^32 reuses of the same slot). BGP re-arms its hold and keepalive timers on
//!   every message (RFC 4271 §6.5), so cancellation must be cheap; tombstones are skipped when
//!   they reach the top, and the heap is compacted in O(n) when tombstones outnumber live
//!   events, so memory stays proportional to the live events.
//! - Few keys (at most 128, `SORTED_MAX`; the usual case: a simulated network has a handful
//!   of timers and frames in flight) are kept in an array sorted latest first instead of the
//!   heap: a pop takes the last key with no sifting, and a push is a binary search plus a
//!   short `memmove`, cheaper than sifting through the heap at these sizes. Past 128 keys the
//!   array, reversed (an ascending array is a heap), becomes the heap; once a pop leaves 32
//!   (`SORTED_MIN`) or fewer it is sorted back. Both layouts hold the same keys under the same
//!   `(time, seq)` order, so which one is in use never changes what pops next.
//! - No `dyn` dispatch: the queue is generic over the model's event type `E`.

use crate::time::Instant;

/// Arity of the heap. Four children per node: see the module doc.
const ARITY: usize = 4;

/// Tombstones are compacted away once there are more than this many and more than live events.
const COMPACT_MIN_TOMBSTONES: usize = 1024;

/// The keys leave the sorted array for the heap when a push would make more than this many.
const SORTED_MAX: usize = 128;

/// The keys go back from the heap to the sorted array when a pop leaves this many or fewer.
const SORTED_MIN: usize = 32;

/// A handle to a scheduled event, used to cancel it.
///
/// A handle stays valid for exactly one event: once that event has popped or been cancelled,
/// cancelling the handle again returns `false`, even if its slot now holds another event
/// (the insertion sequence number tells them apart).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EventId {
    /// Index of the payload slot.
    slot: u32,
    /// The slot's generation when the event was scheduled.
    generation: u32,
}

/// A heap key: everything needed to order an event and find its payload.
#[derive(Debug, Clone, Copy)]
struct Key {
    time: u64,
    /// `seq << 32 | slot`.
    tag: u64,
}

impl Key {
    const fn new(time: u64, seq: u32, slot: u32) -> Self {
        Self {
            time,
            tag: ((seq as u64) << 32) | slot as u64,
        }
    }

    /// Strict `(time, seq)` order: seqs are unique, so the slot in the low bits never decides.
    #[inline(always)]
    fn before(&self, other: &Self) -> bool {
        // One 128-bit comparison compiles to a branch-free compare-and-borrow pair.
        self.order() < other.order()
    }

    #[inline(always)]
    fn order(&self) -> u128 {
        (u128::from(self.time) << 64) | u128::from(self.tag)
    }

    #[inline(always)]
    const fn seq(&self) -> u32 {
        (self.tag >> 32) as u32
    }

    #[inline(always)]
    const fn slot(&self) -> usize {
        (self.tag & 0xffff_ffff) as usize
    }
}

/// A payload slot of the slab.
#[derive(Debug, Clone)]
struct Slot<E> {
    /// `seq` of the event that last occupied this slot; tells live keys from tombstones.
    seq: u32,
    /// Bumped each time the slot takes a new event; tells live handles from stale ones.
    generation: u32,
    /// The payload; `None` once popped or cancelled.
    event: Option<E>,
}

/// A priority queue of events of type `E`, ordered by `(time, insertion seq)`.
///
/// This is the bare data structure, with no notion of "now"; [`crate::engine::Engine`] adds
/// the clock. See the module documentation for the ordering contract and costs.
#[derive(Debug, Clone)]
pub struct EventQueue<E> {
    /// The keys: sorted latest first when `sorted`, else a 4-ary min-heap.
    heap: Vec<Key>,
    /// Which layout `heap` is in (see the module doc).
    sorted: bool,
    slots: Vec<Slot<E>>,
    free: Vec<u32>,
    next_seq: u32,
    /// `next_seq` at which the keys are renumbered (`u32::MAX`; lower in tests).
    seq_limit: u32,
    live: usize,
    /// The root of `heap` was popped but not yet refilled: `heap[0]` is garbage. A push right
    /// after a pop (the usual pattern: handle an event, schedule the next) then costs a single
    /// sift-down from the root instead of a sift-down plus a sift-up.
    hole: bool,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            heap: Vec::new(),
            sorted: true,
            slots: Vec::new(),
            free: Vec::new(),
            next_seq: 0,
            seq_limit: u32::MAX,
            live: 0,
            hole: false,
        }
    }

    /// An empty queue with room for `n` pending events before it allocates.
    #[must_use]
    pub fn with_capacity(n: usize) -> Self {
        Self {
            heap: Vec::with_capacity(n),
            sorted: true,
            slots: Vec::with_capacity(n),
            free: Vec::with_capacity(n),
            next_seq: 0,
            seq_limit: u32::MAX,
            live: 0,
            hole: false,
        }
    }

    /// Number of pending (scheduled, not yet popped or cancelled) events.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.live
    }

    /// Whether no event is pending.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// Schedules `event` at `time` and returns its handle.
    ///
    /// # Panics
    ///
    /// Panics if more than `u32::MAX` events are pending at once (the slot index is 32 bits),
    /// far beyond any scenario.
    pub fn push(&mut self, time: Instant, event: E) -> EventId {
        if self.next_seq >= self.seq_limit {
            self.renumber();
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        let (slot, generation) = if let Some(slot) = self.free.pop() {
            // Invariant: free-list entries are valid indices of `slots`.
            let s = &mut self.slots[slot as usize];
            s.seq = seq;
            s.generation = s.generation.wrapping_add(1);
            s.event = Some(event);
            (slot, s.generation)
        } else {
            let slot = u32::try_from(self.slots.len()).expect("more than 2^32 pending events");
            self.slots.push(Slot {
                seq,
                generation: 0,
                event: Some(event),
            });
            (slot, 0)
        };
        self.live += 1;
        let key = Key::new(time.as_nanos(), seq, slot);
        if self.sorted && self.heap.len() >= SORTED_MAX {
            self.make_heap();
        }
        if self.sorted {
            // Latest first: the new key goes after every later key (seqs are unique, so no
            // key equals it).
            // A new event is usually among the earliest (a frame's next hop, before the
            // pending timers): look at the last few keys, then binary-search the rest.
            let n = self.heap.len();
            let tail = n.saturating_sub(4);
            let mut at = n;
            while at > tail && self.heap.get(at - 1).is_some_and(|k| !key.before(k)) {
                at -= 1;
            }
            if at == tail && tail > 0 {
                at = self
                    .heap
                    .get(..tail)
                    .map_or(0, |rest| rest.partition_point(|k| key.before(k)));
            }
            self.heap.insert(at, key);
        } else if self.hole {
            self.hole = false;
            self.heap[0] = key;
            self.sift_down(0);
        } else {
            self.heap.push(key);
            self.sift_up(self.heap.len() - 1);
        }
        EventId { slot, generation }
    }

    /// Cancels a pending event in O(1). Returns `true` if it was pending, `false` if it had
    /// already popped or been cancelled (or the handle is from another queue and matches
    /// nothing).
    pub fn cancel(&mut self, id: EventId) -> bool {
        let Some(s) = self.slots.get_mut(id.slot as usize) else {
            return false;
        };
        if s.generation != id.generation || s.event.is_none() {
            return false;
        }
        s.event = None;
        self.free.push(id.slot);
        self.live -= 1;
        self.maybe_compact();
        true
    }

    /// Whether the event is still pending.
    #[must_use]
    pub fn contains(&self, id: EventId) -> bool {
        self.slots
            .get(id.slot as usize)
            .is_some_and(|s| s.generation == id.generation && s.event.is_some())
    }

    /// The time of the earliest pending event, discarding tombstones on top of the heap.
    pub fn peek_time(&mut self) -> Option<Instant> {
        self.fill_hole();
        loop {
            let top = self.top()?;
            if self.is_live(&top) {
                return Some(Instant::from_nanos(top.time));
            }
            self.remove_top();
        }
    }

    /// Removes and returns the earliest pending event with its time and handle.
    pub fn pop(&mut self) -> Option<(Instant, EventId, E)> {
        self.fill_hole();
        if !self.sorted && self.heap.len() <= SORTED_MIN {
            self.make_sorted();
        }
        loop {
            let top = self.top()?;
            let slot = top.slot();
            // Invariant: every key's slot is a valid index of `slots`.
            let s = &mut self.slots[slot];
            if s.seq == top.seq()
                && let Some(event) = s.event.take()
            {
                if self.sorted {
                    self.heap.pop();
                } else {
                    // Leave the root as a hole: a push will likely refill it.
                    self.hole = true;
                }
                // Invariant: slot indices fit in u32 (checked in `push`).
                let slot = slot as u32;
                self.free.push(slot);
                self.live -= 1;
                let id = EventId {
                    slot,
                    generation: s.generation,
                };
                return Some((Instant::from_nanos(top.time), id, event));
            }
            // A tombstone left by `cancel`: skip it.
            self.remove_top();
        }
    }

    /// Drops every pending event (keeps the allocations; old handles never match new events
    /// because slot generations keep counting).
    pub fn clear(&mut self) {
        self.hole = false;
        self.heap.clear();
        self.sorted = true;
        self.free.clear();
        for (i, s) in self.slots.iter_mut().enumerate() {
            s.event = None;
            // Invariant: `slots.len()` fits in u32 (checked in `push`).
            self.free.push(u32::try_from(i).unwrap_or(u32::MAX));
        }
        self.live = 0;
    }

    fn is_live(&self, key: &Key) -> bool {
        // Invariant: every key's slot is a valid index of `slots`.
        let s = &self.slots[key.slot()];
        s.seq == key.seq() && s.event.is_some()
    }

    /// Renumbers the live keys `0..n` in their `(time, seq)` order, so `seq` never wraps.
    /// A sorted array is a valid heap, so no heapify is needed.
    fn renumber(&mut self) {
        self.fill_hole();
        let slots = &mut self.slots;
        self.heap.retain(|k| {
            let s = &slots[k.slot()];
            s.seq == k.seq() && s.event.is_some()
        });
        // Ascending: a valid heap, and the sorted layout reversed.
        self.heap.sort_unstable_by_key(Key::order);
        for (seq, k) in (0_u32..).zip(self.heap.iter_mut()) {
            #[allow(
                clippy::cast_possible_truncation,
                reason = "slot indices fit in u32 (checked in `push`)"
            )]
            let slot = k.slot() as u32;
            *k = Key::new(k.time, seq, slot);
            slots[k.slot()].seq = seq;
        }
        if self.sorted {
            self.heap.reverse();
        }
        // Invariant: fewer than 2^32 events are live (slot indices are u32).
        self.next_seq = u32::try_from(self.heap.len()).unwrap_or(u32::MAX);
    }

    /// Rebuilds the heap without tombstones once they dominate it.
    fn maybe_compact(&mut self) {
        self.fill_hole();
        let tombstones = self.heap.len() - self.live;
        if tombstones <= COMPACT_MIN_TOMBSTONES || tombstones <= self.live {
            return;
        }
        let slots = &self.slots;
        self.heap.retain(|k| {
            let s = &slots[k.slot()];
            s.seq == k.seq() && s.event.is_some()
        });
        // `retain` keeps the sorted layout sorted; a heap is rebuilt.
        if !self.sorted {
            self.heapify();
        }
    }

    /// Floyd's heapify: sift down every internal node, last first.
    fn heapify(&mut self) {
        let n = self.heap.len();
        if n > 1 {
            for i in (0..=(n - 2) / ARITY).rev() {
                self.sift_down(i);
            }
        }
    }

    /// The earliest key (live or a tombstone), in either layout.
    fn top(&self) -> Option<Key> {
        if self.sorted {
            self.heap.last().copied()
        } else {
            self.heap.first().copied()
        }
    }

    /// Sorted layout to heap: reversed, the array is ascending, which is a valid min-heap.
    fn make_heap(&mut self) {
        self.heap.reverse();
        self.sorted = false;
    }

    /// Heap layout to sorted (latest first); completes a pending pop first.
    fn make_sorted(&mut self) {
        self.fill_hole();
        self.heap
            .sort_unstable_by_key(|k| std::cmp::Reverse(k.order()));
        self.sorted = true;
    }

    /// Completes a pending pop by moving the last key into the root hole.
    fn fill_hole(&mut self) {
        if self.hole {
            self.hole = false;
            self.remove_top();
        }
    }

    /// Removes the earliest key.
    fn remove_top(&mut self) {
        if self.sorted {
            self.heap.pop();
            return;
        }
        let Some(last) = self.heap.pop() else {
            return;
        };
        if !self.heap.is_empty() {
            self.heap[0] = last;
            self.sift_down(0);
        }
    }

    fn sift_up(&mut self, mut i: usize) {
        let key = self.heap[i];
        while i > 0 {
            let parent = (i - 1) / ARITY;
            let p = self.heap[parent];
            if !key.before(&p) {
                break;
            }
            self.heap[i] = p;
            i = parent;
        }
        self.heap[i] = key;
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        let key = self.heap[i];
        loop {
            let first = i * ARITY + 1;
            let (best, best_key) = if let Some(kids) = self.heap.get(first..first + ARITY) {
                // All four children present (the common case): a two-round tournament, whose
                // comparisons are independent of each other.
                let (a, ka) = min_of(0, kids[0], 1, kids[1]);
                let (b, kb) = min_of(2, kids[2], 3, kids[3]);
                let (w, kw) = min_of(a, ka, b, kb);
                (first + w, kw)
            } else {
                if first >= n {
                    break;
                }
                let mut best = first;
                let mut best_key = self.heap[first];
                for c in first + 1..n {
                    let ck = self.heap[c];
                    if ck.before(&best_key) {
                        best = c;
                        best_key = ck;
                    }
                }
                (best, best_key)
            };
            if !best_key.before(&key) {
                break;
            }
            self.heap[i] = best_key;
            i = best;
        }
        self.heap[i] = key;
    }
}

/// The earlier of two indexed keys (the first on ties, which cannot happen: seqs are unique).
#[inline(always)]
fn min_of(i: usize, ki: Key, j: usize, kj: Key) -> (usize, Key) {
    if kj.before(&ki) { (j, kj) } else { (i, ki) }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use proptest::prelude::*;

    use super::*;

    fn t(n: u64) -> Instant {
        Instant::from_nanos(n)
    }

    #[test]
    fn ties_pop_in_insertion_order() {
        let mut q = EventQueue::new();
        for i in 0..100_u32 {
            q.push(t(5), i);
        }
        q.push(t(1), 1000);
        assert_eq!(q.pop().map(|(_, _, e)| e), Some(1000));
        for i in 0..100_u32 {
            assert_eq!(q.pop().map(|(at, _, e)| (at, e)), Some((t(5), i)));
        }
        assert!(q.pop().is_none());
    }

    #[test]
    fn order_holds_across_the_sorted_and_heap_layouts() {
        // Pseudo-random times (an LCG), many ties, some cancellations; the queue grows past
        // SORTED_MAX, shrinks below SORTED_MIN and grows again, popping part of the way.
        let mut q = EventQueue::new();
        let mut model: BTreeSet<(u64, u32)> = BTreeSet::new();
        let mut ids = Vec::new();
        let mut x: u64 = 12345;
        let mut next = 0_u32;
        let mut popped = Vec::new();
        let mut expected = Vec::new();
        for round in 0..6 {
            let (pushes, pops) = if round % 2 == 0 { (300, 290) } else { (20, 15) };
            for _ in 0..pushes {
                x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                let at = (x >> 58) + round * 10;
                ids.push((q.push(t(at), next), at, next));
                model.insert((at, next));
                next += 1;
            }
            assert_eq!(q.sorted, pushes < SORTED_MAX, "round {round}");
            for (id, at, e) in ids.iter().step_by(7) {
                if q.cancel(*id) {
                    model.remove(&(*at, *e));
                }
            }
            for _ in 0..pops {
                let Some((at, _, e)) = q.pop() else { break };
                popped.push((at.as_nanos(), e));
                let first = *model.iter().next().unwrap();
                model.remove(&first);
                expected.push(first);
            }
        }
        while let Some((at, _, e)) = q.pop() {
            popped.push((at.as_nanos(), e));
        }
        expected.extend(model.iter().copied());
        assert_eq!(popped, expected);
        assert!(q.is_empty() && q.sorted);
    }

    #[test]
    fn cancelled_event_never_fires() {
        let mut q = EventQueue::new();
        let a = q.push(t(10), 'a');
        let b = q.push(t(20), 'b');
        q.push(t(30), 'c');
        assert!(q.cancel(b));
        assert!(!q.cancel(b), "second cancel of the same handle is a no-op");
        assert!(q.contains(a));
        assert!(!q.contains(b));
        assert_eq!(q.len(), 2);
        let fired: Vec<char> = std::iter::from_fn(|| q.pop().map(|(_, _, e)| e)).collect();
        assert_eq!(fired, vec!['a', 'c']);
    }

    #[test]
    fn stale_handle_does_not_cancel_slot_reuser() {
        let mut q = EventQueue::new();
        let a = q.push(t(1), 1);
        assert!(q.pop().is_some());
        // `b` reuses `a`'s slot; `a`'s handle must not touch it.
        let b = q.push(t(2), 2);
        assert!(!q.cancel(a));
        assert!(q.contains(b));
        assert_eq!(q.pop().map(|(_, id, e)| (id, e)), Some((b, 2)));
    }

    #[test]
    fn renumbering_keeps_fifo_ties_and_handles() {
        let mut q = EventQueue::new();
        q.seq_limit = 8;
        let mut ids = Vec::new();
        for i in 0..6_u32 {
            ids.push(q.push(t(100), i));
        }
        // Churn through many renumberings while the six ties stay queued.
        for i in 0..100_u32 {
            let id = q.push(t(1), 1000 + i);
            assert_eq!(q.pop().map(|(_, got, e)| (got, e)), Some((id, 1000 + i)));
        }
        assert!(q.cancel(ids[2]), "handles survive renumbering");
        let order: Vec<u32> = std::iter::from_fn(|| q.pop().map(|(_, _, e)| e)).collect();
        assert_eq!(order, vec![0, 1, 3, 4, 5]);
    }

    #[test]
    fn rearmed_timers_keep_memory_bounded() {
        // A hold timer re-armed a million times: tombstones must be compacted away.
        let mut q = EventQueue::new();
        let mut id = q.push(t(1_000_000), ());
        for i in 0..1_000_000 {
            assert!(q.cancel(id));
            id = q.push(t(1_000_000 + i), ());
        }
        assert_eq!(q.len(), 1);
        assert!(q.heap.len() <= 2 * COMPACT_MIN_TOMBSTONES + 2);
        assert_eq!(q.slots.len(), 1, "the slot is reused");
    }

    #[test]
    fn steady_state_hold_does_not_grow_storage() {
        // The hold pattern (pop one, schedule one) must reuse slots and heap space: after the
        // warm-up no buffer grows, so no allocation happens per event.
        let mut q = EventQueue::new();
        for i in 0..1000_u64 {
            q.push(t(i * 7 % 1000), i);
        }
        let mut caps = (0, 0, 0);
        let mut x = 12_345_u64;
        for round in 0..100_000 {
            if round == 10 {
                // Warm-up over: the free list has been used once.
                caps = (q.heap.capacity(), q.slots.capacity(), q.free.capacity());
            }
            let Some((at, _, e)) = q.pop() else {
                panic!("the queue never empties in the hold model");
            };
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            q.push(t(at.as_nanos() + (x >> 54)), e);
        }
        assert_eq!(q.len(), 1000);
        assert_eq!(
            (q.heap.capacity(), q.slots.capacity(), q.free.capacity()),
            caps
        );
    }

    #[test]
    fn peek_skips_cancelled_top() {
        let mut q = EventQueue::new();
        let a = q.push(t(1), 'a');
        q.push(t(2), 'b');
        q.cancel(a);
        assert_eq!(q.peek_time(), Some(t(2)));
    }

    #[derive(Debug, Clone)]
    enum Op {
        Push(u64),
        Cancel(usize),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0_u64..50).prop_map(Op::Push),
            2 => any::<usize>().prop_map(Op::Cancel),
            2 => Just(Op::Pop),
        ]
    }

    proptest! {
        #[test]
        fn pops_in_time_seq_order_and_fires_exactly_uncancelled(
            ops in proptest::collection::vec(op(), 0..400),
            // Small limits force the seq renumbering many times per case.
            seq_limit in prop_oneof![Just(u32::MAX), 40_u32..80],
        ) {
            let mut q = EventQueue::new();
            q.seq_limit = seq_limit;
            // Handles by insertion number; the payload is the insertion number.
            let mut ids = Vec::new();
            // Reference model: the pending events as (time, insertion number).
            let mut model = BTreeSet::new();
            // Each pop must return exactly the model's minimum: that is both the (time, seq)
            // order and "fires exactly the uncancelled events".
            let check_pop = |q: &mut EventQueue<u64>, model: &mut BTreeSet<(u64, u64)>| {
                match (q.pop(), model.pop_first()) {
                    (Some((at, _, payload)), Some(want)) => {
                        prop_assert_eq!((at.as_nanos(), payload), want);
                    }
                    (None, None) => {}
                    (g, w) => prop_assert!(false, "queue {:?} vs model {:?}", g.map(|x| x.2), w),
                }
                Ok(())
            };
            for op in ops {
                match op {
                    // Keep the live set below the smallest seq limit.
                    Op::Push(_) if model.len() >= 30 => check_pop(&mut q, &mut model)?,
                    Op::Push(time) => {
                        let n = ids.len() as u64;
                        ids.push(q.push(t(time), n));
                        model.insert((time, n));
                    }
                    Op::Cancel(i) => {
                        if ids.is_empty() { continue; }
                        let n = (i % ids.len()) as u64;
                        let was_pending = model.iter().any(|&(_, m)| m == n);
                        prop_assert_eq!(q.contains(ids[n as usize]), was_pending);
                        prop_assert_eq!(q.cancel(ids[n as usize]), was_pending);
                        model.retain(|&(_, m)| m != n);
                    }
                    Op::Pop => check_pop(&mut q, &mut model)?,
                }
                prop_assert_eq!(q.len(), model.len());
            }
            // Drain: the rest pops in strictly increasing (time, insertion) order.
            let mut prev: Option<(u64, u64)> = None;
            while let Some((at, _, n)) = q.pop() {
                let cur = (at.as_nanos(), n);
                prop_assert!(prev.is_none_or(|p| p < cur));
                prop_assert!(model.remove(&cur), "fired an event that was cancelled or popped");
                prev = Some(cur);
            }
            prop_assert!(model.is_empty(), "some uncancelled events never fired");
        }
    }
}
