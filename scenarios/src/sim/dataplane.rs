//! The data plane: what each router forwards where, and exactly when each flow is lost.
//!
//! Users ask "how long did my users lose traffic, in each direction?". A sampled ping answers
//! that only to the sampling interval; here the answer is exact. Forwarding can change only at
//! an event (a FIB update, a link state change), so the driver walks every flow again
//! ([`Plane::walk`]) after every such event, and each [`FlowMeter`] records the exact instants
//! at which its flow stopped and started reaching its destination. Probe packets "like `ping -i 0.01`" are then counted
//! from those intervals without simulating each probe as an event: a probe sent at `t` is lost
//! exactly when `t` falls inside an outage interval ([`FlowMeter::probes_lost`]).
//!
//! # Contracts
//!
//! - A router forwards by longest-prefix match over its FIB; among equal-cost next hops it
//!   picks one per flow by a hash of the flow and the router (per-flow ECMP, as Azure and most
//!   routers do), so a flow does not reorder and different routers do not polarise.
//! - An adjacency is usable only while every segment of its link carries frames in that
//!   direction. A router that has not yet noticed a silent failure still forwards into it:
//!   that is the blackhole that the hold timer or BFD decides the length of.
//! - Loops are cut after [`MAX_HOPS`] hops and count as loss (a TTL expiry).
//! - Capacity is a fluid model ([`Plane::congestion`]): each direction of a segment with a
//!   bandwidth is a resource; flows with an offered rate load every resource on their path;
//!   where the load exceeds the capacity, each flow keeps the share `capacity / load` of what
//!   arrives there (tail drop, proportional to the offered rates). Drops upstream lighten the
//!   load downstream; the rates are exact integers (bits per second), so the result is
//!   deterministic. Forwarding changes only at events, so the drop rates are piecewise
//!   constant and the bytes dropped are their exact integral over time.

use std::collections::BTreeMap;
use std::net::IpAddr;

use ipnet::IpNet;
use serde::Serialize;
use sim_core::time::{Duration, Instant};

/// Hops after which a packet is considered looping (IP TTL 64).
pub const MAX_HOPS: usize = 64;

/// Index of a router in the plane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RouterIx(pub u32);

/// Index of an adjacency (a router's interface towards one neighbour).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AdjIx(pub u32);

/// Index of a capacity-limited resource: one direction of one segment that has a bandwidth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ResIx(pub u32);

/// Why a packet of a flow did not arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// The router had no route to the destination.
    NoRoute {
        /// Where the packet was dropped.
        at: RouterIx,
    },
    /// The chosen next hop's link does not carry frames (down, or silently failed).
    Blackhole {
        /// The router that forwarded into the failed link.
        at: RouterIx,
        /// The adjacency it used.
        adj: AdjIx,
    },
    /// The packet exceeded [`MAX_HOPS`].
    Loop,
}

/// The result of walking one flow through the plane.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Walk {
    /// Delivered; the routers traversed, ingress first.
    Delivered(Vec<RouterIx>),
    /// Lost.
    Lost(Loss),
}

impl Walk {
    /// Whether the packet arrived.
    #[must_use]
    pub const fn delivered(&self) -> bool {
        matches!(self, Self::Delivered(_))
    }
}

/// One adjacency: the router at `from` can send to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Adjacency {
    from: RouterIx,
    to: RouterIx,
    /// Every segment carries frames in this direction.
    usable: bool,
    /// The capacity-limited resources this adjacency crosses, in travel order.
    res: Vec<ResIx>,
}

/// A flow: packets from an ingress router to a destination address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Flow {
    /// A readable name, e.g. `onprem->vnet#0`.
    pub name: String,
    /// The router where packets enter the network.
    pub ingress: RouterIx,
    /// The destination address.
    pub dst: IpAddr,
    /// Hash of the flow's 5-tuple, used for per-flow ECMP.
    pub hash: u64,
}

/// One router's FIB: prefix → equal-cost next hops, and how many prefixes of each length it
/// holds, so that a longest-prefix match probes only the lengths present (a handful) instead
/// of all 33 (or 129).
#[derive(Debug, Clone, Default)]
struct Fib {
    routes: BTreeMap<IpNet, Vec<AdjIx>>,
    /// Prefixes per length, indexed by prefix length (0..=128).
    per_len: Vec<u32>,
}

