//! Trace, span and session ids.
//!
//! Ids come from a xoshiro256** generator seeded once (from `crypto.getRandomValues` in the
//! bindings), so making an id never crosses the wasm boundary. A trace id is 128 bits with the
//! UUID v4 version and variant bits set: the same number is a valid W3C/OTLP trace id (32 hex
//! digits) and a valid UUID for the Agensight API, whose Python SDK uses UUIDs.

/// A 128-bit trace id. Never zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceId(pub u128);

/// A 64-bit span id. Never zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SpanId(pub u64);

/// An id's text on the stack: ids are spelled for every record, and neither an allocation
/// nor `core::fmt` is needed for that.
///
/// ```
/// use agensight_wasm::ids::{SpanId, TraceId};
/// assert_eq!(&*SpanId(0xab).hex(), "00000000000000ab");
/// assert_eq!(&*TraceId(1 << 64 | 2).uuid(), "00000000-0000-0001-0000-000000000002");
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct IdText<const N: usize>([u8; N]);

impl<const N: usize> std::ops::Deref for IdText<N> {
    type Target = str;
    fn deref(&self) -> &str {
        // Only ASCII hex digits and hyphens are ever written.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl<const N: usize> std::fmt::Display for IdText<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

impl<const N: usize> PartialEq<&str> for IdText<N> {
    fn eq(&self, other: &&str) -> bool {
        &**self == *other
    }
}

impl<const N: usize> std::fmt::Debug for IdText<N> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self)
    }
}

/// `n` as 16 lowercase hex digits into `out`, most significant first.
fn put_hex(out: &mut [u8], n: u64) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, o) in out[..16].iter_mut().enumerate() {
        *o = HEX[(n >> ((15 - i) * 4)) as usize & 15];
    }
}

impl TraceId {
    /// The UUID spelling (`8-4-4-4-12`), used in Agensight records.
    pub fn uuid(self) -> IdText<36> {
        let hex = self.hex().0;
        let mut out = [b'-'; 36];
        let mut at = 0;
        for (from, len) in [(0, 8), (8, 4), (12, 4), (16, 4), (20, 12)] {
            out[at..at + len].copy_from_slice(&hex[from..from + len]);
            at += len + 1;
        }
        IdText(out)
    }
    /// The W3C / OTLP spelling: 32 lowercase hex digits.
    pub fn hex(self) -> IdText<32> {
        // Two 64-bit halves: 128-bit shifts are library calls in wasm32.
        let mut out = [0u8; 32];
        put_hex(&mut out[..16], (self.0 >> 64) as u64);
        put_hex(&mut out[16..], self.0 as u64);
        IdText(out)
    }
    /// Parses either spelling; `None` for anything else or the all-zero id. By hand rather
    /// than with the uuid crate's parser, whose other spellings (braced, urn) are refused
    /// anyway and whose code was 1.5 KB of the .wasm.
    pub fn parse(text: &str) -> Option<TraceId> {
        let b = text.as_bytes();
        let n = match b.len() {
            32 => u128::from_str_radix(text, 16).ok()?,
            36 if [8, 13, 18, 23].iter().all(|&i| b[i] == b'-') => {
                let hex: String = text.chars().filter(|&c| c != '-').collect();
                if hex.len() != 32 {
                    return None;
                }
                u128::from_str_radix(&hex, 16).ok()?
            }
            _ => return None,
        };
        (n != 0 && text.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())).then_some(TraceId(n))
    }
}

impl SpanId {
    /// 16 lowercase hex digits, in both wire formats.
    pub fn hex(self) -> IdText<16> {
        let mut out = [0u8; 16];
        put_hex(&mut out, self.0);
        IdText(out)
    }
    pub fn parse(text: &str) -> Option<SpanId> {
        if text.len() != 16 {
            return None;
        }
        let n = u64::from_str_radix(text, 16).ok()?;
        (n != 0 && text.bytes().all(|b| b.is_ascii_hexdigit())).then_some(SpanId(n))
    }
}

