//! A reusable harness: two TCP [`Endpoint`]s joined by a [`Link`], driven by an [`Engine`].
//!
//! It is the smallest complete driver of the sans-IO pieces and shows the call order every
//! driver follows (quinn-proto's `tests/util.rs` `Pair` plays the same role): after each input,
//! drain `poll_transmit` into the link, schedule each accepted frame's arrival, drain
//! `poll_event`, read what is readable, and re-arm the endpoint's single timer (cancelling the
//! previous one, which the engine does in O(1)).
//!
//! Endpoint `A` is the active opener (port 50000), `B` the listener (port 179). Everything
//! observable is recorded: every segment offered to the link with its outcome ([`SentRecord`]),
//! every endpoint event, the bytes each side read, and a trace whose hash identifies the run.
//! It is used by the TCP tests, the determinism tests and the TCP benchmark.

use crate::engine::Engine;
use crate::link::{Delivery, Direction, DirectionConfig, DropCause, End, Link, Outcome};
use crate::queue::EventId;
use crate::rng::Seed;
use crate::tcp::{Endpoint, Event, Segment, TcpConfig};
use crate::time::Instant;
use crate::trace::{Record, TraceHash, Tracer};

/// Port of the active opener `A`.
pub const PORT_A: u16 = 50_000;
/// Port of the listener `B` (BGP's).
pub const PORT_B: u16 = 179;

/// An engine event of the harness.
#[derive(Debug, Clone)]
pub enum PairEvent {
    /// A segment reaches endpoint `to` (if the link let it survive).
    Arrive {
        /// The receiving end.
        to: End,
        /// The segment.
        seg: Segment,
        /// The link's delivery ticket.
        delivery: Delivery,
    },
    /// The endpoint's timer fires.
    Timer(End),
}

/// One segment offered to the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SentRecord {
    /// When it was sent.
    pub at: Instant,
    /// Who sent it.
    pub from: End,
    /// The segment.
    pub seg: Segment,
    /// `None` if the link accepted it, else why it was dropped at once.
    pub dropped: Option<DropCause>,
}

/// Two endpoints over one link in one engine. See the module doc.
#[derive(Debug)]
pub struct TcpPair {
    /// The engine (its clock is the harness's clock).
    pub engine: Engine<PairEvent>,
    /// The link; `A` is its `A` end.
    pub link: Link,
    /// The active opener.
    pub a: Endpoint,
    /// The listener.
    pub b: Endpoint,
    /// Every segment offered to the link, in order.
    pub sent: Vec<SentRecord>,
    /// Every endpoint event, in order.
    pub events: Vec<(Instant, End, Event)>,
    /// Bytes read by the application at `A` and at `B`.
    pub received: [Vec<u8>; 2],
    /// The run's trace (hash only).
    pub trace: Tracer<std::io::Sink>,
    /// Whether the application at `A` / `B` reads readable bytes (default: both do). Set to
    /// `false` to let a receive buffer fill up.
    pub reading: [bool; 2],
    /// Whether to record `sent`, `events` and the trace (default `true`). Benchmarks turn it
    /// off to measure the engine, link and TCP alone.
    pub logging: bool,
    timers: [Option<(Instant, EventId)>; 2],
}

impl TcpPair {
    /// Endpoints with configs `cfg_a`/`cfg_b`, a link with `link_cfg` both ways; every random
    /// stream (ISNs, loss, jitter) derives from `seed`.
    #[must_use]
    pub fn new(seed: Seed, cfg_a: TcpConfig, cfg_b: TcpConfig, link_cfg: &DirectionConfig) -> Self {
        Self {
            engine: Engine::new(),
            link: Link::symmetric("link", seed, link_cfg),
            a: Endpoint::new(cfg_a, PORT_A, PORT_B, &mut seed.stream_named("tcp/a/isn")),
            b: Endpoint::new(cfg_b, PORT_B, PORT_A, &mut seed.stream_named("tcp/b/isn")),
            sent: Vec::new(),
            events: Vec::new(),
            received: [Vec::new(), Vec::new()],
            trace: Tracer::hash_only(),
            reading: [true, true],
            logging: true,
            timers: [None, None],
        }
    }

    /// `B` listens and `A` connects, now.
    ///
    /// # Panics
    ///
    /// If either endpoint was already opened.
    pub fn open(&mut self) {
        let now = self.engine.now();
        self.b.listen().expect("fresh endpoint listens");
        self.a.connect(now).expect("fresh endpoint connects");
        self.flush(End::A);
        self.flush(End::B);
    }

    /// The endpoint at `end`.
    #[must_use]
    pub const fn endpoint(&self, end: End) -> &Endpoint {
        match end {
            End::A => &self.a,
            End::B => &self.b,
        }
    }

    /// The endpoint at `end`, mutably; call [`TcpPair::flush`] after changing it.
    pub const fn endpoint_mut(&mut self, end: End) -> &mut Endpoint {
        match end {
            End::A => &mut self.a,
            End::B => &mut self.b,
        }
    }

