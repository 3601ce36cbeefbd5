//! Size limits for captured values: [`clamp_json`] rewrites JSON text so it fits a byte budget
//! and is still valid JSON, masking secrets on the way.
//!
//! It is one forward pass over the tokens with an explicit stack, so a 10 MB string or a
//! 10,000-deep array costs linear time and no recursion. Input that is not valid JSON is kept
//! as a JSON string instead (nothing is lost silently, nothing invalid is passed on).

use crate::capture::redact::Redactor;
use crate::json::{escape_hits, ESCAPED};

/// Containers nested deeper than this are replaced by the string `"[depth limit]"`.
pub const MAX_DEPTH: usize = 64;
/// The smallest budget [`clamp_json`] honours exactly; `init()` refuses smaller ones.
pub const MIN_BUDGET: usize = 16;

const ELLIPSIS: &str = "\u{2026}";
const REDACTED: &str = "\"[REDACTED]\"";
const DEPTH_MARK: &str = "\"[depth limit]\"";

/// The result of clamping: the JSON text and whether anything was cut.
#[derive(Debug, PartialEq, Eq)]
pub struct Clamped {
    pub json: String,
    pub truncated: bool,
}

/// Returns `input` as valid JSON of at most `max` bytes (`max >= MIN_BUDGET`): strings are cut
/// at a character boundary and end in `…`, containers are closed early, and an object member
/// whose value does not fit is left out. With a redactor, values under secret-named keys become
/// `"[REDACTED]"` and secrets inside strings are masked.
///
/// ```
/// use agensight_wasm::capture::limits::clamp_json;
/// let c = clamp_json(r#"{"q":"hello world","n":[1,2,3]}"#, 20, None);
/// assert_eq!(c.json, r#"{"q":"hello world"}"#);
/// assert!(c.truncated);
/// ```
pub fn clamp_json(input: &str, max: usize, redactor: Option<&Redactor>) -> Clamped {
    if verbatim(input.as_bytes(), max.max(MIN_BUDGET), redactor) {
        check_verbatim(input, max, redactor);
        return Clamped {
            json: input.to_owned(),
            truncated: false,
        };
    }
    clamp_slow(input, max, redactor)
}

/// Tests and fuzzing (debug assertions) hold the shortcut to the full pass's answer.
fn check_verbatim(input: &str, max: usize, redactor: Option<&Redactor>) {
    debug_assert_eq!(
        clamp_slow(input, max, redactor),
        Clamped {
            json: input.to_owned(),
            truncated: false
        },
        "verbatim() passed text the full pass changes"
    );
}

fn clamp_slow(input: &str, max: usize, redactor: Option<&Redactor>) -> Clamped {
    let max = max.max(MIN_BUDGET);
    match Clamper::new(input, max, redactor).run() {
        Some(c) => c,
        None => {
            // Not JSON: keep the text as a JSON string, which the pass below always accepts.
            let mut as_string = String::with_capacity(input.len() + 2);
            crate::json::push_quoted(&mut as_string, input);
            Clamper::new(&as_string, max, redactor)
                .run()
                .expect("a JSON string is valid JSON")
        }
    }
}

