//! The one small JSON writer both encoders share. It appends to a `String` with no
//! intermediate tree, and embeds already-valid JSON text (clamped captures) as it is. The
//! value tree and its reader, for what needs a whole tree, are in `value`.

mod value;
pub use value::{object, parse, parse_string, push_quoted, Map, Number, Value};

/// For each byte, how many bytes its escape inside a JSON string adds: 0 for a byte written
/// as it is, 1 for `"`, `\\`, `\n`, `\r`, `\t`, 5 for other control characters (`\u001f`).
/// Non-zero also ends a run of plain content when reading a string.
pub(crate) static ESCAPED: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = 5;
        c += 1;
    }
    t[b'"' as usize] = 1;
    t[b'\\' as usize] = 1;
    t[b'\n' as usize] = 1;
    t[b'\r' as usize] = 1;
    t[b'\t' as usize] = 1;
    t
};

/// A control byte other than `\n`, `\r`, `\t` as JSON spells it: `\u00XX`, lowercase hex.
#[inline(always)]
pub(crate) fn control_escape(b: u8) -> [u8; 6] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    [
        b'\\',
        b'u',
        b'0',
        b'0',
        HEX[(b >> 4) as usize],
        HEX[(b & 15) as usize],
    ]
}

/// The bytes of a little-endian word that a JSON string must escape (`"`, `\\`, below 0x20),
/// each flagged by its high bit; 0 if none. Only the lowest flag is exact (a borrow may flag
/// bytes above a real hit), so `trailing_zeros() / 8` is the first byte to escape: what the
/// eight-bytes-at-a-time scans (the record escaper, the clamp's string scan) need.
#[inline(always)]
pub(crate) fn escape_hits(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    zero(w ^ (ONES * b'"' as u64))
        | zero(w ^ (ONES * b'\\' as u64))
        | (w.wrapping_sub(ONES * 0x20) & !w & HIGH)
}

/// Appends `s` as a JSON string literal.
///
/// Byte-wise: only `"`, `\\` and control bytes need escaping, and none of them can occur
/// inside a multi-byte UTF-8 sequence. Unless the room for the worst case is there already,
/// one pass counts the room the escapes need, so exactly that much is reserved (the export
/// queue keeps request bodies, and over-reserving showed as wasm memory growth there); a
/// second writes every byte into it directly (this is the encoders' hottest loop: captured
/// JSON embedded in a string escapes a quote every few bytes, and a call per run cost more
/// than the copying).
pub fn push_string(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    // SAFETY (as_mut_vec, set_len): every byte of `s` is written in order, with ASCII escapes
    // standing for some ASCII bytes, so the String stays valid UTF-8; `set_len` covers exactly
    // the bytes written into the reserved room.
    let v = unsafe { out.as_mut_vec() };
    // Where the room for the worst case (six bytes for one) is there already (a buffer of
    // records), the counting pass is skipped.
    if v.capacity() - v.len() < bytes.len() * 6 + 2 {
        let extra: usize = bytes.iter().map(|&b| ESCAPED[b as usize] as usize).sum();
        room(v, bytes.len() + extra + 2);
    }
    let len = v.len();
    // Raw writes into the reserved room: no bounds check per byte, and no `memory.copy` for
    // the plain runs (a call into the engine per run, slower than these few bytes).
    let start = unsafe { v.as_mut_ptr().add(len) };
    let mut p = start;
    let mut put = |b: u8| unsafe {
        p.write(b);
        p = p.add(1);
    };
    put(b'"');
    for &b in bytes {
        match b {
            _ if ESCAPED[b as usize] == 0 => put(b),
            b'"' | b'\\' => {
                put(b'\\');
                put(b);
            }
            b'\n' | b'\r' | b'\t' => {
                put(b'\\');
                put(match b {
                    b'\n' => b'n',
                    b'\r' => b'r',
                    _ => b't',
                });
            }
            _ => {
                for e in control_escape(b) {
                    put(e);
                }
            }
        }
    }
    put(b'"');
    unsafe { v.set_len(len + p.offset_from(start) as usize) };
}

