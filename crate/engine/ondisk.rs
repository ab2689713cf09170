//! Little-endian field access and the `ondisk!` macro that declares an
//! on-disk structure as (offset, kernel field name, type) rows and derives
//! its decoder and encoder. Decoding never panics: a short buffer is read as
//! if zero-padded.

/// A fixed-size little-endian field.
pub trait Field: Sized {
    fn get(b: &[u8], off: usize) -> Self;
    fn put(&self, b: &mut [u8], off: usize);
}

fn slice<const N: usize>(b: &[u8], off: usize) -> [u8; N] {
    let mut out = [0u8; N];
    if let Some(s) = b.get(off..) {
        let n = s.len().min(N);
        out[..n].copy_from_slice(&s[..n]);
    }
    out
}

fn store(b: &mut [u8], off: usize, v: &[u8]) {
    if let Some(s) = b.get_mut(off..) {
        let n = s.len().min(v.len());
        s[..n].copy_from_slice(&v[..n]);
    }
}

macro_rules! int_field {
    ($($t:ty),*) => {$(
        impl Field for $t {
            fn get(b: &[u8], off: usize) -> Self {
                <$t>::from_le_bytes(slice::<{ std::mem::size_of::<$t>() }>(b, off))
            }
            fn put(&self, b: &mut [u8], off: usize) {
                store(b, off, &self.to_le_bytes());
            }
        }
    )*};
}
int_field!(u8, u16, u32, u64);

impl<const N: usize> Field for [u8; N] {
    fn get(b: &[u8], off: usize) -> Self {
        slice::<N>(b, off)
    }
    fn put(&self, b: &mut [u8], off: usize) {
        store(b, off, self);
    }
}

impl<const N: usize> Field for [u32; N] {
    fn get(b: &[u8], off: usize) -> Self {
        let mut out = [0u32; N];
        for (i, v) in out.iter_mut().enumerate() {
            *v = u32::get(b, off + 4 * i);
        }
        out
    }
    fn put(&self, b: &mut [u8], off: usize) {
        for (i, v) in self.iter().enumerate() {
            v.put(b, off + 4 * i);
        }
    }
}

/// Read a little-endian u16/u32 at `off` (zero past the end).
pub fn le16(b: &[u8], off: usize) -> u16 {
    u16::get(b, off)
}
pub fn le32(b: &[u8], off: usize) -> u32 {
    u32::get(b, off)
}
pub fn put_le16(b: &mut [u8], off: usize, v: u16) {
    v.put(b, off)
}
pub fn put_le32(b: &mut [u8], off: usize, v: u32) {
    v.put(b, off)
}

/// Declare an on-disk structure: `ondisk! { pub struct Name[SIZE] { 0x0 field: u32, ... } }`.
macro_rules! ondisk {
    ($(#[$m:meta])* pub struct $name:ident [$size:expr] {
        $( $(#[$fm:meta])* $off:literal $field:ident : $ty:ty, )*
    }) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name { $( $(#[$fm])* pub $field: $ty, )* }
        #[allow(dead_code)]
        impl $name {
            /// Size of the structure on disk.
            pub const SIZE: usize = $size;
            /// Decode from `b` (read as zero-padded if short).
            pub fn decode(b: &[u8]) -> Self {
                use $crate::engine::ondisk::Field;
                $name { $( $field: <$ty>::get(b, $off), )* }
            }
            /// Encode every field into `b` (bytes not covered are left alone).
            pub fn encode(&self, b: &mut [u8]) {
                use $crate::engine::ondisk::Field;
                $( self.$field.put(b, $off); )*
            }
            /// All fields zero.
            pub fn zeroed() -> Self {
                Self::decode(&[])
            }
        }
    };
}
pub(crate) use ondisk;

#[cfg(test)]
mod tests {
    use super::*;
    ondisk! {
        /// test
        pub struct T[8] {
            0x0 a: u16,
            0x2 b: u32,
            0x6 c: [u8; 2],
        }
    }

    #[test]
    fn round_trip_and_short_buffers() {
        let t = T {
            a: 0x1234,
            b: 0xdeadbeef,
            c: [1, 2],
        };
        let mut b = [0u8; 8];
        t.encode(&mut b);
        assert_eq!(b, [0x34, 0x12, 0xef, 0xbe, 0xad, 0xde, 1, 2]);
        assert_eq!(T::decode(&b), t);
        let short = T::decode(&b[..3]);
        assert_eq!(short.a, 0x1234);
        assert_eq!(short.b, 0xef);
        assert_eq!(short.c, [0, 0]);
        let mut tiny = [0u8; 4];
        t.encode(&mut tiny); // must not panic
        assert_eq!(le16(&tiny, 0), 0x1234);
    }
}