/// Whether [`Clamper`] would give `src` back unchanged: valid JSON of at most `max` bytes, no
/// whitespace between tokens (the clamper drops it), nesting below [`MAX_DEPTH`], and nothing
/// the redactor masks (no secret-named key, no `[secret-name, value]` pair, no secret inside a
/// string). One pass, no allocation: the per-span hot path, since the JS serializer's output
/// nearly always qualifies. Anything doubtful answers false and takes the full pass.
fn verbatim(src: &[u8], max: usize, redactor: Option<&Redactor>) -> bool {
    #[derive(Clone, Copy, PartialEq)]
    enum Want {
        Value,
        /// Right after `[`: a value or `]`.
        FirstElement,
        /// Right after `{`: a key or `}`.
        FirstKey,
        Key,
        Colon,
        /// After a value inside a container: `,` or the closer.
        Next,
        Done,
    }
    if src.len() > max {
        return false;
    }
    // Bit d of `objects`: the container at depth d is an object (MAX_DEPTH <= 64).
    let mut objects: u64 = 0;
    let mut depth = 0usize;
    let mut want = Want::Value;
    let mut i = 0;
    let in_object = |objects: u64, depth: usize| depth > 0 && objects >> (depth - 1) & 1 == 1;
    fn text(raw: &[u8]) -> &str {
        // The content of a validated string token is valid UTF-8 (the input is a str and the
        // token boundaries are ASCII quotes).
        unsafe { std::str::from_utf8_unchecked(raw) }
    }
    let masks = |raw: &[u8]| redactor.is_some_and(|r| r.has_secret(text(raw)));
    // Nothing to mask in it and no secret's name (a key, a pair's first element).
    let clean_key = |raw: &[u8]| redactor.is_none_or(|r| r.is_clean_key(text(raw)));
    while i < src.len() {
        let c = src[i];
        match want {
            Want::Done => return false,
            Want::Colon => {
                if c != b':' {
                    return false;
                }
                i += 1;
                want = Want::Value;
            }
            Want::FirstKey | Want::Key => {
                if c == b'}' && want == Want::FirstKey {
                    depth -= 1;
                    i += 1;
                    want = if depth == 0 { Want::Done } else { Want::Next };
                    continue;
                }
                if c != b'"' {
                    return false;
                }
                let Some(end) = string_end(src, i) else {
                    return false;
                };
                let raw = &src[i + 1..end - 1];
                if !clean_key(raw) {
                    return false;
                }
                i = end;
                want = Want::Colon;
            }
            Want::Next => {
                let object = in_object(objects, depth);
                match c {
                    b',' => {
                        i += 1;
                        want = if object { Want::Key } else { Want::Value };
                    }
                    b'}' | b']' if (c == b'}') == object => {
                        depth -= 1;
                        i += 1;
                        want = if depth == 0 { Want::Done } else { Want::Next };
                    }
                    _ => return false,
                }
            }
            Want::Value | Want::FirstElement => match c {
                b']' if want == Want::FirstElement => {
                    depth -= 1;
                    i += 1;
                    want = if depth == 0 { Want::Done } else { Want::Next };
                }
                b'{' | b'[' => {
                    if depth >= MAX_DEPTH {
                        return false;
                    }
                    if c == b'{' {
                        objects |= 1 << depth;
                    } else {
                        objects &= !(1 << depth);
                    }
                    depth += 1;
                    i += 1;
                    want = if c == b'{' {
                        Want::FirstKey
                    } else {
                        Want::FirstElement
                    };
                }
                b'"' => {
                    // One pass for a plain value (a pair's first element is checked as a
                    // secret's name below).
                    let pair =
                        |end: usize| want == Want::FirstElement && src.get(end) == Some(&b',');
                    if let Some(end) = redactor
                        .and_then(|r| r.clean_string_end(src, i))
                        .filter(|&end| !pair(end))
                    {
                        i = end;
                        want = if depth == 0 { Want::Done } else { Want::Next };
                        continue;
                    }
                    let Some(end) = string_end(src, i) else {
                        return false;
                    };
                    let raw = &src[i + 1..end - 1];
                    // A first array element naming a secret masks the element after it: the
                    // name check only when one follows (`["question text"]` is a plain value).
                    let clean = if pair(end) {
                        clean_key(raw)
                    } else {
                        !masks(raw)
                    };
                    if !clean {
                        return false;
                    }
                    i = end;
                    want = if depth == 0 { Want::Done } else { Want::Next };
                }
                _ => {
                    let Some(end) = scalar_end(src, i) else {
                        return false;
                    };
                    i = end;
                    want = if depth == 0 { Want::Done } else { Want::Next };
                }
            },
        }
    }
    want == Want::Done
}

/// The end (one past the closing quote) of the valid JSON string token starting at `src[at]`
/// (a `"`), or None when it is not one.
fn string_end(src: &[u8], at: usize) -> Option<usize> {
    let mut i = at + 1;
    loop {
        i = next_escaped(src, i)?;
        match src[i] {
            b'"' => return Some(i + 1),
            b'\\' => match *src.get(i + 1)? {
                b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                b'u' => {
                    let hex = src.get(i + 2..i + 6)?;
                    if !hex.iter().all(u8::is_ascii_hexdigit) {
                        return None;
                    }
                    i += 6;
                }
                _ => return None,
            },
            _ => return None, // a raw control character
        }
    }
}

