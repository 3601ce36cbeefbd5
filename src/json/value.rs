//! A JSON value tree and its reader, for the few places that need a whole tree (LLM
//! responses and stream chunks, `init()` options, sessions, an outbox job).
//!
//! It replaces `serde_json::Value`, which with serde's generic deserializer, `BTreeMap`,
//! its error formatting (core::fmt, std::io) was about a quarter of the .wasm (HACKING.md,
//! "Size"). It reads and writes what serde_json 1.x does, so outputs stay byte-identical:
//! the same grammar (RFC 8259, nesting below 128, paired surrogates only), the same numbers
//! (u64, negative i64, else f64 computed as serde_json does without `float_roundtrip`, out of
//! range is an error), object keys sorted with the last duplicate kept (a `BTreeMap`'s
//! order), compact output with serde_json's escapes (`\b`, `\f`). tests/json_value.rs holds
//! it to serde_json on generated and mutated texts.

use std::fmt;

/// A JSON value.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Number(Number),
    String(String),
    Array(Vec<Value>),
    Object(Map),
}

/// A JSON number: an unsigned integer, a negative integer, or a finite float.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Number {
    PosInt(u64),
    NegInt(i64),
    Float(f64),
}

/// An object: members sorted by key (what serde_json's `BTreeMap` gives), in a vector (a
/// fraction of a `BTreeMap`'s code; objects here have a few dozen members at most).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Map(Vec<(String, Value)>);

static NULL: Value = Value::Null;

impl Number {
    pub fn as_u64(&self) -> Option<u64> {
        match *self {
            Number::PosInt(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match *self {
            Number::PosInt(n) => i64::try_from(n).ok(),
            Number::NegInt(n) => Some(n),
            Number::Float(_) => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        Some(match *self {
            Number::PosInt(n) => n as f64,
            Number::NegInt(n) => n as f64,
            Number::Float(f) => f,
        })
    }

    /// `None` for NaN and infinities, as serde_json's `Number::from_f64`.
    pub fn from_f64(f: f64) -> Option<Number> {
        f.is_finite().then_some(Number::Float(f))
    }

    fn write(&self, out: &mut String) {
        match *self {
            Number::PosInt(n) => out.push_str(itoa::Buffer::new().format(n)),
            Number::NegInt(n) => out.push_str(itoa::Buffer::new().format(n)),
            Number::Float(f) => out.push_str(zmij::Buffer::new().format_finite(f)),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let mut s = String::new();
        self.write(&mut s);
        f.write_str(&s)
    }
}

impl Map {
    pub fn new() -> Map {
        Map(Vec::new())
    }

    fn find(&self, k: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(x, _)| x.as_str().cmp(k))
    }

    pub fn get(&self, k: &str) -> Option<&Value> {
        self.find(k).ok().map(|i| &self.0[i].1)
    }

    pub fn get_mut(&mut self, k: &str) -> Option<&mut Value> {
        self.find(k).ok().map(|i| &mut self.0[i].1)
    }

    pub fn contains_key(&self, k: &str) -> bool {
        self.find(k).is_ok()
    }

    /// Sets `k` (kept in key order); the value it replaces, if any.
    pub fn insert(&mut self, k: String, v: Value) -> Option<Value> {
        match self.find(&k) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, v)),
            Err(i) => {
                self.0.insert(i, (k, v));
                None
            }
        }
    }

    pub fn remove(&mut self, k: &str) -> Option<Value> {
        self.find(k).ok().map(|i| self.0.remove(i).1)
    }