    /// The application at `end` writes `data` (as much as fits); returns the bytes accepted.
    pub fn write(&mut self, end: End, data: &[u8]) -> usize {
        let n = self.endpoint_mut(end).write(data).unwrap_or(0);
        self.flush(end);
        n
    }

    /// Runs the engine until `horizon` (inclusive).
    pub fn run_until(&mut self, horizon: Instant) {
        while self.engine.peek_time().is_some_and(|t| t <= horizon) {
            let Some((now, ev)) = self.engine.step() else {
                break;
            };
            self.dispatch(now, ev);
        }
        self.engine.run_until(horizon, |_, _| {});
    }

    /// The segments sent by `from` that carried payload, as `(time, seq, len)`.
    #[must_use]
    pub fn data_sends(&self, from: End) -> Vec<(Instant, u32, usize)> {
        self.sent
            .iter()
            .filter(|s| s.from == from && !s.seg.payload.is_empty())
            .map(|s| (s.at, s.seg.seq, s.seg.payload.len()))
            .collect()
    }

    /// The trace hash so far.
    #[must_use]
    pub const fn trace_hash(&self) -> TraceHash {
        self.trace.hash()
    }

    fn dispatch(&mut self, now: Instant, ev: PairEvent) {
        match ev {
            PairEvent::Arrive { to, seg, delivery } => {
                let dir = match to {
                    End::A => Direction::BToA,
                    End::B => Direction::AToB,
                };
                if self.link.survives(dir, &delivery) {
                    if self.logging {
                        self.note(now, to, "tcp.recv", &seg);
                    }
                    self.endpoint_mut(to).handle_segment(now, &seg);
                    self.flush(to);
                } else if self.logging {
                    self.note(now, to, "link.lost_in_flight", &seg);
                }
            }
            PairEvent::Timer(end) => {
                let i = index(end);
                // Only the currently armed timer is live: stale ones were cancelled.
                self.timers[i] = None;
                self.endpoint_mut(end).handle_timeout(now);
                self.flush(end);
            }
        }
    }

    /// Drains `end`'s outputs: segments into the link, events, readable bytes, its timer.
    pub fn flush(&mut self, end: End) {
        let now = self.engine.now();
        let dir = Direction::from_end(end);
        let to = match end {
            End::A => End::B,
            End::B => End::A,
        };
        while let Some(seg) = self.endpoint_mut(end).poll_transmit(now) {
            let outcome = self.link.transmit(now, dir, seg.wire_len());
            let dropped = match outcome {
                Outcome::Deliver(_) => None,
                Outcome::Drop(cause) => Some(cause),
            };
            let kind = if dropped.is_some() {
                "link.drop"
            } else {
                "tcp.send"
            };
            if self.logging {
                self.note(now, end, kind, &seg);
                self.sent.push(SentRecord {
                    at: now,
                    from: end,
                    seg: seg.clone(),
                    dropped,
                });
            }
            if let Outcome::Deliver(delivery) = outcome {
                self.engine
                    .schedule_at(delivery.arrive_at, PairEvent::Arrive { to, seg, delivery });
            }
        }
        while let Some(ev) = self.endpoint_mut(end).poll_event() {
            if !self.logging {
                continue;
            }
            self.events.push((now, end, ev));
            let rec = Record::new(now, end_name(end), "tcp.event").with("event", format!("{ev:?}"));
            let _ = self.trace.record(&rec);
        }
        let mut buf = [0_u8; 4096];
        let mut read_any = false;
        while self.reading[index(end)] {
            let n = self.endpoint_mut(end).read(&mut buf);
            if n == 0 {
                break;
            }
            read_any = true;
            self.received[index(end)].extend_from_slice(buf.get(..n).unwrap_or(&[]));
        }
        if read_any {
            // Reading may have reopened the window: send the update it queued.
            self.flush(end);
            return;
        }
        let want = self.endpoint(end).poll_timeout();
        let i = index(end);
        if self.timers[i].map(|(t, _)| t) != want {
            if let Some((_, id)) = self.timers[i].take() {
                self.engine.cancel(id);
            }
            if let Some(t) = want {
                let id = self.engine.schedule_at(t, PairEvent::Timer(end));
                self.timers[i] = Some((t, id));
            }
        }
    }

    fn note(&mut self, now: Instant, node: End, kind: &str, seg: &Segment) {
        let rec = Record::new(now, end_name(node), kind)
            .with("seq", seg.seq)
            .with("ack", seg.ack)
            .with("flags", seg.flags.to_string())
            .with("len", seg.payload.len())
            .with("win", seg.window);
        // The sink never fails and records always serialise.
        let _ = self.trace.record(&rec);
    }
}

const fn index(end: End) -> usize {
    match end {
        End::A => 0,
        End::B => 1,
    }
}

const fn end_name(end: End) -> &'static str {
    match end {
        End::A => "a",
        End::B => "b",
    }
}