impl Fib {
    fn count(&mut self, prefix: &IpNet, add: bool) {
        let len = usize::from(prefix.prefix_len());
        if self.per_len.len() <= len {
            self.per_len.resize(len + 1, 0);
        }
        if let Some(c) = self.per_len.get_mut(len) {
            *c = if add { *c + 1 } else { c.saturating_sub(1) };
        }
    }

    fn insert(&mut self, prefix: IpNet, hops: Vec<AdjIx>) {
        if self.routes.insert(prefix, hops).is_none() {
            self.count(&prefix, true);
        }
    }

    fn remove(&mut self, prefix: &IpNet) -> bool {
        let gone = self.routes.remove(prefix).is_some();
        if gone {
            self.count(prefix, false);
        }
        gone
    }
}

/// Forwarding state of every router, plus adjacency usability.
#[derive(Debug, Clone, Default)]
pub struct Plane {
    adjs: Vec<Adjacency>,
    /// Per router: prefix → equal-cost next hops (sorted, so the choice is deterministic).
    fibs: Vec<Fib>,
    /// Per router: prefixes delivered locally (connected networks, VNet address space).
    local: Vec<Vec<IpNet>>,
    /// Per resource: its capacity in bits per second.
    capacity: Vec<u64>,
}

/// One flow's offered load, for [`Plane::congestion`].
#[derive(Debug, Clone, Copy)]
pub struct Load<'f> {
    /// The flow.
    pub flow: &'f Flow,
    /// What it offers, in bits per second.
    pub rate_bps: u64,
}

/// What [`Plane::congestion`] found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Congestion {
    /// Per load (same order): bits per second dropped by congestion. A flow that is lost
    /// anyway (no route, blackhole) drops nothing here: its traffic is an outage.
    pub dropped_bps: Vec<u64>,
    /// Overloaded resources: (resource, offered bits per second arriving there, capacity).
    pub overloaded: Vec<(ResIx, u64, u64)>,
}

impl Plane {
    /// An empty plane.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a router and returns its index.
    pub fn add_router(&mut self) -> RouterIx {
        self.fibs.push(Fib::default());
        self.local.push(Vec::new());
        RouterIx(u32::try_from(self.fibs.len() - 1).unwrap_or(u32::MAX))
    }

    /// Adds an adjacency `from → to`, initially usable.
    pub fn add_adjacency(&mut self, from: RouterIx, to: RouterIx) -> AdjIx {
        self.adjs.push(Adjacency {
            from,
            to,
            usable: true,
            res: Vec::new(),
        });
        AdjIx(u32::try_from(self.adjs.len() - 1).unwrap_or(u32::MAX))
    }

    /// Adds a resource of `capacity_bps` bits per second (one direction of a segment).
    pub fn add_resource(&mut self, capacity_bps: u64) -> ResIx {
        self.capacity.push(capacity_bps);
        ResIx(u32::try_from(self.capacity.len() - 1).unwrap_or(u32::MAX))
    }

    /// Changes the capacity of resource `res` (a circuit resized): the next congestion
    /// computation uses it.
    pub fn set_capacity(&mut self, res: ResIx, capacity_bps: u64) {
        if let Some(c) = self.capacity.get_mut(res.0 as usize) {
            *c = capacity_bps;
        }
    }

    /// Records that traffic over `adj` crosses `res` (call in travel order).
    pub fn bind(&mut self, adj: AdjIx, res: ResIx) {
        if let Some(a) = self.adjs.get_mut(adj.0 as usize)
            && (res.0 as usize) < self.capacity.len()
        {
            a.res.push(res);
        }
    }

    /// Whether any resource exists (no capacity model otherwise).
    #[must_use]
    pub fn has_resources(&self) -> bool {
        !self.capacity.is_empty()
    }

    /// Marks a router as the final destination for `prefix`.
    pub fn add_local(&mut self, router: RouterIx, prefix: IpNet) {
        if let Some(l) = self.local.get_mut(router.0 as usize) {
            l.push(prefix);
        }
    }

    /// Sets whether an adjacency carries frames; returns whether that changed anything.
    pub fn set_usable(&mut self, adj: AdjIx, usable: bool) -> bool {
        match self.adjs.get_mut(adj.0 as usize) {
            Some(a) if a.usable != usable => {
                a.usable = usable;
                true
            }
            _ => false,
        }
    }

