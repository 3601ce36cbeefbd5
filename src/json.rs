//! The one small JSON writer both encoders share. It appends to a `String` with no
//! intermediate tree, and embeds already-valid JSON text (clamped captures) as it is.

use std::fmt::Write;

/// Appends `s` as a JSON string literal.
///
/// Byte-wise: only `"`, `\\` and control bytes need escaping, and none of them can occur
/// inside a multi-byte UTF-8 sequence, so clean runs are copied whole (this is the encoders'
/// hottest loop).
pub fn push_string(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out.push('"');
}

/// Appends a finite number (`null` for NaN and infinities, which JSON cannot hold).
pub fn push_f64(out: &mut String, n: f64) {
    if n.is_finite() {
        let _ = write!(out, "{}", n);
    } else {
        out.push_str("null");
    }
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
        push_string(self.out, k);
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
        let _ = write!(out, "{v}");
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
    fn non_finite_numbers_are_null() {
        let mut s = String::new();
        push_f64(&mut s, f64::NAN);
        assert_eq!(s, "null");
    }
}
