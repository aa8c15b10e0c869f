//! The discrete-event engine: a virtual clock over an [`EventQueue`].
//!
//! The engine advances straight to the next event rather than by fixed ticks (smoltcp's
//! `tests/netsim.rs` `next_event`, quinn-proto's test `step`). It knows nothing of the model:
//! it is generic over the model's event type `E` and hands each event back to the caller,
//! either one at a time ([`Engine::step`]) or to a handler closure ([`Engine::run_until`]),
//! which may schedule and cancel further events through the `&mut Engine` it receives. The
//! handler is a generic parameter, so there is no `dyn` dispatch per event.
//!
//! # Contracts
//!
//! - Time never goes backwards: [`Engine::now`] is the time of the last event popped (or the
//!   horizon of the last [`Engine::run_until`]).
//! - Events at equal times run in the order they were scheduled (see [`crate::queue`]).
//! - Scheduling in the past is clamped to `now`: the event runs after everything already
//!   queued for `now`, so time stays monotonic and nothing is silently lost.

use crate::queue::{EventId, EventQueue};
use crate::time::{Duration, Instant};

/// A discrete-event engine over events of type `E`.
#[derive(Debug, Clone)]
pub struct Engine<E> {
    queue: EventQueue<E>,
    now: Instant,
    processed: u64,
}

impl<E> Default for Engine<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> Engine<E> {
    /// An engine at [`Instant::ZERO`] with nothing scheduled.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            queue: EventQueue::new(),
            now: Instant::ZERO,
            processed: 0,
        }
    }

    /// An engine with room for `n` pending events before the queue allocates.
    #[must_use]
    pub fn with_capacity(n: usize) -> Self {
        Self {
            queue: EventQueue::with_capacity(n),
            now: Instant::ZERO,
            processed: 0,
        }
    }

    /// The current virtual time.
    #[must_use]
    pub const fn now(&self) -> Instant {
        self.now
    }

    /// Number of events popped so far (cancelled events are not counted).
    #[must_use]
    pub const fn processed(&self) -> u64 {
        self.processed
    }

    /// Number of events scheduled and neither popped nor cancelled.
    #[must_use]
    pub const fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Schedules `event` at `at` (clamped to [`Engine::now`] if earlier).
    pub fn schedule_at(&mut self, at: Instant, event: E) -> EventId {
        self.queue.push(at.max(self.now), event)
    }

    /// Schedules `event` at `now + after` (saturating at [`Instant::MAX`]).
    pub fn schedule_after(&mut self, after: Duration, event: E) -> EventId {
        self.queue.push(self.now + after, event)
    }

    /// Cancels a pending event in O(1); `false` if it already ran or was cancelled.
    pub fn cancel(&mut self, id: EventId) -> bool {
        self.queue.cancel(id)
    }

    /// Whether the event is still pending.
    #[must_use]
    pub fn is_pending(&self, id: EventId) -> bool {
        self.queue.contains(id)
    }

    /// The time of the next pending event, if any.
    pub fn peek_time(&mut self) -> Option<Instant> {
        self.queue.peek_time()
    }

    /// Pops the next event, advances the clock to its time and returns both.
    pub fn step(&mut self) -> Option<(Instant, E)> {
        let (at, _, event) = self.queue.pop()?;
        self.now = at;
        self.processed += 1;
        Some((at, event))
    }

    /// Runs every event due at or before `horizon`, in order, passing each to `handler`
    /// together with the engine (to schedule or cancel more). Events the handler schedules at
    /// or before `horizon` run in this same call. Afterwards the clock reads `horizon` (or
    /// stays where it was if that is later). Returns the number of events run.
    pub fn run_until<F>(&mut self, horizon: Instant, mut handler: F) -> u64
    where
        F: FnMut(&mut Self, E),
    {
        let before = self.processed;
        while self.queue.peek_time().is_some_and(|t| t <= horizon) {
            let Some((_, event)) = self.step() else {
                break;
            };
            handler(self, event);
        }
        self.now = self.now.max(horizon);
        self.processed - before
    }

    /// Runs events until none is left or `max_events` have run; returns the number run.
    pub fn run<F>(&mut self, max_events: u64, mut handler: F) -> u64
    where
        F: FnMut(&mut Self, E),
    {
        let before = self.processed;
        while self.processed - before < max_events {
            let Some((_, event)) = self.step() else {
                break;
            };
            handler(self, event);
        }
        self.processed - before
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_advances_clock_to_event_time() {
        let mut e = Engine::new();
        e.schedule_after(Duration::from_secs(3), "b");
        e.schedule_after(Duration::from_secs(1), "a");
        assert_eq!(
            e.step(),
            Some((Instant::ZERO + Duration::from_secs(1), "a"))
        );
        assert_eq!(e.now(), Instant::ZERO + Duration::from_secs(1));
        // Relative to the new now.
        e.schedule_after(Duration::from_secs(1), "c");
        assert_eq!(e.step().map(|x| x.1), Some("c"));
        assert_eq!(e.step().map(|x| x.1), Some("b"));
        assert_eq!(e.processed(), 3);
        assert_eq!(e.step(), None);
    }

    #[test]
    fn past_schedule_is_clamped_to_now_after_queued_ties() {
        let mut e = Engine::new();
        e.schedule_at(Instant::from_nanos(10), 1);
        e.step();
        e.schedule_at(Instant::from_nanos(10), 2);
        e.schedule_at(Instant::from_nanos(5), 3);
        assert_eq!(e.step(), Some((Instant::from_nanos(10), 2)));
        assert_eq!(e.step(), Some((Instant::from_nanos(10), 3)));
    }

    #[test]
    fn run_until_runs_handler_scheduled_events_and_stops_at_horizon() {
        // A periodic timer every 1 s; a cancelled one-shot at 2.5 s never fires.
        let mut e = Engine::new();
        e.schedule_at(Instant::ZERO, 0_u32);
        let oneshot = e.schedule_at(Instant::from_nanos(2_500_000_000), 99);
        assert!(e.cancel(oneshot));
        let mut seen = Vec::new();
        let n = e.run_until(Instant::ZERO + Duration::from_secs(5), |e, k| {
            seen.push((e.now().as_nanos() / 1_000_000_000, k));
            e.schedule_after(Duration::from_secs(1), k + 1);
        });
        assert_eq!(n, 6);
        assert_eq!(seen, vec![(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (5, 5)]);
        assert_eq!(e.now(), Instant::ZERO + Duration::from_secs(5));
        assert_eq!(e.pending(), 1, "the event at 6 s is still pending");
    }

    #[test]
    fn run_until_advances_idle_clock_to_horizon() {
        let mut e: Engine<()> = Engine::new();
        e.run_until(Instant::from_nanos(42), |_, ()| {});
        assert_eq!(e.now(), Instant::from_nanos(42));
    }
}