    /// Replaces the next hops of `prefix` at `router` (an empty set removes the route). Returns
    /// whether the FIB changed.
    pub fn set_route(
        &mut self,
        router: RouterIx,
        prefix: IpNet,
        mut next_hops: Vec<AdjIx>,
    ) -> bool {
        let Some(fib) = self.fibs.get_mut(router.0 as usize) else {
            return false;
        };
        next_hops.sort_unstable();
        next_hops.dedup();
        if next_hops.is_empty() {
            fib.remove(&prefix)
        } else if fib.routes.get(&prefix) == Some(&next_hops) {
            false
        } else {
            fib.insert(prefix, next_hops);
            true
        }
    }

    /// The next hops `router` currently has for exactly `prefix`.
    #[must_use]
    pub fn route(&self, router: RouterIx, prefix: &IpNet) -> &[AdjIx] {
        self.fibs
            .get(router.0 as usize)
            .and_then(|f| f.routes.get(prefix))
            .map_or(&[], Vec::as_slice)
    }

    /// Longest-prefix match of `dst` in `router`'s FIB.
    fn lookup(&self, router: RouterIx, dst: IpAddr) -> Option<&[AdjIx]> {
        let fib = self.fibs.get(router.0 as usize)?;
        // The FIBs of this model are small (tens to a few thousand prefixes) and hold few
        // distinct lengths; an exact lookup per length present, longest first, keeps this
        // exact without a trie.
        let max: usize = if dst.is_ipv4() { 32 } else { 128 };
        let lens = fib
            .per_len
            .get(..=max.min(fib.per_len.len().saturating_sub(1)))?;
        lens.iter()
            .enumerate()
            .rev()
            .filter(|(_, n)| **n > 0)
            .find_map(|(len, _)| {
                let net = IpNet::new(dst, u8::try_from(len).ok()?).ok()?.trunc();
                fib.routes.get(&net).map(Vec::as_slice)
            })
    }

    /// The prefix of `router`'s FIB that `dst` matches longest, if any.
    #[must_use]
    pub fn matched_prefix(&self, router: RouterIx, dst: IpAddr) -> Option<IpNet> {
        let fib = self.fibs.get(router.0 as usize)?;
        let max: usize = if dst.is_ipv4() { 32 } else { 128 };
        (0..=max.min(fib.per_len.len().saturating_sub(1)))
            .rev()
            .filter(|len| fib.per_len.get(*len).is_some_and(|n| *n > 0))
            .find_map(|len| {
                let net = IpNet::new(dst, u8::try_from(len).ok()?).ok()?.trunc();
                fib.routes.contains_key(&net).then_some(net)
            })
    }

    fn is_local(&self, router: RouterIx, dst: IpAddr) -> bool {
        self.local
            .get(router.0 as usize)
            .is_some_and(|l| l.iter().any(|p| p.contains(&dst)))
    }

    /// Walks one packet of `flow` through the current forwarding state.
    #[must_use]
    pub fn walk(&self, flow: &Flow) -> Walk {
        let mut path = Vec::with_capacity(8);
        match self.trace(flow, &mut path, |_, _| {}) {
            Ok(()) => Walk::Delivered(path),
            Err(loss) => Walk::Lost(loss),
        }
    }

    /// Like [`Plane::walk`], also collecting into `adjs` every adjacency the flow crosses (in
    /// travel order, cleared first), so a caller can name the links a flow takes.
    pub fn walk_adjs(&self, flow: &Flow, adjs: &mut Vec<AdjIx>) -> Walk {
        adjs.clear();
        let mut path = Vec::with_capacity(8);
        match self.trace(flow, &mut path, |ix, _| adjs.push(ix)) {
            Ok(()) => Walk::Delivered(path),
            Err(loss) => Walk::Lost(loss),
        }
    }

    /// Follows `flow` hop by hop, pushing the routers traversed onto `path` and calling
    /// `on_adj` for every adjacency crossed.
    fn trace(
        &self,
        flow: &Flow,
        path: &mut Vec<RouterIx>,
        mut on_adj: impl FnMut(AdjIx, &Adjacency),
    ) -> Result<(), Loss> {
        let mut at = flow.ingress;
        for _ in 0..MAX_HOPS {
            path.push(at);
            if self.is_local(at, flow.dst) {
                return Ok(());
            }
            let Some(hops) = self.lookup(at, flow.dst).filter(|h| !h.is_empty()) else {
                return Err(Loss::NoRoute { at });
            };
            let adj_ix = hops[ecmp_index(flow.hash, at, hops.len())];
            let Some(adj) = self.adjs.get(adj_ix.0 as usize) else {
                return Err(Loss::NoRoute { at });
            };
            if !adj.usable {
                return Err(Loss::Blackhole { at, adj: adj_ix });
            }
            debug_assert_eq!(
                adj.from, at,
                "next hop adjacency must leave the forwarding router"
            );
            on_adj(adj_ix, adj);
            at = adj.to;
        }
        Err(Loss::Loop)
    }