    /// The value of `k`, set to `f()` first if absent (serde_json's
    /// `entry(k).or_insert_with(f)`).
    pub fn get_or_insert_with(&mut self, k: &str, f: impl FnOnce() -> Value) -> &mut Value {
        let i = match self.find(k) {
            Ok(i) => i,
            Err(i) => {
                self.0.insert(i, (k.into(), f()));
                i
            }
        };
        &mut self.0[i].1
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn iter_mut(&mut self) -> impl Iterator<Item = (&String, &mut Value)> {
        self.0.iter_mut().map(|(k, v)| (&*k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.0.iter().map(|(_, v)| v)
    }
}

impl IntoIterator for Map {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Map {
    type Item = (&'a String, &'a Value);
    type IntoIter = std::iter::Map<
        std::slice::Iter<'a, (String, Value)>,
        fn(&'a (String, Value)) -> (&'a String, &'a Value),
    >;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

impl<K: Into<String>> FromIterator<(K, Value)> for Map {
    fn from_iter<I: IntoIterator<Item = (K, Value)>>(items: I) -> Map {
        let mut m = Map::new();
        for (k, v) in items {
            m.insert(k.into(), v);
        }
        m
    }
}

impl std::ops::Index<&str> for Map {
    type Output = Value;
    fn index(&self, k: &str) -> &Value {
        self.get(k).unwrap_or(&NULL)
    }
}

/// What `Value::get` takes: a member name or an array position.
pub trait Key {
    fn pick(self, v: &Value) -> Option<&Value>;
}

impl Key for &str {
    fn pick(self, v: &Value) -> Option<&Value> {
        v.as_object()?.get(self)
    }
}

impl Key for &String {
    fn pick(self, v: &Value) -> Option<&Value> {
        v.as_object()?.get(self)
    }
}

impl Key for String {
    fn pick(self, v: &Value) -> Option<&Value> {
        v.as_object()?.get(&self)
    }
}

impl Key for usize {
    fn pick(self, v: &Value) -> Option<&Value> {
        v.as_array()?.get(self)
    }
}

impl Value {
    /// A member of an object or an element of an array; `None` for anything else.
    pub fn get(&self, k: impl Key) -> Option<&Value> {
        k.pick(self)
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match *self {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self {
            Value::Number(n) => n.as_u64(),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Number(n) => n.as_i64(),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => n.as_f64(),
            _ => None,
        }
    }

    pub fn as_array(&self) -> Option<&Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    pub fn as_object(&self) -> Option<&Map> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn as_object_mut(&mut self) -> Option<&mut Map> {
        match self {
            Value::Object(o) => Some(o),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    pub fn is_string(&self) -> bool {
        matches!(self, Value::String(_))
    }

    pub fn is_number(&self) -> bool {
        matches!(self, Value::Number(_))
    }

    pub fn is_array(&self) -> bool {
        matches!(self, Value::Array(_))
    }

    pub fn is_object(&self) -> bool {
        matches!(self, Value::Object(_))
    }

    pub fn take(&mut self) -> Value {
        std::mem::take(self)
    }

    /// Appends the compact JSON text (serde_json's `to_string`).
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn write(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Number(n) => n.write(out),
            Value::String(s) => push_quoted(out, s),
            Value::Array(a) => {
                out.push('[');
                for (i, v) in a.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    v.write(out);
                }
                out.push(']');
            }
            Value::Object(o) => {
                out.push('{');
                for (i, (k, v)) in o.0.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_quoted(out, k);
                    out.push(':');
                    v.write(out);
                }
                out.push('}');
            }
        }
    }
}

/// Compact JSON text, as serde_json's `Value::to_string`.
impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let mut s = String::new();
        self.write(&mut s);
        f.write_str(&s)
    }
}

impl<K: Key> std::ops::Index<K> for Value {
    type Output = Value;
    fn index(&self, k: K) -> &Value {
        self.get(k).unwrap_or(&NULL)
    }
}

/// Comparisons with plain values, as serde_json's (`v["v"] == 1`, `v["ok"] == true`).
impl PartialEq<i32> for Value {
    fn eq(&self, n: &i32) -> bool {
        self.as_i64() == Some(*n as i64)
    }
}

impl PartialEq<bool> for Value {
    fn eq(&self, b: &bool) -> bool {
        self.as_bool() == Some(*b)
    }
}

impl PartialEq<&str> for Value {
    fn eq(&self, s: &&str) -> bool {
        self.as_str() == Some(*s)
    }
}

impl PartialEq<str> for Value {
    fn eq(&self, s: &str) -> bool {
        self.as_str() == Some(s)
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.into())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<u64> for Value {
    fn from(n: u64) -> Value {
        Value::Number(Number::PosInt(n))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<Map> for Value {
    fn from(m: Map) -> Value {
        Value::Object(m)
    }
}

impl From<Vec<Value>> for Value {
    fn from(a: Vec<Value>) -> Value {
        Value::Array(a)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Value {
        o.map_or(Value::Null, Into::into)
    }
}

/// An object from (key, value) pairs (serde_json's `json!({ ... })`).
pub fn object<const N: usize>(members: [(&str, Value); N]) -> Value {
    Value::Object(members.into_iter().collect())
}

/// A string literal the way serde_json writes it: `\b` and `\f` short, other control bytes
/// `\u00XX` (the encoders' `push_string` writes those two long; both are valid JSON, but
/// re-serialized values keep serde_json's bytes).
pub fn push_quoted(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push('"');
    let mut run = 0;
    for (i, b) in s.bytes().enumerate() {
        if super::ESCAPED[b as usize] == 0 {
            continue;
        }
        out.push_str(&s[run..i]);
        run = i + 1;
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            8 => out.push_str("\\b"),
            12 => out.push_str("\\f"),
            _ => {
                out.push_str("\\u00");
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
    out.push_str(&s[run..]);
    out.push('"');
}

/// Reads one JSON text (whitespace around it allowed); `None` where serde_json's
/// `from_str::<Value>` would fail.
pub fn parse(text: &str) -> Option<Value> {
    let mut r = Reader {
        b: text.as_bytes(),
        i: 0,
        depth: 0,
    };
    let v = r.value()?;
    r.ws();
    (r.i == r.b.len()).then_some(v)
}

/// The string a JSON text holds, if it is one string literal (serde_json's
/// `from_str::<String>`).
pub fn parse_string(text: &str) -> Option<String> {
    match parse(text)? {
        Value::String(s) => Some(s),
        _ => None,
    }
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
    depth: u8,
}

/// serde_json's nesting limit: its 128th open bracket is an error.
const MAX_DEPTH: u8 = 127;

impl Reader<'_> {
    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.b.get(self.i) {
            self.i += 1;
        }
    }

    fn peek(&self) -> u8 {
        self.b.get(self.i).copied().unwrap_or(0)
    }

    fn eat(&mut self, c: u8) -> bool {
        let ok = self.peek() == c;
        self.i += ok as usize;
        ok
    }

    fn lit(&mut self, word: &[u8], v: Value) -> Option<Value> {
        self.b[self.i..].starts_with(word).then(|| {
            self.i += word.len();
            v
        })
    }

    #[cfg_attr(agensight_size, optimize(size))]
    fn value(&mut self) -> Option<Value> {
        self.ws();
        match self.peek() {
            b'n' => self.lit(b"null", Value::Null),
            b't' => self.lit(b"true", Value::Bool(true)),
            b'f' => self.lit(b"false", Value::Bool(false)),
            b'"' => self.string().map(Value::String),
            b'-' | b'0'..=b'9' => self.number().map(Value::Number),
            b'[' => {
                self.enter()?;
                let mut a = Vec::new();
                if !self.close(b']') {
                    loop {
                        a.push(self.value()?);
                        if !self.next(b']')? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
                Some(Value::Array(a))
            }
            b'{' => {
                self.enter()?;
                let mut m = Map::new();
                if !self.close(b'}') {
                    loop {
                        self.ws();
                        if self.peek() != b'"' {
                            return None;
                        }
                        let k = self.string()?;
                        self.ws();
                        if !self.eat(b':') {
                            return None;
                        }
                        m.insert(k, self.value()?);
                        if !self.next(b'}')? {
                            break;
                        }
                    }
                }
                self.depth -= 1;
                Some(Value::Object(m))
            }
            _ => None,
        }
    }

    fn enter(&mut self) -> Option<()> {
        self.i += 1;
        self.depth += 1;
        (self.depth <= MAX_DEPTH).then_some(())
    }

    /// An empty container's closing bracket.
    fn close(&mut self, end: u8) -> bool {
        self.ws();
        self.eat(end)
    }

    /// After a member: `Some(true)` at a comma, `Some(false)` at `end`.
    fn next(&mut self, end: u8) -> Option<bool> {
        self.ws();
        if self.eat(b',') {
            Some(true)
        } else {
            self.eat(end).then_some(false)
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let h = self.b.get(self.i..self.i + 4)?;
        self.i += 4;
        let mut n = 0;
        for &c in h {
            n = n * 16 + (c as char).to_digit(16)?;
        }
        Some(n)
    }

    /// A string literal (at its opening quote), escapes decoded.
    #[cfg_attr(agensight_size, optimize(size))]
    fn string(&mut self) -> Option<String> {
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let start = self.i;
            while self
                .b
                .get(self.i)
                .is_some_and(|&c| super::ESCAPED[c as usize] == 0)
            {
                self.i += 1;
            }
            out.extend_from_slice(&self.b[start..self.i]);
            match self.b.get(self.i)? {
                b'"' => {
                    self.i += 1;
                    // The input is a str and escapes push whole chars: valid UTF-8.
                    return String::from_utf8(out).ok();
                }
                b'\\' => {
                    self.i += 1;
                    let c = *self.b.get(self.i)?;
                    self.i += 1;
                    let ch = match c {
                        b'"' | b'\\' | b'/' => c as char,
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => self.unicode()?,
                        _ => return None,
                    };
                    out.extend_from_slice(ch.encode_utf8(&mut [0; 4]).as_bytes());
                }
                _ => return None, // a control byte
            }
        }
    }

    /// After `\u`: one code point, a surrogate pair as two escapes (a lone one is an error).
    fn unicode(&mut self) -> Option<char> {
        let n = self.hex4()?;
        if (0xD800..0xDC00).contains(&n) {
            if !(self.eat(b'\\') && self.eat(b'u')) {
                return None;
            }
            let m = self.hex4()?;
            if !(0xDC00..0xE000).contains(&m) {
                return None;
            }
            return char::from_u32(0x10000 + ((n - 0xD800) << 10) + (m - 0xDC00));
        }
        char::from_u32(n)
    }

    /// Reads a run of digits into `n` while `push` says it fits; from the first that does not,
    /// the rest are only counted. (digits taken, digits dropped).
    fn digits<T: Copy>(&mut self, n: &mut T, push: impl Fn(T, u8) -> Option<T>) -> (i32, i32) {
        let (mut taken, mut dropped) = (0, 0);
        while let c @ b'0'..=b'9' = self.peek() {
            self.i += 1;
            match push(*n, c - b'0') {
                Some(x) if dropped == 0 => {
                    *n = x;
                    taken += 1;
                }
                _ => dropped += 1,
            }
        }
        (taken, dropped)
    }

    /// A number, as serde_json reads it without `float_roundtrip`.
    #[cfg_attr(agensight_size, optimize(size))]
    fn number(&mut self) -> Option<Number> {
        let positive = !self.eat(b'-');
        let mut sig: u64 = 0;
        let mut exp: i32 = 0;
        let mut float = false;
        match self.peek() {
            b'0' => {
                self.i += 1;
                if self.peek().is_ascii_digit() {
                    return None;
                }
            }
            b'1'..=b'9' => {
                // Digits past u64 are dropped, each one raising the exponent.
                let (_, dropped) =
                    self.digits(&mut sig, |s, d| s.checked_mul(10)?.checked_add(d as u64));
                float = dropped > 0;
                exp = dropped;
            }
            _ => return None,
        }
        if self.eat(b'.') {
            float = true;
            let (taken, dropped) =
                self.digits(&mut sig, |s, d| s.checked_mul(10)?.checked_add(d as u64));
            if taken + dropped == 0 {
                return None;
            }
            exp -= taken;
        }
        if matches!(self.peek(), b'e' | b'E') {
            self.i += 1;
            float = true;
            let neg = self.eat(b'-') || {
                self.eat(b'+');
                false
            };
            let mut e: i32 = 0;
            let (taken, dropped) =
                self.digits(&mut e, |x, d| x.checked_mul(10)?.checked_add(d as i32));
            if taken == 0 {
                return None;
            }
            let over = dropped > 0;
            if over {
                // serde_json: an exponent past i32 is 0 (or out of range when it is positive
                // and the significand is not zero).
                if sig != 0 && !neg {
                    return None;
                }
                return Some(Number::Float(if positive { 0.0 } else { -0.0 }));
            }
            exp = if neg {
                exp.saturating_sub(e)
            } else {
                exp.saturating_add(e)
            };
        }
        if !float {
            // serde_json: `-0` and integers below i64::MIN are floats.
            let neg = (sig as i64).wrapping_neg();
            return Some(if positive {
                Number::PosInt(sig)
            } else if neg < 0 {
                Number::NegInt(neg)
            } else {
                Number::Float(-(sig as f64))
            });
        }
        let f = from_parts(sig, exp)?;
        Some(Number::Float(if positive { f } else { -f }))
    }
}

/// `sig * 10^exp` the way serde_json computes it without `float_roundtrip`: one multiply or
/// divide by a power of ten (several for exponents below -308); `None` when out of range.
fn from_parts(sig: u64, mut exp: i32) -> Option<f64> {
    let mut f = sig as f64;
    loop {
        let a = exp.unsigned_abs();
        if a <= 308 {
            let pow = pow10(a);
            if exp >= 0 {
                f *= pow;
                if f.is_infinite() {
                    return None;
                }
            } else {
                f /= pow;
            }
            return Some(f);
        }
        if f == 0.0 {
            return Some(f);
        }
        if exp >= 0 {
            return None;
        }
        f /= 1e308;
        exp += 308;
    }
}

/// 10^n for n <= 308, the nearest double (what serde_json's table and a literal `1eN` hold):
/// exact products up to 10^22; beyond, 5^n in 64-bit limbs rounded to 53 bits (half to even)
/// times 2^n. A table of the 286 larger powers was 2.3 KB of the .wasm, for numbers with
/// exponents past 22, which are rare.
fn pow10(n: u32) -> f64 {
    if n <= 22 {
        let mut p = 1.0;
        for _ in 0..n {
            p *= 10.0;
        }
        return p;
    }
    // 5^n, little-endian; 5^308 < 2^716.
    let mut limbs = [0u64; 12];
    limbs[0] = 1;
    let mut len = 1;
    for _ in 0..n {
        let mut carry = 0u128;
        for l in &mut limbs[..len] {
            let x = *l as u128 * 5 + carry;
            *l = x as u64;
            carry = x >> 64;
        }
        if carry != 0 {
            limbs[len] = carry as u64;
            len += 1;
        }
    }
    let bits = (len as u32 - 1) * 64 + (64 - limbs[len - 1].leading_zeros());
    let bit = |i: u32| (limbs[(i / 64) as usize] >> (i % 64)) & 1;
    // 5^23 > 2^53, so at least one bit is cut off.
    let shift = bits - 53;
    let mut m = (shift..bits).rev().fold(0u64, |m, i| m << 1 | bit(i));
    let half = bit(shift - 1) == 1;
    if half && (m & 1 == 1 || (0..shift - 1).any(|i| bit(i) == 1)) {
        m += 1;
    }
    let (m, e) = if m == 1 << 53 {
        (m >> 1, shift + n + 1)
    } else {
        (m, shift + n)
    };
    // m * 2^e with 2^52 <= m < 2^53: the biased exponent of 2^(e + 52), m's low 52 bits.
    f64::from_bits(((e + 52 + 1023) as u64) << 52 | (m & ((1 << 52) - 1)))
}

#[cfg(test)]
mod tests {
    #[test]
    fn powers_of_ten_are_the_nearest_doubles() {
        for n in 0..=308 {
            let want: f64 = format!("1e{n}").parse().unwrap();
            assert_eq!(super::pow10(n).to_bits(), want.to_bits(), "1e{n}");
        }
    }
}
