//! Route installation: when a router's best-path changes reach its FIB, per its profile's
//! [`RouteInstall`] (each model cites its source in `bgp::fsm::profile`).
//!
//! The world hands every batch of FIB changes a router makes to [`Install::due`]: `None` puts
//! them in the data plane at once, as before; otherwise the batch waits here, and the world
//! installs it when [`Install::take`] gives it back (at its `Ev::Install` event, or at the
//! router's next wake-up for the BIRD model). Measured outages follow the FIB, so they include
//! this latency; the ExpressRoute gateway keeps its own programming model (`azure`) and never
//! comes here.

use std::collections::VecDeque;

use bgp::fsm::profile::RouteInstall;
use ipnet::IpNet;
use sim_core::queue::EventId;
use sim_core::time::{Duration, Instant};

use super::net::SessIx;

/// One batch of FIB changes: prefix → sessions whose peers are the next hops.
#[derive(Debug, Clone)]
pub(crate) struct Batch {
    /// When it reaches the FIB (for [`RouteInstall::NextWakeUp`], at the latest).
    pub(crate) due: Instant,
    /// The changes, in the order the RIB made them.
    pub(crate) changes: Vec<(IpNet, Vec<SessIx>)>,
}

/// One router's waiting batches.
#[derive(Debug, Clone)]
struct Queue {
    model: RouteInstall,
    /// Oldest first.
    waiting: VecDeque<Batch>,
    /// The scheduled `Ev::Install` for this router: when, and its engine id.
    timer: Option<(Instant, EventId)>,
    /// [`RouteInstall::Serial`]: when the last queued prefix is programmed.
    busy_until: Instant,
}

/// Every router's route-install state.
#[derive(Debug, Clone)]
pub(crate) struct Install {
    queues: Vec<Queue>,
}

/// BIRD's loop sleeps until "tm_remains(t) TO_MS + 1": a millisecond past the next timer.
const PAST_TIMER: Duration = Duration::from_millis(1);

impl Install {
    /// One queue per router, with its profile's model.
    pub(crate) fn new(models: impl IntoIterator<Item = RouteInstall>) -> Self {
        Self {
            queues: models
                .into_iter()
                .map(|model| Queue {
                    model,
                    waiting: VecDeque::new(),
                    timer: None,
                    busy_until: Instant::ZERO,
                })
                .collect(),
        }
    }

    /// When a batch router `r` makes now reaches its FIB: `None` at once. `timer_driven`: the
    /// batch comes from one of the router's BGP timers; `next_timer`: its next BGP timer after
    /// this one (for [`RouteInstall::NextWakeUp`]).
    pub(crate) fn due(
        &self,
        r: usize,
        now: Instant,
        timer_driven: bool,
        next_timer: Option<Instant>,
    ) -> Option<Instant> {
        match self.queues.get(r)?.model {
            RouteInstall::Immediate => None,
            RouteInstall::After(d) => (!d.is_zero()).then(|| now + d),
            RouteInstall::NextWakeUp { cap } if timer_driven => {
                let wake =
                    next_timer.map_or(now + cap, |t| (t.max(now) + PAST_TIMER).min(now + cap));
                Some(wake)
            }
            RouteInstall::NextWakeUp { .. } => None,
            RouteInstall::Serial { base, per_prefix } => Some(now + base + per_prefix),
        }
    }

    /// The batches `changes` of router `r`, made now, wait as: one batch for every model but
    /// [`RouteInstall::Serial`], which programs them one at a time behind what is already
    /// queued (one batch per prefix); `Err(changes)` when they go into the FIB at once.
    pub(crate) fn batches(
        &mut self,
        r: usize,
        now: Instant,
        timer_driven: bool,
        next_timer: Option<Instant>,
        changes: Vec<(IpNet, Vec<SessIx>)>,
    ) -> Result<Vec<Batch>, Vec<(IpNet, Vec<SessIx>)>> {
        let Some(q) = self.queues.get_mut(r) else {
            return Err(changes);
        };
        if let RouteInstall::Serial { base, per_prefix } = q.model {
            let mut t = q.busy_until.max(now + base);
            let out = changes
                .into_iter()
                .map(|c| {
                    t += per_prefix;
                    Batch {
                        due: t,
                        changes: vec![c],
                    }
                })
                .collect();
            q.busy_until = t;
            return Ok(out);
        }
        match self.due(r, now, timer_driven, next_timer) {
            Some(due) => Ok(vec![Batch { due, changes }]),
            None => Err(changes),
        }
    }

    /// Queues a batch of router `r`; returns the instant its `Ev::Install` must run at, if
    /// that changed (the caller schedules it and records it with [`Self::scheduled`]).
    pub(crate) fn push(&mut self, r: usize, batch: Batch) -> Option<Instant> {
        let q = self.queues.get_mut(r)?;
        q.waiting.push_back(batch);
        let next = q.next_due()?;
        match q.timer {
            Some((t, _)) if t <= next => None,
            _ => Some(next),
        }
    }

    /// Records the engine event scheduled for router `r`; returns the one it replaces, which
    /// the caller cancels.
    pub(crate) fn scheduled(&mut self, r: usize, at: Instant, id: EventId) -> Option<EventId> {
        let q = self.queues.get_mut(r)?;
        q.timer.replace((at, id)).map(|(_, old)| old)
    }