    /// The fluid capacity model (see the module docs): what each load loses to congestion
    /// under the current forwarding state, and which resources are overloaded.
    #[must_use]
    pub fn congestion(&self, loads: &[Load<'_>]) -> Congestion {
        // Each load's resources in travel order, and whether it is delivered at all.
        let mut paths: Vec<(Vec<usize>, bool)> = Vec::with_capacity(loads.len());
        let mut scratch = Vec::new();
        for l in loads {
            let mut res = Vec::new();
            scratch.clear();
            let ok = self
                .trace(l.flow, &mut scratch, |_, a| {
                    res.extend(a.res.iter().map(|r| r.0 as usize));
                })
                .is_ok();
            paths.push((res, ok));
        }
        // Fixed point: arriving rates give loads, loads give the share each resource passes,
        // shares give the arriving rates. Rates only fall from one round to the next and the
        // resource graph of a path is feed-forward, so this settles within as many rounds as
        // a path has resources; the bound is only a guard.
        let n = self.capacity.len();
        let mut load = vec![0u64; n];
        let mut prev: Option<Vec<u64>> = None;
        let max_rounds = paths.iter().map(|(r, _)| r.len()).max().unwrap_or(0) + 2;
        for _ in 0..max_rounds {
            let mut next = vec![0u64; n];
            for ((res, _), l) in paths.iter().zip(loads) {
                let mut x = l.rate_bps;
                for &r in res {
                    next[r] = next[r].saturating_add(x);
                    x = pass(x, self.capacity[r], load[r]);
                }
            }
            load = next;
            if prev.as_ref() == Some(&load) {
                break;
            }
            prev = Some(load.clone());
        }
        let dropped_bps = paths
            .iter()
            .zip(loads)
            .map(|((res, ok), l)| {
                if !ok {
                    return 0;
                }
                let out = res
                    .iter()
                    .fold(l.rate_bps, |x, &r| pass(x, self.capacity[r], load[r]));
                l.rate_bps - out
            })
            .collect();
        let overloaded = load
            .iter()
            .enumerate()
            .filter(|&(r, &ld)| ld > self.capacity[r])
            .map(|(r, &ld)| {
                (
                    ResIx(u32::try_from(r).unwrap_or(u32::MAX)),
                    ld,
                    self.capacity[r],
                )
            })
            .collect();
        Congestion {
            dropped_bps,
            overloaded,
        }
    }
}

/// What of `x` bits per second passes a resource of capacity `cap` loaded with `load`:
/// all of it below capacity, else the share `cap / load` (rounded down).
fn pass(x: u64, cap: u64, load: u64) -> u64 {
    if load <= cap || load == 0 {
        x
    } else {
        u64::try_from(u128::from(x) * u128::from(cap) / u128::from(load)).unwrap_or(x)
    }
}

/// Per-flow ECMP choice: a hash of the flow mixed with the router, so that consecutive routers
/// make independent choices (no polarisation).
fn ecmp_index(flow_hash: u64, router: RouterIx, n: usize) -> usize {
    let mut x = flow_hash ^ u64::from(router.0).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    // splitmix64 finaliser: fixed, version-stable mixing.
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    // `n` is at least 1 and small; the modulo bias is irrelevant here.
    usize::try_from(x % n as u64).unwrap_or(0)
}

/// An interval during which a flow was lost, with the first cause seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outage {
    /// First instant at which packets were lost.
    pub from: Instant,
    /// First instant at which packets arrived again (or the end of the run).
    pub to: Instant,
    /// Why packets were lost when the outage began.
    pub cause: Loss,
    /// Whether the outage was still going on when the run ended.
    pub open: bool,
}

impl Outage {
    /// Length of the outage.
    #[must_use]
    pub fn duration(&self) -> Duration {
        self.to - self.from
    }
}

/// Records the exact outage intervals of one flow inside the measurement window.
///
/// Before [`FlowMeter::arm`] (the window's start, chosen by the measurement model in
/// `sim::measure`) the meter only notes whether the flow has ever been delivered; from the
/// window's start on, every instant the flow is not delivered is part of an outage, including
/// a flow that is undeliverable when the window opens (its outage starts there) and one that
/// is never delivered at all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
pub struct FlowMeter {
    /// Closed outages, in time order.
    outages: Vec<Outage>,
    /// The outage in progress, if any.
    current: Option<(Instant, Loss)>,
    /// The window's start, once armed.
    since: Option<Instant>,
    /// Delivered at some instant since the window started.
    delivered_in_window: bool,
    /// Delivered at some instant, before or after the window started.
    ever_delivered: bool,
}