/// `v.reserve(n)` with the check done here: `reserve` is a call at this opt-level, and the
/// room is almost always there.
#[inline(always)]
fn room(v: &mut Vec<u8>, n: usize) {
    if v.capacity() - v.len() < n {
        v.reserve(n);
    }
}

/// Copies `src` to `dst` (room for it there, no overlap). Up to 16 bytes with two overlapping
/// word-sized moves instead of a `memory.copy`, which the engine runs as a call: JSON keys and
/// ids are this short.
///
/// # Safety
/// `dst` is valid for `src.len()` bytes of writes and does not overlap `src`.
#[inline(always)]
unsafe fn copy_short(src: &[u8], dst: *mut u8) {
    let n = src.len();
    let s = src.as_ptr();
    unsafe {
        if (8..=16).contains(&n) {
            let a = s.cast::<u64>().read_unaligned();
            let b = s.add(n - 8).cast::<u64>().read_unaligned();
            dst.cast::<u64>().write_unaligned(a);
            dst.add(n - 8).cast::<u64>().write_unaligned(b);
        } else if (4..8).contains(&n) {
            let a = s.cast::<u32>().read_unaligned();
            let b = s.add(n - 4).cast::<u32>().read_unaligned();
            dst.cast::<u32>().write_unaligned(a);
            dst.add(n - 4).cast::<u32>().write_unaligned(b);
        } else if (1..4).contains(&n) {
            // First, middle and last byte: every byte of one to three.
            dst.write(*s);
            dst.add(n / 2).write(*s.add(n / 2));
            dst.add(n - 1).write(*s.add(n - 1));
        } else if n > 16 {
            std::ptr::copy_nonoverlapping(s, dst, n);
        }
    }
}

/// Appends a finite number (`null` for NaN and infinities, which JSON cannot hold), in the
/// shortest form that reads back the same (zmij, the formatter serde_json uses: several times
/// faster than `core::fmt` and no float-printing code of its own in the .wasm).
pub fn push_f64(out: &mut String, n: f64) {
    with_f64_text(n, |text| out.push_str(text));
}

/// Calls `f` with `n` as [`push_f64`] writes it, formatted on the stack (no `String`).
#[inline(always)]
pub(crate) fn with_f64_text<R>(n: f64, f: impl FnOnce(&str) -> R) -> R {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        // Whole numbers as integers (`1`, not zmij's `1.0`), as before.
        f(itoa::Buffer::new().format(n as i64))
    } else if n.is_finite() {
        f(zmij::Buffer::new().format_finite(n))
    } else {
        f("null")
    }
}

/// Appends an unsigned integer.
pub fn push_u64(out: &mut String, n: u64) {
    out.push_str(itoa::Buffer::new().format(n));
}

