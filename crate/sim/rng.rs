//! PCG32 (PCG-XSH-RR 64/32, O'Neill 2014): the one seeded PRNG of the
//! simulator. Written here (20 lines) rather than pulled in as a dependency;
//! the output sequence matches the reference `pcg32` with the same state and
//! stream (multiplier 6364136223846793005).

/// A PCG-XSH-RR 64/32 generator.
#[derive(Clone, Debug)]
pub struct Pcg32 {
    state: u64,
    inc: u64,
}

const MULT: u64 = 6_364_136_223_846_793_005;

impl Pcg32 {
    /// Seeds the generator as `pcg32_srandom_r(initstate, initseq)` does.
    pub fn new(initstate: u64, initseq: u64) -> Self {
        let mut rng = Pcg32 {
            state: 0,
            inc: (initseq << 1) | 1,
        };
        rng.next_u32();
        rng.state = rng.state.wrapping_add(initstate);
        rng.next_u32();
        rng
    }

    /// The generator for execution `index` of an exploration seeded `seed`:
    /// each execution has its own stream, so shards and replays agree.
    pub fn for_execution(seed: u64, index: u64) -> Self {
        Pcg32::new(seed, splitmix64(index))
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(MULT).wrapping_add(self.inc);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rot = (old >> 59) as u32;
        xorshifted.rotate_right(rot)
    }

    /// A uniform value in `0..n` (Lemire's multiply-shift with rejection);
    /// `n == 0` returns 0.
    pub fn below(&mut self, n: u32) -> u32 {
        if n <= 1 {
            return 0;
        }
        let threshold = n.wrapping_neg() % n;
        loop {
            let m = u64::from(self.next_u32()) * u64::from(n);
            if (m as u32) >= threshold {
                return (m >> 32) as u32;
            }
        }
    }
}

/// SplitMix64 finalizer, used to derive per-execution streams.
pub fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_reference_pcg32_demo() {
        // pcg32-demo with seed (42, 54) prints 0xa15c02b7 0x7b47f409 ...
        let mut r = Pcg32::new(42, 54);
        assert_eq!(r.next_u32(), 0xa15c_02b7);
        assert_eq!(r.next_u32(), 0x7b47_f409);
        assert_eq!(r.next_u32(), 0xba1d_3330);
    }

    #[test]
    fn below_is_in_range() {
        let mut r = Pcg32::new(1, 2);
        for n in 1..50 {
            assert!(r.below(n) < n);
        }
    }
}
