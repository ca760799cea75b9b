//! Seeded random streams and the few distributions the generators need.
//!
//! Every draw goes through [`Stream`], a ChaCha8 generator seeded with
//! `ChaCha8Rng::seed_from_u64(seed)` and switched to the 64-bit stream `fnv1a64(key)`. ChaCha's
//! stream parameter gives each named part of a phantom or cohort its own independent sequence, so
//! adding, removing or reordering one structure never changes another. The transforms from raw
//! `u64` words to floats, integers and normals are written here rather than taken from `rand`'s
//! distributions, so the output depends only on the ChaCha8 keystream, which is portable and fixed.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// FNV-1a, 64-bit: a fixed, documented hash (std's `Hasher`s are randomized or unspecified).
pub(crate) fn fnv1a64(text: &str) -> u64 {
    const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    text.bytes().fold(OFFSET_BASIS, |hash, byte| (hash ^ u64::from(byte)).wrapping_mul(PRIME))
}

/// An independent random sequence, identified by the caller's seed and a text key.
#[derive(Debug)]
pub(crate) struct Stream(ChaCha8Rng);

impl Stream {
    /// The stream `key` under `seed` (e.g. `"phantom/pelvic-bulky-bowel/GTV_L1"`).
    pub(crate) fn new(seed: u64, key: &str) -> Stream {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(fnv1a64(key));
        Stream(rng)
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[lo, hi)` (returns `lo` when the interval is empty).
    pub(crate) fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in `0..n` (`n ≥ 1`), by Lemire's multiply-shift with rejection, so that
    /// every value is exactly equally likely.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let threshold = n.wrapping_neg() % n;
        loop {
            let product = u128::from(self.0.next_u64()) * u128::from(n);
            if (product as u64) >= threshold {
                return (product >> 64) as u64;
            }
        }
    }

    /// Uniform integer in `lo..=hi`.
    pub(crate) fn int(&mut self, lo: u32, hi: u32) -> u32 {
        lo + self.below(u64::from(hi - lo) + 1) as u32
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Standard normal deviate (Box–Muller; one of the pair is discarded for simplicity).
    pub(crate) fn normal(&mut self) -> f64 {
        // 1 - unit() lies in (0, 1], so the logarithm is finite.
        let radius = (-2.0 * (1.0 - self.unit()).ln()).sqrt();
        radius * (std::f64::consts::TAU * self.unit()).cos()
    }

    /// Normal with the given mean and standard deviation, truncated to `[lo, hi]` by redrawing.
    pub(crate) fn normal_in(&mut self, mean: f64, sd: f64, lo: f64, hi: f64) -> f64 {
        loop {
            let x = mean + sd * self.normal();
            if (lo..=hi).contains(&x) {
                return x;
            }
        }
    }

    /// A uniformly distributed unit vector.
    pub(crate) fn direction(&mut self) -> [f64; 3] {
        loop {
            let v = [self.normal(), self.normal(), self.normal()];
            let len = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            if len > 1e-9 {
                return v.map(|c| c / len);
            }
        }
    }

    /// Index drawn with probability proportional to `weights` (all finite, not all zero).
    pub(crate) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut target = self.unit() * total;
        for (index, &w) in weights.iter().enumerate() {
            if target < w {
                return index;
            }
            target -= w;
        }
        weights.len() - 1
    }

    /// Exponential deviate with the given rate (events per unit time); infinite for rate 0.
    pub(crate) fn exponential(&mut self, rate: f64) -> f64 {
        if rate <= 0.0 {
            return f64::INFINITY;
        }
        // 1 - unit() lies in (0, 1], so the logarithm is finite.
        -(1.0 - self.unit()).ln() / rate
    }

    /// Gamma deviate with the given shape and scale (Marsaglia & Tsang, ACM TOMS 26:363, 2000;
    /// shapes below 1 by the boost `G(a) = G(a + 1) U^(1/a)`).
    pub(crate) fn gamma(&mut self, shape: f64, scale: f64) -> f64 {
        if shape < 1.0 {
            let boost = (1.0 - self.unit()).powf(1.0 / shape);
            return self.gamma(shape + 1.0, scale) * boost;
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = 1.0 - self.unit();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v * scale;
            }
        }
    }

    /// Fisher–Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_the_published_test_vectors() {
        // From the FNV reference test suite (Fowler, Noll, Vo).
        assert_eq!(fnv1a64(""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64("a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64("foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn streams_are_reproducible_and_independent() {
        let draw = |seed, key| {
            let mut s = Stream::new(seed, key);
            [s.unit(), s.unit(), s.unit()]
        };
        assert_eq!(draw(7, "a"), draw(7, "a"));
        assert_ne!(draw(7, "a"), draw(7, "b"));
        assert_ne!(draw(7, "a"), draw(8, "a"));
    }

    #[test]
    fn draws_stay_in_their_ranges() {
        let mut s = Stream::new(1, "ranges");
        for _ in 0..10_000 {
            let u = s.unit();
            assert!((0.0..1.0).contains(&u));
            assert!(s.int(3, 5) >= 3 && s.int(3, 5) <= 5);
            let x = s.normal_in(0.0, 1.0, -0.5, 0.5);
            assert!((-0.5..=0.5).contains(&x));
        }
        let mut counts = [0usize; 3];
        for _ in 0..30_000 {
            counts[s.weighted(&[1.0, 0.0, 2.0])] += 1;
        }
        assert_eq!(counts[1], 0);
        assert!((9_000..11_000).contains(&counts[0]), "{counts:?}");
    }
}
