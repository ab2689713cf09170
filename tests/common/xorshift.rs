//! xorshift64* (Vigna), the named seeded PRNG of the map and journal tests.
//! One copy, included by each test file with `#[path]`.

pub struct XorShift64Star(pub u64);

#[allow(dead_code)]
impl XorShift64Star {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value in `0..n` (`0` when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
