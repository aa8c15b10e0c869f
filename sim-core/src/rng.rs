//! Seeded, independent random streams with hand-written distributions.
//!
//! Every source of randomness in a run (each link direction's loss and jitter, each TCP
//! endpoint's initial sequence number, each speaker's timer jitter) draws from its own
//! [`Stream`], derived from the run's master seed and a [`StreamId`]. Adding a component adds a
//! stream and never perturbs the numbers of another (design.md, principle 3; smoltcp's
//! `tests/netsim.rs` seeds each direction separately).
//!
//! # Derivation (fixed; changing it changes every trace)
//!
//! - Generator: ChaCha with 8 rounds (`rand_chacha::ChaCha8Rng`, 0.9), whose output for a given
//!   key, stream and position is fixed by the cipher itself, not by the crate version.
//! - Key: the master seed's 8 little-endian bytes followed by 24 zero bytes.
//! - Stream: the ChaCha stream (nonce) is the 64-bit [`StreamId`], set with `set_stream`; the
//!   2^64 streams of one key do not overlap.
//! - Named streams: [`StreamId::from_name`] is FNV-1a 64 (offset basis `0xcbf29ce484222325`,
//!   prime `0x100000001b3`) over the name's UTF-8 bytes. It is a fixed function, unlike std's
//!   `DefaultHasher` (SipHash with per-process random keys).
//!
//! # Distributions
//!
//! They are written here, on top of the raw 64-bit output, rather than taken from `rand_distr`,
//! so that a dependency upgrade can never change the values. Transcendental functions (`ln`,
//! `cos`, `exp`) come from the `libm` crate (a port of musl's libm), so results are the same on
//! every platform; the platform's own `f64::ln` may differ in the last bit between C libraries.
//! Each call consumes a fixed number of raw draws (noted per method) except
//! [`Stream::range_u64`], which rejects with probability below `range / 2^64`.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::time::Duration;

/// Identifies one random stream under a master seed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct StreamId(pub u64);

impl StreamId {
    /// The stream id of a component name: FNV-1a 64 over the UTF-8 bytes (see module doc).
    #[must_use]
    pub const fn from_name(name: &str) -> Self {
        Self(fnv1a64(name.as_bytes()))
    }
}

/// FNV-1a 64 of `bytes`: offset basis `0xcbf29ce484222325`, prime `0x100000001b3`.
///
/// Also used for the running trace hash (module `trace`).
#[must_use]
pub const fn fnv1a64(bytes: &[u8]) -> u64 {
    fnv1a64_extend(FNV_OFFSET_BASIS, bytes)
}

/// FNV-1a 64 offset basis.
pub const FNV_OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0100_0000_01b3;

/// Continues an FNV-1a 64 hash in state `hash` over more `bytes`.
#[must_use]
pub const fn fnv1a64_extend(mut hash: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        hash ^= bytes[i] as u64;
        hash = hash.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    hash
}

/// The master seed of a run, from which all streams derive.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Seed(pub u64);

impl Seed {
    /// The stream `id` of this seed.
    #[must_use]
    pub fn stream(self, id: StreamId) -> Stream {
        let mut key = [0_u8; 32];
        let (head, _) = key.split_at_mut(8);
        head.copy_from_slice(&self.0.to_le_bytes());
        let mut inner = ChaCha8Rng::from_seed(key);
        inner.set_stream(id.0);
        Stream { inner }
    }

    /// The stream of the component called `name` (see [`StreamId::from_name`]).
    #[must_use]
    pub fn stream_named(self, name: &str) -> Stream {
        self.stream(StreamId::from_name(name))
    }
}

/// One deterministic random stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    inner: ChaCha8Rng,
}

/// 2^-53, the spacing of the f64 values produced by [`Stream::unit`].
const UNIT_SCALE: f64 = 1.0 / (1_u64 << 53) as f64;

impl Stream {
    /// Re-keys the stream for a forked run (`scenarios`' converged-snapshot fork): from now on
    /// it is the stream `Seed(d ^ key)` / [`StreamId`] `d'`, where `d` and `d'` are its next
    /// two raw draws. Two forks of one state with different keys draw independent numbers;
    /// the same key gives the same numbers, so a fork is as reproducible as a run.
    pub fn rekey(&mut self, key: u64) {
        let seed = Seed(self.inner.next_u64() ^ key);
        let id = StreamId(self.inner.next_u64());
        *self = seed.stream(id);
    }

    /// The next raw 64-bit value.
    pub fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    /// The next raw 32-bit value (one 64-bit draw, upper half).
    pub fn next_u32(&mut self) -> u32 {
        // Upper 32 bits of a 64-bit draw: always a whole draw, so positions stay predictable.
        (self.inner.next_u64() >> 32) as u32
    }