impl FlowMeter {
    /// A meter that waits for [`FlowMeter::arm`].
    #[must_use]
    pub const fn new() -> Self {
        Self {
            outages: Vec::new(),
            current: None,
            since: None,
            delivered_in_window: false,
            ever_delivered: false,
        }
    }

    /// Opens the measurement window at `now`, with `walk` the flow's state at that moment: a
    /// flow lost now is in outage from `now`. A second call changes nothing.
    pub fn arm(&mut self, now: Instant, walk: &Walk) {
        if self.since.is_some() {
            return;
        }
        self.since = Some(now);
        match walk {
            Walk::Lost(cause) => self.current = Some((now, *cause)),
            Walk::Delivered(_) => {
                self.delivered_in_window = true;
                self.ever_delivered = true;
            }
        }
    }

    /// Records the flow's state as of `now`. Returns `Some(true)` when the flow just recovered,
    /// `Some(false)` when it was just lost, `None` when nothing changed or the window has not
    /// opened yet.
    pub fn observe(&mut self, now: Instant, walk: &Walk) -> Option<bool> {
        if walk.delivered() {
            self.ever_delivered = true;
        }
        self.since?;
        match (walk, self.current) {
            (Walk::Lost(cause), None) => {
                self.current = Some((now, *cause));
                Some(false)
            }
            (Walk::Delivered(_), Some((from, cause))) => {
                self.current = None;
                self.delivered_in_window = true;
                if now > from {
                    self.outages.push(Outage {
                        from,
                        to: now,
                        cause,
                        open: false,
                    });
                }
                Some(true)
            }
            (Walk::Delivered(_), None) => {
                self.delivered_in_window = true;
                None
            }
            (Walk::Lost(_), Some(_)) => None,
        }
    }

    /// Whether the measurement window has opened for this flow.
    #[must_use]
    pub const fn armed(&self) -> bool {
        self.since.is_some()
    }

    /// Whether the flow has been delivered at any instant so far (window or not).
    #[must_use]
    pub const fn ever_delivered(&self) -> bool {
        self.ever_delivered
    }

    /// Whether the flow has been delivered at any instant since the window opened.
    #[must_use]
    pub const fn delivered_in_window(&self) -> bool {
        self.delivered_in_window
    }

    /// Whether the flow is lost right now (inside the window).
    #[must_use]
    pub const fn is_lost(&self) -> bool {
        self.current.is_some()
    }

    /// All outages, an outage still in progress at `end` marked `open` and cut at `end`.
    #[must_use]
    pub fn outages(&self, end: Instant) -> Vec<Outage> {
        let mut all = self.outages.clone();
        if let Some((from, cause)) = self.current
            && end > from
        {
            all.push(Outage {
                from,
                to: end,
                cause,
                open: true,
            });
        }
        all
    }

    /// Total time lost up to `end`.
    #[must_use]
    pub fn total(&self, end: Instant) -> Duration {
        self.outages(end)
            .iter()
            .map(Outage::duration)
            .fold(Duration::ZERO, |a, b| a + b)
    }

    /// Probes lost up to `end` for a probe stream sending at `start`, `start + interval`, … :
    /// a probe is lost exactly when its send time falls in an outage `[from, to)`.
    #[must_use]
    pub fn probes_lost(&self, start: Instant, interval: Duration, end: Instant) -> u64 {
        self.outages(end)
            .iter()
            .map(|o| probes_in(start, interval, o.from.max(start), o.to.min(end)))
            .sum()
    }
}

/// Number of probe send times `start + k·interval` (k ≥ 0) in `[from, to)`.
#[must_use]
pub fn probes_in(start: Instant, interval: Duration, from: Instant, to: Instant) -> u64 {
    if to <= from || interval.is_zero() || to <= start {
        return 0;
    }
    let iv = interval.as_nanos();
    // First k with start + k·iv ≥ x is ceil((x − start) / iv).
    let first = |x: Instant| (x.as_nanos().saturating_sub(start.as_nanos())).div_ceil(iv);
    first(to) - first(from.max(start))
}