/// xoshiro256** (Blackman and Vigna): fast, small, and good enough for ids that must not
/// collide; it is not used for anything secret.
pub struct IdGenerator {
    s: [u64; 4],
}

impl IdGenerator {
    /// Seeds from any bytes (32 from a CSPRNG in practice). Short or all-zero seeds are
    /// stretched with splitmix64 so the state is never all zero.
    pub fn new(seed: &[u8]) -> IdGenerator {
        let mut words = [0u64; 4];
        for (i, b) in seed.iter().enumerate() {
            words[(i / 8) % 4] ^= (*b as u64) << ((i % 8) * 8);
        }
        let mut sm = 0u64;
        let mut s = words.map(|w| w ^ splitmix64(&mut sm));
        if s == [0; 4] {
            s[0] = 1;
        }
        IdGenerator { s }
    }

    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.s;
        let result = s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    pub fn trace_id(&mut self) -> TraceId {
        let hi = self.next_u64().to_be_bytes();
        let lo = self.next_u64().to_be_bytes();
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&hi);
        bytes[8..].copy_from_slice(&lo);
        TraceId(
            uuid::Builder::from_random_bytes(bytes)
                .into_uuid()
                .as_u128(),
        )
    }

    pub fn span_id(&mut self) -> SpanId {
        loop {
            let n = self.next_u64();
            if n != 0 {
                return SpanId(n);
            }
        }
    }

    /// A fresh UUID v4 string, for generated session ids.
    pub fn uuid(&mut self) -> String {
        self.trace_id().uuid().to_string()
    }
}

fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use uuid::Uuid;

    #[test]
    fn trace_ids_are_uuid_v4_and_hex() {
        let mut g = IdGenerator::new(&[7; 32]);
        let t = g.trace_id();
        let u = t.uuid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "4", "version nibble");
        assert!(
            matches!(&u[19..20], "8" | "9" | "a" | "b"),
            "variant nibble in {u}"
        );
        assert_eq!(&*t.hex(), u.replace('-', ""));
        assert_eq!(
            &*u,
            Uuid::from_u128(t.0).hyphenated().to_string(),
            "the uuid crate agrees"
        );
        assert_eq!(TraceId::parse(&u), Some(t));
        assert_eq!(TraceId::parse(&t.hex()), Some(t));
        assert_eq!(TraceId::parse("00000000000000000000000000000000"), None);
        assert_eq!(TraceId::parse("xyz"), None);
        // The uuid crate's parser as the oracle, on its spellings and near misses.
        for text in [
            u.to_string(),
            u.to_uppercase(),
            t.hex().to_string(),
            format!("{{{}}}", &*u),
            format!("urn:uuid:{}", &*u),
            u.replacen('-', "", 1) + "-",
            u.replacen('-', "+", 1),
            format!("+{}", &t.hex()[1..]),
            format!("{}-", &u[..35]),
        ] {
            let oracle = Uuid::try_parse(&text)
                .ok()
                .filter(|_| text.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()))
                .map(|x| TraceId(x.as_u128()));
            assert_eq!(TraceId::parse(&text), oracle, "{text}");
        }
    }

    #[test]
    fn span_ids_are_16_hex_and_distinct() {
        let mut g = IdGenerator::new(&[1, 2, 3]);
        let mut seen = HashSet::new();
        for _ in 0..100_000 {
            let s = g.span_id();
            assert_eq!(s.hex().len(), 16);
            assert!(seen.insert(s.0));
        }
        assert_eq!(
            SpanId::parse("00f067aa0ba902b7"),
            Some(SpanId(0x00f0_67aa_0ba9_02b7))
        );
        assert_eq!(SpanId::parse("0000000000000000"), None);
    }

    #[test]
    fn different_seeds_give_different_streams() {
        let a = IdGenerator::new(&[0; 32]).trace_id();
        let b = IdGenerator::new(&[1; 32]).trace_id();
        assert_ne!(a, b);
        // An all-zero seed still yields a working generator.
        assert_ne!(IdGenerator::new(&[]).next_u64(), 0);
    }
}
