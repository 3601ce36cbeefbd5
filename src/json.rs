//! The one small JSON writer both encoders share. It appends to a `String` with no
//! intermediate tree, and embeds already-valid JSON text (clamped captures) as it is.

/// Bytes that need an escape inside a JSON string: `"`, `\\` and the control characters
/// (they also end a run of plain content when reading one).
pub(crate) static ESCAPED: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 0x20 {
        t[c] = true;
        c += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Appends `s` as a JSON string literal.
///
/// Byte-wise: only `"`, `\\` and control bytes need escaping, and none of them can occur
/// inside a multi-byte UTF-8 sequence, so clean runs are found with one table lookup a byte
/// and copied whole (this is the encoders' hottest loop).
pub fn push_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // SAFETY: only whole runs of `s` cut at ASCII bytes (so still UTF-8) and ASCII escapes are
    // appended: the String stays valid UTF-8.
    let v = unsafe { out.as_mut_vec() };
    let bytes = s.as_bytes();
    v.reserve(bytes.len() + 2);
    v.push(b'"');
    let mut start = 0;
    while let Some(off) = bytes[start..].iter().position(|&b| ESCAPED[b as usize]) {
        let i = start + off;
        let b = bytes[i];
        v.extend_from_slice(&bytes[start..i]);
        let esc: [u8; 2] = match b {
            b'"' => *b"\\\"",
            b'\\' => *b"\\\\",
            b'\n' => *b"\\n",
            b'\r' => *b"\\r",
            b'\t' => *b"\\t",
            _ => [0, 0],
        };
        if esc[0] != 0 {
            v.extend_from_slice(&esc);
        } else {
            v.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 15) as usize],
            ]);
        }
        start = i + 1;
    }
    v.extend_from_slice(&bytes[start..]);
    v.push(b'"');
}

/// Appends a finite number (`null` for NaN and infinities, which JSON cannot hold), in the
/// shortest form that reads back the same (zmij, the formatter serde_json uses: several times
/// faster than `core::fmt` and no float-printing code of its own in the .wasm).
pub fn push_f64(out: &mut String, n: f64) {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        // Whole numbers as integers (`1`, not zmij's `1.0`), as before.
        out.push_str(itoa::Buffer::new().format(n as i64));
    } else if n.is_finite() {
        out.push_str(zmij::Buffer::new().format_finite(n));
    } else {
        out.push_str("null");
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
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        // Keys are the encoders' own names: written as they are unless one needs escaping.
        if k.bytes().any(|b| ESCAPED[b as usize]) {
            push_string(self.out, k);
        } else {
            self.out.reserve(k.len() + 3);
            self.out.push('"');
            self.out.push_str(k);
            self.out.push('"');
        }
        self.out.push(':');
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
        ] {
            let mut out = String::new();
            push_string(&mut out, s);
            assert_eq!(serde_json::from_str::<String>(&out).unwrap(), s);
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