/// Integrates congestion drop rates over time into bytes, per direction: the rates are
/// piecewise constant between observations, so the integral is exact.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DropMeter {
    /// Since when the current rates hold (`None`: not measuring yet).
    since: Option<Instant>,
    /// Current drop rate per direction, bits per second.
    rates: BTreeMap<String, u64>,
    /// Accumulated bit·nanoseconds per direction.
    bit_ns: BTreeMap<String, u128>,
}

impl DropMeter {
    /// Starts or continues measuring: from `now` on, `rates` (bits per second per direction)
    /// hold until the next call.
    pub fn observe(&mut self, now: Instant, rates: BTreeMap<String, u64>) {
        self.close(now);
        for d in rates.keys() {
            self.bit_ns.entry(d.clone()).or_insert(0);
        }
        self.rates = rates;
        self.since = Some(now);
    }

    fn close(&mut self, now: Instant) {
        if let Some(since) = self.since {
            let dt = u128::from(now.as_nanos().saturating_sub(since.as_nanos()));
            for (d, &r) in &self.rates {
                *self.bit_ns.entry(d.clone()).or_insert(0) += u128::from(r) * dt;
            }
            self.since = Some(now);
        }
    }

    /// Whether measuring has begun.
    #[must_use]
    pub const fn started(&self) -> bool {
        self.since.is_some()
    }