    /// Uniform in `[0, 1)`, a multiple of 2^-53 (one draw).
    #[allow(
        clippy::cast_precision_loss,
        reason = "a 53-bit integer is exact in f64"
    )]
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * UNIT_SCALE
    }

    /// Uniform integer in `[lo, hi)`; returns `lo` if the range is empty. Unbiased (Lemire's
    /// multiply-and-reject; usually one draw).
    pub fn range_u64(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        let span = hi - lo;
        loop {
            let m = u128::from(self.next_u64()) * u128::from(span);
            let low = m as u64;
            // Reject the `2^64 mod span` low values that would bias the result.
            if low >= span || low >= span.wrapping_neg() % span {
                return lo + (m >> 64) as u64;
            }
        }
    }

    /// Uniform duration in `[lo, hi)` at nanosecond resolution; `lo` if the range is empty.
    pub fn range_duration(&mut self, lo: Duration, hi: Duration) -> Duration {
        Duration::from_nanos(self.range_u64(lo.as_nanos(), hi.as_nanos()))
    }

    /// Bernoulli trial: `true` with probability `p` (clamped to `[0, 1]`). Always one draw,
    /// even for `p = 0` or `p = 1`, so changing `p` never shifts later values.
    pub fn bernoulli(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Exponential with the given mean (inverse CDF: `-mean * ln(1 - u)`; one draw).
    pub fn exponential(&mut self, mean: f64) -> f64 {
        // 1 - u is in (0, 1], so the logarithm is finite.
        -mean * libm::log(1.0 - self.unit())
    }

    /// Exponential duration with the given mean, rounded to the nanosecond (one draw).
    pub fn exponential_duration(&mut self, mean: Duration) -> Duration {
        Duration::from_secs_f64(self.exponential(mean.as_secs_f64()))
    }

    /// Standard normal by Box–Muller, using the cosine branch only (two draws).
    pub fn standard_normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]
        let u2 = self.unit();
        libm::sqrt(-2.0 * libm::log(u1)) * libm::cos(std::f64::consts::TAU * u2)
    }

    /// Normal with mean `mean` and standard deviation `sd` (two draws).
    pub fn normal(&mut self, mean: f64, sd: f64) -> f64 {
        mean + sd * self.standard_normal()
    }

    /// Log-normal: `exp(N(mu, sigma))`, with `mu`/`sigma` the parameters of the underlying
    /// normal (two draws).
    pub fn log_normal(&mut self, mu: f64, sigma: f64) -> f64 {
        libm::exp(self.normal(mu, sigma))
    }

    /// Fills `buf` with raw bytes (little-endian 64-bit draws; a partial last draw is
    /// truncated).
    pub fn fill_bytes(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let v = self.next_u64().to_le_bytes();
            let n = chunk.len();
            chunk.copy_from_slice(v.get(..n).unwrap_or(&[]));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws(s: &mut Stream, n: usize) -> Vec<u64> {
        (0..n).map(|_| s.next_u64()).collect()
    }

    #[test]
    fn rekey_forks_a_stream_reproducibly() {
        let base = Seed(7).stream_named("link/ab");
        let (mut a, mut b, mut c) = (base.clone(), base.clone(), base);
        a.rekey(1);
        b.rekey(1);
        c.rekey(2);
        let (a, b, c) = (draws(&mut a, 50), draws(&mut b, 50), draws(&mut c, 50));
        assert_eq!(a, b, "the same key gives the same numbers");
        assert_ne!(a, c, "another key gives other numbers");
        let mut plain = Seed(7).stream_named("link/ab");
        assert_ne!(
            draws(&mut plain, 50),
            a,
            "re-keyed differs from the original"
        );
    }

    #[test]
    fn same_seed_same_numbers() {
        let a = draws(&mut Seed(7).stream_named("link/ab"), 100);
        let b = draws(&mut Seed(7).stream_named("link/ab"), 100);
        assert_eq!(a, b);
        let c = draws(&mut Seed(8).stream_named("link/ab"), 100);
        assert_ne!(a, c, "another seed gives other numbers");
    }

    #[test]
    fn adding_a_stream_does_not_change_another() {
        // Run 1: only stream x. Run 2: stream y created first and drawn from, interleaved.
        let seed = Seed(42);
        let alone = draws(&mut seed.stream(StreamId(1)), 50);
        let mut x = seed.stream(StreamId(1));
        let mut y = seed.stream(StreamId(2));
        let mut together = Vec::new();
        let mut ys = Vec::new();
        for _ in 0..50 {
            ys.push(y.next_u64());
            together.push(x.next_u64());
        }
        assert_eq!(alone, together);
        assert_ne!(alone, ys, "distinct ids are distinct streams");
    }

    #[test]
    fn stream_names_hash_with_fnv1a() {
        // Published FNV-1a 64 test vectors.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
        assert_eq!(StreamId::from_name("a"), StreamId(0xaf63_dc4c_8601_ec8c));
    }

    #[test]
    fn golden_values_are_pinned() {
        // If this fails, every trace of every scenario changes: that needs a deliberate decision.
        let mut s = Seed(1).stream(StreamId(0));
        let raw = draws(&mut s, 3);
        let mut s = Seed(1).stream(StreamId(0));
        let _ = s.next_u64();
        let unit = s.unit();
        let mut s = Seed(1).stream_named("golden");
        let exp = s.exponential(1.0);
        let norm = s.standard_normal();
        let r = s.range_u64(10, 20);
        assert_eq!(raw, GOLDEN_RAW, "raw {raw:#x?}");
        assert_eq!(unit.to_bits(), GOLDEN_UNIT_BITS, "unit {unit:e}");
        assert_eq!(exp.to_bits(), GOLDEN_EXP_BITS, "exp {exp:e}");
        assert_eq!(norm.to_bits(), GOLDEN_NORMAL_BITS, "normal {norm:e}");
        assert_eq!(r, GOLDEN_RANGE);
    }

    const GOLDEN_RAW: [u64; 3] = [
        0x61a9_4a49_a0e9_5ecf,
        0x4b80_5b72_edd5_053e,
        0xcc5a_63ee_65a4_f412,
    ];
    const GOLDEN_UNIT_BITS: u64 = 0x3fd2_e016_dcbb_7540; // 0.2949...
    const GOLDEN_EXP_BITS: u64 = 0x3ff3_bc16_2c44_ed33;
    const GOLDEN_NORMAL_BITS: u64 = 0xbff6_fa43_27ae_45c0;
    const GOLDEN_RANGE: u64 = 12;

    fn mean_sd(xs: &[f64]) -> (f64, f64) {
        #[allow(clippy::cast_precision_loss, reason = "test sample sizes are small")]
        let n = xs.len() as f64;
        let mean = xs.iter().sum::<f64>() / n;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0);
        (mean, var.sqrt())
    }

    const N: usize = 100_000;

    #[test]
    fn unit_is_uniform_in_half_open_interval() {
        let mut s = Seed(3).stream(StreamId(0));
        let xs: Vec<f64> = (0..N).map(|_| s.unit()).collect();
        assert!(xs.iter().all(|&x| (0.0..1.0).contains(&x)));
        let (m, sd) = mean_sd(&xs);
        // Mean 0.5, sd sqrt(1/12) = 0.2887; the standard error of the mean is 0.0009.
        assert!((m - 0.5).abs() < 0.005, "mean {m}");
        assert!((sd - 0.288_675).abs() < 0.005, "sd {sd}");
    }

    #[test]
    fn range_stays_in_bounds_and_covers_it() {
        let mut s = Seed(3).stream(StreamId(1));
        let mut seen = [0_u32; 7];
        for _ in 0..7_000 {
            let v = s.range_u64(10, 17);
            assert!((10..17).contains(&v));
            seen[usize::try_from(v - 10).unwrap_or(0)] += 1;
        }
        // Each value expected 1000 times; sd about 29.
        assert!(seen.iter().all(|&c| (850..1150).contains(&c)), "{seen:?}");
        assert_eq!(s.range_u64(5, 5), 5);
        let d = s.range_duration(Duration::from_millis(1), Duration::from_millis(2));
        assert!(d >= Duration::from_millis(1) && d < Duration::from_millis(2));
    }

    #[test]
    fn exponential_has_requested_mean() {
        let mut s = Seed(4).stream(StreamId(0));
        let xs: Vec<f64> = (0..N).map(|_| s.exponential(2.0)).collect();
        assert!(xs.iter().all(|&x| x >= 0.0 && x.is_finite()));
        let (m, sd) = mean_sd(&xs);
        // Mean 2, sd 2; standard error 0.0063.
        assert!((m - 2.0).abs() < 0.03, "mean {m}");
        assert!((sd - 2.0).abs() < 0.05, "sd {sd}");
    }

    #[test]
    fn normal_and_log_normal_have_requested_moments() {
        let mut s = Seed(5).stream(StreamId(0));
        let xs: Vec<f64> = (0..N).map(|_| s.normal(10.0, 3.0)).collect();
        let (m, sd) = mean_sd(&xs);
        assert!((m - 10.0).abs() < 0.05, "mean {m}");
        assert!((sd - 3.0).abs() < 0.05, "sd {sd}");
        // Log-normal(0, 0.5): mean exp(0.125) = 1.1331.
        let ys: Vec<f64> = (0..N).map(|_| s.log_normal(0.0, 0.5)).collect();
        assert!(ys.iter().all(|&y| y > 0.0));
        let (m, _) = mean_sd(&ys);
        assert!((m - 1.133_148).abs() < 0.01, "mean {m}");
    }

    #[test]
    fn bernoulli_rate_matches_p() {
        let mut s = Seed(6).stream(StreamId(0));
        let hits = (0..N).filter(|_| s.bernoulli(0.3)).count();
        // Expected 30000, sd 145.
        assert!((29_300..30_700).contains(&hits), "{hits}");
        assert!(!(0..1000).any(|_| s.bernoulli(0.0)));
        assert!((0..1000).all(|_| s.bernoulli(1.0)));
    }

    #[test]
    fn fill_bytes_matches_raw_draws() {
        let mut a = Seed(9).stream(StreamId(0));
        let mut b = a.clone();
        let mut buf = [0_u8; 12];
        a.fill_bytes(&mut buf);
        let first = b.next_u64().to_le_bytes();
        let second = b.next_u64().to_le_bytes();
        assert_eq!(buf[..8], first);
        assert_eq!(buf[8..], second[..4]);
    }
}