/// Writes one JSON object member by member; `finish` closes it.
///
/// ```
/// let mut s = String::new();
/// let mut o = agensight_wasm::json::Obj::new(&mut s);
/// o.str("a", "x\"y").num("b", 1.5).opt_str("c", None).raw("d", "[1]");
/// o.finish();
/// assert_eq!(s, r#"{"a":"x\"y","b":1.5,"c":null,"d":[1]}"#);
/// ```
pub struct Obj<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Obj<'a> {
    pub fn new(out: &'a mut String) -> Obj<'a> {
        out.push('{');
        Obj { out, first: true }
    }

    fn key(&mut self, k: &str) -> &mut String {
        // Keys are the encoders' own names (constants, `gen_ai.prompt.0.role`): nothing in them
        // needs escaping, so they are copied as they are (debug builds check).
        debug_assert!(
            !k.bytes().any(|b| ESCAPED[b as usize] != 0),
            "key {k:?} needs escaping"
        );
        let first = std::mem::replace(&mut self.first, false);
        // SAFETY: `k` is a str and the rest ASCII, all written into the room reserved: the
        // String stays UTF-8. One copy per key, the separators single stores: a copy is a
        // `memory.copy`, a call into the engine, and a `push` a call at this opt-level.
        let v = unsafe { self.out.as_mut_vec() };
        room(v, k.len() + 4);
        unsafe {
            let start = v.as_mut_ptr().add(v.len());
            let mut p = start;
            if !first {
                p.write(b',');
                p = p.add(1);
            }
            p.write(b'"');
            p = p.add(1);
            copy_short(k.as_bytes(), p);
            p = p.add(k.len());
            p.write(b'"');
            p.add(1).write(b':');
            p = p.add(2);
            v.set_len(v.len() + p.offset_from(start) as usize);
        }
        self.out
    }

    pub fn str(&mut self, k: &str, v: &str) -> &mut Self {
        let out = self.key(k);
        push_string(out, v);
        self
    }

    pub fn opt_str(&mut self, k: &str, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.str(k, v),
            None => self.raw(k, "null"),
        }
    }

    pub fn num(&mut self, k: &str, v: f64) -> &mut Self {
        let out = self.key(k);
        push_f64(out, v);
        self
    }

    pub fn int(&mut self, k: &str, v: u64) -> &mut Self {
        let out = self.key(k);
        push_u64(out, v);
        self
    }

    pub fn bool(&mut self, k: &str, v: bool) -> &mut Self {
        self.raw(k, if v { "true" } else { "false" })
    }

    /// `v` must already be valid JSON.
    pub fn raw(&mut self, k: &str, v: &str) -> &mut Self {
        let out = self.key(k);
        out.push_str(v);
        self
    }

    /// Opens a nested object under `k`; finish it before writing here again.
    pub fn obj(&mut self, k: &str) -> Obj<'_> {
        let out = self.key(k);
        Obj::new(out)
    }

    pub fn finish(self) {
        self.out.push('}');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_round_trip_through_a_real_parser() {
        for s in [
            "",
            "plain",
            "quote\" back\\ slash",
            "nl\n tab\t cr\r",
            "\u{0}\u{1f}",
            "ünï 😀",
            &"\u{1}a\"".repeat(1000),
            &format!("{}\u{1f}", "\\".repeat(5000)),
        ] {
            // Appended after what is there already.
            let mut out = String::from("[1,");
            push_string(&mut out, s);
            out.push(']');
            let v: (u8, String) = serde_json::from_str(&out).unwrap();
            assert_eq!(v.1, s);
        }
    }

    #[test]
    fn keys_of_every_length_are_copied_whole() {
        let name = "abcdefghijklmnopqrstuvwxyz0123456789";
        for n in 0..=name.len() {
            // After a byte already there, so copies start unaligned.
            let mut out = String::from("x");
            let mut o = Obj::new(&mut out);
            o.int(&name[..n], 1).int(&name[..n], 2);
            o.finish();
            let k = &name[..n];
            assert_eq!(out, format!("x{{\"{k}\":1,\"{k}\":2}}"));
        }
    }

    #[test]
    fn numbers_read_back_the_same() {
        for n in [0.0, 1.5, 1764050107.1234567, 0.000123, 5.0, 1e21, -2.5e-7] {
            let mut s = String::new();
            push_f64(&mut s, n);
            assert_eq!(serde_json::from_str::<f64>(&s).unwrap(), n, "{s}");
        }
        let mut s = String::new();
        push_f64(&mut s, 1764050107.1234567);
        assert_eq!(s, "1764050107.1234567");
        let mut s = String::new();
        push_f64(&mut s, -3.0);
        assert_eq!(s, "-3");
        let mut s = String::new();
        push_u64(&mut s, u64::MAX);
        assert_eq!(s, "18446744073709551615");
    }

    #[test]
    fn non_finite_numbers_are_null() {
        let mut s = String::new();
        push_f64(&mut s, f64::NAN);
        assert_eq!(s, "null");
    }
}