    /// Bytes dropped per direction up to `end` (every direction ever observed, zeros too).
    #[must_use]
    pub fn bytes(&self, end: Instant) -> BTreeMap<String, u64> {
        let mut m = self.clone();
        m.close(end);
        m.bit_ns
            .into_iter()
            .map(|(d, b)| (d, u64::try_from(b / 8_000_000_000).unwrap_or(u64::MAX)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    /// onprem(0) → ce1(1)/ce2(2) → msee(3) → vnet(4)
    fn diamond() -> (Plane, [RouterIx; 5], [AdjIx; 4]) {
        let mut p = Plane::new();
        let r = [
            p.add_router(),
            p.add_router(),
            p.add_router(),
            p.add_router(),
            p.add_router(),
        ];
        let a = [
            p.add_adjacency(r[0], r[1]),
            p.add_adjacency(r[0], r[2]),
            p.add_adjacency(r[1], r[3]),
            p.add_adjacency(r[2], r[3]),
        ];
        let vnet = p.add_adjacency(r[3], r[4]);
        p.add_local(r[4], net("10.1.0.0/16"));
        p.set_route(r[0], net("10.1.0.0/16"), vec![a[0], a[1]]);
        p.set_route(r[1], net("10.1.0.0/16"), vec![a[2]]);
        p.set_route(r[2], net("10.1.0.0/16"), vec![a[3]]);
        p.set_route(r[3], net("10.0.0.0/8"), vec![vnet]);
        (p, r, a)
    }

    fn flow(ingress: RouterIx, hash: u64) -> Flow {
        Flow {
            name: "f".into(),
            ingress,
            dst: "10.1.2.3".parse().unwrap(),
            hash,
        }
    }

    #[test]
    fn delivers_along_longest_prefix_match() {
        let (mut p, r, _) = diamond();
        assert!(p.walk(&flow(r[0], 1)).delivered());
        // A more specific route at the MSEE pointing nowhere usable wins over the /8.
        let dead = p.add_adjacency(r[3], r[1]);
        p.set_usable(dead, false);
        p.set_route(r[3], net("10.1.2.0/24"), vec![dead]);
        assert_eq!(
            p.walk(&flow(r[0], 1)),
            Walk::Lost(Loss::Blackhole {
                at: r[3],
                adj: dead
            })
        );
    }

    #[test]
    fn matched_prefix_is_the_longest_route_containing_the_address() {
        let (mut p, r, a) = diamond();
        let dst: IpAddr = "10.1.2.3".parse().unwrap();
        assert_eq!(p.matched_prefix(r[3], dst), Some(net("10.0.0.0/8")));
        p.set_route(r[3], net("10.1.0.0/16"), vec![a[2]]);
        assert_eq!(p.matched_prefix(r[3], dst), Some(net("10.1.0.0/16")));
        p.set_route(r[3], net("0.0.0.0/0"), vec![a[2]]);
        assert_eq!(p.matched_prefix(r[3], dst), Some(net("10.1.0.0/16")));
        assert_eq!(
            p.matched_prefix(r[3], "192.0.2.1".parse().unwrap()),
            Some(net("0.0.0.0/0"))
        );
        assert_eq!(p.matched_prefix(r[4], dst), None, "no FIB entry at all");
    }

    #[test]
    fn ecmp_spreads_flows_and_keeps_each_flow_on_one_path() {
        let (p, r, _) = diamond();
        let mut via = BTreeMap::new();
        for h in 0..200u64 {
            let Walk::Delivered(path) = p.walk(&flow(r[0], h)) else {
                panic!("lost")
            };
            assert_eq!(
                p.walk(&flow(r[0], h)),
                Walk::Delivered(path.clone()),
                "per-flow stable"
            );
            *via.entry(path[1]).or_insert(0) += 1;
        }
        assert_eq!(via.len(), 2, "both CEs carry flows");
        assert!(via.values().all(|&n| n > 60), "roughly even: {via:?}");
    }

    #[test]
    fn silent_failure_blackholes_until_the_route_moves() {
        let (mut p, r, a) = diamond();
        // Find a flow that uses ce1.
        let f = (0..100)
            .map(|h| flow(r[0], h))
            .find(|f| matches!(p.walk(f), Walk::Delivered(ref path) if path[1] == r[1]))
            .unwrap();
        p.set_usable(a[2], false);
        assert_eq!(
            p.walk(&f),
            Walk::Lost(Loss::Blackhole {
                at: r[1],
                adj: a[2]
            })
        );
        // onprem withdraws the ce1 path: traffic moves to ce2.
        p.set_route(r[0], net("10.1.0.0/16"), vec![a[1]]);
        assert!(p.walk(&f).delivered());
        // No route at all.
        p.set_route(r[0], net("10.1.0.0/16"), vec![]);
        assert_eq!(p.walk(&f), Walk::Lost(Loss::NoRoute { at: r[0] }));
    }

    #[test]
    fn loops_are_cut() {
        let mut p = Plane::new();
        let a = p.add_router();
        let b = p.add_router();
        let ab = p.add_adjacency(a, b);
        let ba = p.add_adjacency(b, a);
        p.set_route(a, net("0.0.0.0/0"), vec![ab]);
        p.set_route(b, net("0.0.0.0/0"), vec![ba]);
        assert_eq!(p.walk(&flow(a, 0)), Walk::Lost(Loss::Loop));
    }

    #[test]
    fn meter_records_exact_intervals_and_counts_probes() {
        let s = Instant::from_nanos;
        let mut m = FlowMeter::new();
        let lost = Walk::Lost(Loss::Loop);
        let ok = Walk::Delivered(vec![]);
        // Before the window opens nothing counts.
        assert_eq!(m.observe(s(0), &lost), None);
        m.arm(s(0), &ok);
        assert_eq!(m.observe(s(0), &ok), None);
        assert_eq!(m.observe(s(1_000), &lost), Some(false));
        assert_eq!(m.observe(s(1_500), &lost), None);
        assert_eq!(m.observe(s(3_000), &ok), Some(true));
        assert_eq!(m.observe(s(9_000), &lost), Some(false));
        let end = s(10_000);
        let o = m.outages(end);
        assert_eq!(o.len(), 2);
        assert_eq!((o[0].from, o[0].to, o[0].open), (s(1_000), s(3_000), false));
        assert_eq!((o[1].from, o[1].to, o[1].open), (s(9_000), end, true));
        assert_eq!(m.total(end), Duration::from_nanos(3_000));
        // Probes every 100 ns from 0: [1000,3000) holds 20, [9000,10000) holds 10.
        assert_eq!(m.probes_lost(s(0), Duration::from_nanos(100), end), 30);
        // Offset start 50: [1000,3000) holds 1050..2950 = 20.
        assert_eq!(
            m.probes_lost(s(50), Duration::from_nanos(100), s(5_000)),
            20
        );
    }

    /// Two parallel 1 Gb/s links between r1 and r3 (one resource each), a shared 1.5 Gb/s
    /// resource behind them.
    fn two_links() -> (Plane, [RouterIx; 3], [AdjIx; 2], [ResIx; 3]) {
        let mut p = Plane::new();
        let r = [p.add_router(), p.add_router(), p.add_router()];
        let a = [p.add_adjacency(r[0], r[1]), p.add_adjacency(r[0], r[1])];
        let b = p.add_adjacency(r[1], r[2]);
        let res = [
            p.add_resource(1_000_000_000),
            p.add_resource(1_000_000_000),
            p.add_resource(1_500_000_000),
        ];
        p.bind(a[0], res[0]);
        p.bind(a[1], res[1]);
        p.bind(b, res[2]);
        p.add_local(r[2], net("10.1.0.0/16"));
        p.set_route(r[0], net("10.1.0.0/16"), vec![a[0], a[1]]);
        p.set_route(r[1], net("10.1.0.0/16"), vec![b]);
        (p, r, a, res)
    }

    #[test]
    fn congestion_is_nothing_below_capacity_and_the_excess_above() {
        let (mut p, r, a, res) = two_links();
        // Two flows that ECMP puts on different links.
        let flows: Vec<Flow> = (0..64).map(|h| flow(r[0], h)).collect();
        let on = |p: &Plane, f: &Flow| {
            let mut first = None;
            let _ = p.trace(f, &mut Vec::new(), |_, adj| {
                first.get_or_insert(adj.res.clone());
            });
            first
        };
        let f0 = flows
            .iter()
            .find(|f| on(&p, f) == Some(vec![res[0]]))
            .unwrap();
        let f1 = flows
            .iter()
            .find(|f| on(&p, f) == Some(vec![res[1]]))
            .unwrap();
        let loads = |x: u64| {
            [
                Load {
                    flow: f0,
                    rate_bps: x,
                },
                Load {
                    flow: f1,
                    rate_bps: x,
                },
            ]
        };
        // 2 × 0.7 Gb/s: each link at 70 %, the shared 1.5 Gb/s at 1.4 → nothing dropped.
        let c = p.congestion(&loads(700_000_000));
        assert_eq!(c.dropped_bps, vec![0, 0]);
        assert!(c.overloaded.is_empty());
        // 2 × 0.8 Gb/s: the shared resource sees 1.6 Gb/s, keeps 1.5: 50 Mb/s lost per flow.
        let c = p.congestion(&loads(800_000_000));
        assert_eq!(c.dropped_bps, vec![50_000_000, 50_000_000]);
        assert_eq!(c.overloaded, vec![(res[2], 1_600_000_000, 1_500_000_000)]);
        // Link a0 fails and routing moves both flows to a1 (1 Gb/s): 1.6 offered, 1.0 passes,
        // and the shared resource downstream is then under its capacity (upstream drops
        // lighten it).
        p.set_usable(a[0], false);
        p.set_route(r[0], net("10.1.0.0/16"), vec![a[1]]);
        let c = p.congestion(&loads(800_000_000));
        assert_eq!(c.dropped_bps, vec![300_000_000, 300_000_000]);
        assert_eq!(c.overloaded, vec![(res[1], 1_600_000_000, 1_000_000_000)]);
        // A flow that is blackholed drops nothing by congestion (it is an outage).
        p.set_route(r[0], net("10.1.0.0/16"), vec![a[0]]);
        let c = p.congestion(&loads(800_000_000));
        assert_eq!(c.dropped_bps, vec![0, 0]);
    }

    #[test]
    fn drop_meter_integrates_piecewise_constant_rates() {
        let s = |ms: u64| Instant::from_nanos(ms * 1_000_000);
        let mut m = DropMeter::default();
        assert!(!m.started());
        m.observe(s(0), BTreeMap::from([("up".to_owned(), 0)]));
        // 8 Mb/s for 500 ms = 500,000 bytes, then 80 Mb/s for 100 ms = 1,000,000 bytes.
        m.observe(s(1_000), BTreeMap::from([("up".to_owned(), 8_000_000)]));
        m.observe(s(1_500), BTreeMap::from([("up".to_owned(), 80_000_000)]));
        assert_eq!(
            m.bytes(s(1_600)),
            BTreeMap::from([("up".to_owned(), 1_500_000)])
        );
        m.observe(s(1_600), BTreeMap::from([("up".to_owned(), 0)]));
        assert_eq!(
            m.bytes(s(9_000)),
            BTreeMap::from([("up".to_owned(), 1_500_000)])
        );
    }

    #[test]
    fn probes_in_handles_edges() {
        let s = Instant::from_nanos;
        let iv = Duration::from_nanos(10);
        assert_eq!(probes_in(s(0), iv, s(0), s(10)), 1);
        assert_eq!(probes_in(s(0), iv, s(0), s(11)), 2);
        assert_eq!(probes_in(s(0), iv, s(5), s(5)), 0);
        assert_eq!(probes_in(s(100), iv, s(0), s(50)), 0);
        assert_eq!(probes_in(s(0), Duration::ZERO, s(0), s(50)), 0);
    }
}