/// The first `"`, `\\` or control byte of `src` from `i`, eight bytes at a time while eight are
/// left (a string's text is mostly plain runs; a byte loop was most of `verbatim`'s cost).
#[inline]
fn next_escaped(src: &[u8], mut i: usize) -> Option<usize> {
    while let Some(word) = src.get(i..i + 8) {
        let hit = escape_hits(u64::from_le_bytes(word.try_into().unwrap()));
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    Some(
        i + src
            .get(i..)?
            .iter()
            .position(|&c| ESCAPED[c as usize] != 0)?,
    )
}

/// The end of the valid JSON number or literal starting at `src[at]`, or None.
fn scalar_end(src: &[u8], at: usize) -> Option<usize> {
    let rest = &src[at..];
    for lit in [&b"true"[..], b"false", b"null"] {
        if rest.starts_with(lit) {
            return Some(at + lit.len());
        }
    }
    let digits = |i: &mut usize| {
        let from = *i;
        while matches!(src.get(*i), Some(b'0'..=b'9')) {
            *i += 1;
        }
        *i > from
    };
    let mut i = at;
    if src.get(i) == Some(&b'-') {
        i += 1;
    }
    if src.get(i) == Some(&b'0') {
        i += 1;
    } else if !digits(&mut i) {
        return None;
    }
    if src.get(i) == Some(&b'.') {
        i += 1;
        if !digits(&mut i) {
            return None;
        }
    }
    if matches!(src.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(src.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(&mut i) {
            return None;
        }
    }
    Some(i)
}

#[derive(Clone, Copy, PartialEq)]
enum Expect {
    Key {
        first: bool,
    },
    Colon,
    /// The value after `"key":`.
    ObjValue,
    /// An array element.
    Value {
        first: bool,
    },
    CommaOrEnd,
}

struct Frame {
    object: bool,
    expect: Expect,
    /// Array elements read so far.
    index: u32,
    /// An array whose first element names a secret (`["x-api-key", value]`, a header pair as
    /// fetch takes them): its second element is masked.
    pair_secret: bool,
}

/// A container being skipped (secret-named key, or past MAX_DEPTH): it is validated but not
/// written, and `marker` takes its place once it closes.
struct Mute {
    depth: usize,
    comma: bool,
    marker: &'static str,
}

struct Clamper<'a> {
    text: &'a str,
    src: &'a [u8],
    pos: usize,
    max: usize,
    redactor: Option<&'a Redactor>,
    out: String,
    /// The input's structure. Until `full`, every frame here outside a muted region is also
    /// open in `out`.
    stack: Vec<Frame>,
    /// Set once the budget ran out: `out` is closed and final; the rest is only validated.
    full: bool,
    truncated: bool,
    /// `out` ends in `"key":` (written from this offset, comma included) and owes a value; if
    /// none fits, the key is taken back out.
    key_open: Option<usize>,
    /// The last key read names a secret.
    secret_key: bool,
    mute: Option<Mute>,
    /// The top-level value has been read.
    done: bool,
}

impl<'a> Clamper<'a> {
    fn new(text: &'a str, max: usize, redactor: Option<&'a Redactor>) -> Self {
        Clamper {
            text,
            src: text.as_bytes(),
            pos: 0,
            max,
            redactor,
            out: String::with_capacity(text.len().min(max)),
            stack: Vec::new(),
            full: false,
            truncated: false,
            key_open: None,
            secret_key: false,
            mute: None,
            done: false,
        }
    }

    fn writing(&self) -> bool {
        !self.full && self.mute.is_none()
    }

    /// Bytes a value may take here: what is left after one closer per open container.
    fn room(&self) -> usize {
        self.max.saturating_sub(self.out.len() + self.stack.len())
    }

    /// Whether the next element of the current container follows a sibling.
    fn comma(&self) -> bool {
        matches!(
            self.stack.last(),
            Some(Frame {
                expect: Expect::Key { first: false } | Expect::Value { first: false },
                ..
            })
        )
    }

    /// Closes `out` for good: drops a key left without its value, closes every container.
    fn stop(&mut self) {
        if let Some(at) = self.key_open.take() {
            self.out.truncate(at);
        }
        for f in self.stack.iter().rev() {
            self.out.push(if f.object { '}' } else { ']' });
        }
        self.full = true;
        self.truncated = true;
    }

    fn run(mut self) -> Option<Clamped> {
        loop {
            self.skip_ws();
            let Some(&c) = self.src.get(self.pos) else {
                break;
            };
            match self.stack.last().map(|f| f.expect) {
                None if self.done => return None, // something after the top-level value
                None => self.value(c)?,
                Some(Expect::Key { first }) => match c {
                    b'}' if first => self.close(true)?,
                    b'"' => self.key()?,
                    _ => return None,
                },
                Some(Expect::Colon) => {
                    if c != b':' {
                        return None;
                    }
                    self.pos += 1;
                    self.set_expect(Expect::ObjValue);
                }
                Some(Expect::ObjValue) => self.value(c)?,
                Some(Expect::Value { first }) => match c {
                    b']' if first && !self.stack.last()?.object => self.close(false)?,
                    _ => self.value(c)?,
                },
                Some(Expect::CommaOrEnd) => match c {
                    b',' => {
                        self.pos += 1;
                        let object = self.stack.last()?.object;
                        self.set_expect(if object {
                            Expect::Key { first: false }
                        } else {
                            Expect::Value { first: false }
                        });
                    }
                    b'}' => self.close(true)?,
                    b']' => self.close(false)?,
                    _ => return None,
                },
            }
        }
        if !self.done {
            return None;
        }
        if self.out.is_empty() {
            self.out.push_str("null");
        }
        Some(Clamped {
            json: self.out,
            truncated: self.truncated,
        })
    }

    fn skip_ws(&mut self) {
        while matches!(self.src.get(self.pos), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.pos += 1;
        }
    }

    fn set_expect(&mut self, e: Expect) {
        if let Some(f) = self.stack.last_mut() {
            f.expect = e;
        }
    }

    /// After a whole value: the container wants a comma or its end; a top-level value is done.
    fn after_value(&mut self) {
        if let Some(f) = self.stack.last_mut().filter(|f| !f.object) {
            f.index += 1;
        }
        self.set_expect(Expect::CommaOrEnd);
        self.secret_key = false;
        self.done = self.stack.is_empty();
    }

    /// Writes a token that cannot be cut (number, literal, marker), or stops if it does not fit.
    fn put(&mut self, comma: bool, tok: &str) {
        if comma as usize + tok.len() <= self.room() {
            if comma {
                self.out.push(',');
            }
            self.out.push_str(tok);
            self.key_open = None;
        } else {
            self.stop();
        }
    }

    fn value(&mut self, c: u8) -> Option<()> {
        let comma = self.comma();
        let pair_value =
            matches!(self.stack.last(), Some(f) if !f.object && f.index == 1 && f.pair_secret);
        let secret = (self.secret_key || pair_value) && self.redactor.is_some();
        match c {
            b'{' | b'[' => {
                let object = c == b'{';
                self.pos += 1;
                if self.writing() {
                    if secret || self.stack.len() >= MAX_DEPTH {
                        self.mute = Some(Mute {
                            depth: self.stack.len() + 1,
                            comma,
                            marker: if secret { REDACTED } else { DEPTH_MARK },
                        });
                    } else if comma as usize + 2 <= self.room() {
                        if comma {
                            self.out.push(',');
                        }
                        self.out.push(c as char);
                        self.key_open = None;
                    } else {
                        self.stop();
                    }
                }
                self.set_expect(Expect::CommaOrEnd); // for the parent, once this closes
                self.stack.push(Frame {
                    object,
                    expect: if object {
                        Expect::Key { first: true }
                    } else {
                        Expect::Value { first: true }
                    },
                    index: 0,
                    pair_secret: false,
                });
                self.secret_key = false;
                return Some(());
            }
            b'"' => {
                let (start, end) = self.string_token()?;
                if let (Some(r), Some(f)) = (self.redactor, self.stack.last_mut()) {
                    if !f.object && f.index == 0 {
                        f.pair_secret = r.is_secret_key(&self.text[start + 1..end - 1]);
                    }
                }
                if self.writing() {
                    if secret {
                        self.put(comma, REDACTED);
                    } else {
                        self.put_string(comma, &self.text[start + 1..end - 1]);
                    }
                }
            }
            _ => {
                let (start, end) = self.scalar_token()?;
                if self.writing() {
                    self.put(
                        comma,
                        if secret {
                            REDACTED
                        } else {
                            &self.text[start..end]
                        },
                    );
                }
            }
        }
        self.after_value();
        Some(())
    }

    fn close(&mut self, object: bool) -> Option<()> {
        if self.stack.last()?.object != object {
            return None;
        }
        self.pos += 1;
        let depth = self.stack.len();
        self.stack.pop();
        match &self.mute {
            Some(m) if m.depth == depth => {
                let (comma, marker) = (m.comma, m.marker);
                self.mute = None;
                if marker == DEPTH_MARK {
                    self.truncated = true;
                }
                if !self.full {
                    self.put(comma, marker);
                }
            }
            _ => {
                if self.writing() {
                    self.out.push(if object { '}' } else { ']' });
                }
            }
        }
        self.after_value();
        Some(())
    }

    fn key(&mut self) -> Option<()> {
        let (start, end) = self.string_token()?;
        self.secret_key = self
            .redactor
            .is_some_and(|r| r.is_secret_key(&self.text[start + 1..end - 1]));
        if self.writing() {
            let comma = self.comma();
            // Keys are masked like string values: an API key or the token can be a key too.
            let raw = &self.text[start + 1..end - 1];
            let key = match self.redactor {
                Some(r) => r.mask_raw(raw),
                None => std::borrow::Cow::Borrowed(raw),
            };
            // Room for the key, its quotes, its colon and at least a one-byte value.
            if comma as usize + key.len() + 4 <= self.room() {
                self.key_open = Some(self.out.len());
                if comma {
                    self.out.push(',');
                }
                self.out.push('"');
                self.out.push_str(&key);
                self.out.push_str("\":");
            } else {
                self.stop();
            }
        }
        self.set_expect(Expect::Colon);
        Some(())
    }

    /// Writes a string value (its raw, still-escaped content), masked, cut to fit with `…`.
    fn put_string(&mut self, comma: bool, raw: &str) {
        let masked = match self.redactor {
            Some(r) => r.mask_raw(raw),
            None => std::borrow::Cow::Borrowed(raw),
        };
        let frame = comma as usize + 2; // the comma and the quotes
        if frame + masked.len() <= self.room() {
            if comma {
                self.out.push(',');
            }
            self.out.push('"');
            self.out.push_str(&masked);
            self.out.push('"');
            self.key_open = None;
            return;
        }
        let room = self.room().saturating_sub(frame);
        if room >= ELLIPSIS.len() {
            if comma {
                self.out.push(',');
            }
            self.out.push('"');
            self.out
                .push_str(&masked[..cut_point(&masked, room - ELLIPSIS.len())]);
            self.out.push_str(ELLIPSIS);
            self.out.push('"');
            self.key_open = None;
        }
        self.stop();
    }

    /// Validates the string token at `pos`; returns its span including the quotes.
    fn string_token(&mut self) -> Option<(usize, usize)> {
        let start = self.pos;
        self.pos = string_end(self.src, start)?;
        Some((start, self.pos))
    }

    /// Validates a number or literal at `pos`.
    fn scalar_token(&mut self) -> Option<(usize, usize)> {
        let start = self.pos;
        self.pos = scalar_end(self.src, start)?;
        Some((start, self.pos))
    }
}

/// The largest cut `<= avail` into raw (escaped) string content that splits no character, no
/// escape sequence and no escaped surrogate pair.
fn cut_point(raw: &str, avail: usize) -> usize {
    let b = raw.as_bytes();
    let mut i = 0;
    let mut best = 0;
    while i < b.len() {
        let len = if b[i] == b'\\' {
            if b.get(i + 1) == Some(&b'u') {
                let high = b.get(i + 2..i + 4).is_some_and(|h| {
                    h.eq_ignore_ascii_case(b"d8")
                        || h.eq_ignore_ascii_case(b"d9")
                        || h.eq_ignore_ascii_case(b"da")
                        || h.eq_ignore_ascii_case(b"db")
                });
                let low_follows = b.get(i + 6) == Some(&b'\\')
                    && b.get(i + 7) == Some(&b'u')
                    && b.get(i + 8..i + 10).is_some_and(|h| {
                        matches!(h[0], b'd' | b'D') && matches!(h[1], b'c'..=b'f' | b'C'..=b'F')
                    });
                if high && low_follows {
                    12
                } else {
                    6
                }
            } else {
                2
            }
        } else {
            utf8_len(b[i])
        };
        if i + len > avail {
            break;
        }
        i += len;
        best = i;
    }
    best.min(b.len())
}

fn utf8_len(first: u8) -> usize {
    match first {
        0xf0..=0xff => 4,
        0xe0..=0xef => 3,
        0xc0..=0xdf => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The word-at-a-time scan finds the byte the byte loop finds: every byte value at every
    /// place of a plain run, from every start, multi-byte UTF-8 (high bytes) around it.
    #[test]
    fn next_escaped_matches_the_byte_scan() {
        let by_bytes = |s: &[u8], i: usize| {
            s.get(i..)?
                .iter()
                .position(|&c| ESCAPED[c as usize] != 0)
                .map(|k| i + k)
        };
        for len in 0..21 {
            for at in 0..len.max(1) {
                for c in 0..=255u8 {
                    let mut s: Vec<u8> = (0..len)
                        .map(|k| {
                            if k % 5 == 4 {
                                0xc3
                            } else {
                                b'a' + (k % 26) as u8
                            }
                        })
                        .collect();
                    if at < len {
                        s[at] = c;
                    }
                    for from in 0..=len + 1 {
                        assert_eq!(
                            next_escaped(&s, from),
                            by_bytes(&s, from),
                            "{s:?} from {from}"
                        );
                    }
                }
            }
        }
    }
}