    /// The batches of router `r` to install now: at its `Ev::Install` event (`wake == false`),
    /// those due; at a wake-up of a [`RouteInstall::NextWakeUp`] loop (`wake == true`: the
    /// router received BGP input, or one of its BGP timers fired), all of them. Returns the
    /// batches, oldest first, and the event to cancel when none is left waiting.
    pub(crate) fn take(
        &mut self,
        r: usize,
        now: Instant,
        wake: bool,
    ) -> (Vec<Batch>, Option<EventId>) {
        let Some(q) = self.queues.get_mut(r) else {
            return (Vec::new(), None);
        };
        let all = wake && matches!(q.model, RouteInstall::NextWakeUp { .. });
        let mut out = Vec::new();
        while let Some(b) = q.waiting.front() {
            if !all && b.due > now {
                break;
            }
            out.extend(q.waiting.pop_front());
        }
        let cancel = if q.waiting.is_empty() {
            q.timer.take().map(|(_, id)| id)
        } else {
            None
        };
        (out, cancel)
    }

    /// The instant of router `r`'s next waiting batch, if any.
    pub(crate) fn next_due(&self, r: usize) -> Option<Instant> {
        self.queues.get(r)?.next_due()
    }

    /// Router `r`'s `Ev::Install` ran: it is no longer scheduled.
    pub(crate) fn fired(&mut self, r: usize) {
        if let Some(q) = self.queues.get_mut(r) {
            q.timer = None;
        }
    }

    /// Router `r` crashed: what it had not installed is lost with it. Returns the event to
    /// cancel.
    pub(crate) fn discard(&mut self, r: usize) -> Option<EventId> {
        let q = self.queues.get_mut(r)?;
        q.waiting.clear();
        q.busy_until = Instant::ZERO;
        q.timer.take().map(|(_, id)| id)
    }
}

impl Queue {
    fn next_due(&self) -> Option<Instant> {
        self.waiting.iter().map(|b| b.due).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Instant {
        Instant::ZERO + Duration::from_millis(ms)
    }

    #[test]
    fn each_model_gives_its_due_time() {
        let i = Install::new([
            RouteInstall::Immediate,
            RouteInstall::After(Duration::from_millis(70)),
            RouteInstall::NextWakeUp {
                cap: Duration::from_secs(3),
            },
        ]);
        let now = at(1000);
        assert_eq!(i.due(0, now, true, Some(at(1500))), None);
        assert_eq!(i.due(1, now, false, None), Some(at(1070)));
        assert_eq!(i.due(1, now, true, None), Some(at(1070)));
        // BIRD: from input at once; from a timer at the next timer + 1 ms, at most 3 s.
        assert_eq!(i.due(2, now, false, Some(at(1500))), None);
        assert_eq!(i.due(2, now, true, Some(at(1500))), Some(at(1501)));
        assert_eq!(i.due(2, now, true, Some(at(9000))), Some(at(4000)));
        assert_eq!(i.due(2, now, true, None), Some(at(4000)));
    }

    #[test]
    fn a_serial_fib_programs_one_prefix_after_another_behind_its_queue() {
        let p = |n: u8| -> (IpNet, Vec<SessIx>) {
            (
                IpNet::V4(ipnet::Ipv4Net::new([10, n, 0, 0].into(), 16).expect("prefix")),
                Vec::new(),
            )
        };
        let mut i = Install::new([RouteInstall::Serial {
            base: Duration::from_millis(10),
            per_prefix: Duration::from_millis(2),
        }]);
        let due = |b: &[Batch]| b.iter().map(|b| b.due).collect::<Vec<_>>();
        let first = i
            .batches(0, at(1000), false, None, vec![p(1), p(2), p(3)])
            .expect("queued");
        assert_eq!(due(&first), [at(1012), at(1014), at(1016)]);
        // A change 1 ms later waits for the three before it.
        let second = i
            .batches(0, at(1001), false, None, vec![p(4)])
            .expect("queued");
        assert_eq!(due(&second), [at(1018)]);
        // Once the queue has drained, only the base latency is left.
        let third = i
            .batches(0, at(5000), false, None, vec![p(5)])
            .expect("queued");
        assert_eq!(due(&third), [at(5012)]);
        // Other models keep one batch, or none when installed at once.
        let mut j = Install::new([RouteInstall::Immediate]);
        assert!(j.batches(0, at(1000), false, None, vec![p(1)]).is_err());
    }

    #[test]
    fn a_wake_up_takes_everything_waiting_only_in_the_loop_model() {
        let mut i = Install::new([
            RouteInstall::After(Duration::from_millis(70)),
            RouteInstall::NextWakeUp {
                cap: Duration::from_secs(3),
            },
        ]);
        for r in 0..2 {
            let batch = Batch {
                due: at(2000),
                changes: Vec::new(),
            };
            assert_eq!(i.push(r, batch), Some(at(2000)));
        }
        assert_eq!(
            i.take(0, at(1000), true).0.len(),
            0,
            "a constant delay is kept"
        );
        assert_eq!(
            i.take(1, at(1000), true).0.len(),
            1,
            "the loop ran its events"
        );
        assert_eq!(i.take(0, at(2000), false).0.len(), 1);
        assert_eq!(i.next_due(0), None);
    }
}
