//! Invariants of the Rust core under arbitrary input. Each `pub fn` below takes the raw bytes
//! of one fuzz input and panics when an invariant fails. They are shared by the cargo-fuzz
//! targets (fuzz/fuzz_targets/*.rs, one per function, same name) and by
//! tests/fuzz_regressions.rs, which replays every input kept in fuzz/regressions/<target>/.
//!
//! "Valid JSON" is checked twice, by the small strict tokenizer here ([`tokens`]: RFC 8259, no
//! depth limit, positions kept) and by serde_json, with the two leniencies that JSON itself and
//! JavaScript's `JSON.parse` allow and serde_json does not: lone surrogate escapes (`\ud800`,
//! which `JSON.stringify` writes for a lone surrogate) and numbers too large for an f64.
//!
//! This file must stay free of `crate::` paths and of dependencies other than agensight_wasm
//! and serde_json: the regression test includes it with `#[path]`.

use agensight_wasm::capture::limits::{clamp_json, MAX_DEPTH, MIN_BUDGET};
use agensight_wasm::capture::redact::Redactor;
use agensight_wasm::config::{self, Mode};
use agensight_wasm::core::Core;
use agensight_wasm::encode::agensight::{Encoder, Kind, Target};
use agensight_wasm::encode::genai::{self, AttrSink};
use agensight_wasm::encode::otlp_proto::{decode_fields, Field};
use agensight_wasm::ids::{SpanId, TraceId};
use agensight_wasm::llm;
use agensight_wasm::model::{
    Batch, Completion, ErrorInfo, FinishedSpan, LlmCall, Message, Session, SessionSpec, ToolCall,
    TraceInfo, Usage,
};
use agensight_wasm::tracer::{NONE, NOOP};
use std::collections::{HashMap, HashSet};
use std::rc::Rc;

/// The configured `token` every redactor here is given; it must never appear in any output.
/// Letters and digits only, so it cannot be formed across a mask (`[REDACTED]`), a quote or a
/// number.
pub const TOKEN: &str = "tok3nFuzz9x7q";
const ELLIPSIS: char = '\u{2026}';

// ---------------------------------------------------------------------------------------------
// Reading fuzz bytes

/// Structured values from the fuzz bytes; past the end every read gives zeros / empty.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, tail) = self.data.split_at(n);
        self.data = tail;
        head
    }
    fn uint(&mut self, n: usize) -> u64 {
        self.bytes(n)
            .iter()
            .enumerate()
            .fold(0, |acc, (i, b)| acc | (*b as u64) << (8 * i))
    }
    pub fn u8(&mut self) -> u8 {
        self.uint(1) as u8
    }
    pub fn u16(&mut self) -> u16 {
        self.uint(2) as u16
    }
    pub fn u32(&mut self) -> u32 {
        self.uint(4) as u32
    }
    pub fn u64(&mut self) -> u64 {
        self.uint(8)
    }
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }
    /// Times and numbers, including the ones JSON cannot hold.
    pub fn f64(&mut self) -> f64 {
        match self.u8() % 8 {
            0 => f64::NAN,
            1 => f64::INFINITY,
            2 => f64::NEG_INFINITY,
            3 => -0.0,
            4 => f64::from_bits(self.u64()),
            _ => 1.7e12 + self.u32() as f64 * 0.001,
        }
    }
    /// A string of up to 255 bytes (invalid UTF-8 replaced).
    pub fn string(&mut self) -> String {
        let n = self.u8() as usize;
        String::from_utf8_lossy(self.bytes(n)).into_owned()
    }
    /// Text for a capture: raw bytes, or a JSON value made of fuzz-chosen pieces (which reaches
    /// deep into the clamper sooner than raw bytes do).
    pub fn capture(&mut self) -> String {
        if self.bool() {
            return self.string();
        }
        const PIECES: &[&str] = &[
            "{",
            "}",
            "[",
            "]",
            ",",
            ":",
            "\"",
            "\"k\":",
            "\"password\":",
            "\"authorization\":",
            "1",
            "-0.5e3",
            "1e400",
            "true",
            "null",
            "\"x\"",
            "\"\\ud800\"",
            "\"\\n\"",
            "\"😀\"",
            "\"sk-abcdefghijklmnopqrstuv\"",
            "\"Bearer abcdefghij\"",
            "\"tok3nFuzz9x7q\"",
            "\"\\\\\"",
            " ",
            "\"é\\u0001\"",
            "\"usage\":",
            "\"choices\":",
            "\"message\":",
        ];
        let n = self.u8() as usize % 64;
        (0..n)
            .map(|_| PIECES[self.u8() as usize % PIECES.len()])
            .collect()
    }
    pub fn rest(self) -> &'a [u8] {
        self.data
    }
}

// ---------------------------------------------------------------------------------------------
// A strict JSON tokenizer

/// One token of JSON text, with its byte range in the text.
#[derive(Clone, Debug, PartialEq)]
pub struct Tok {
    pub kind: TokKind,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TokKind {
    /// `{` (true) or `[` (false).
    Open(bool),
    /// `}` or `]`; `end` of a container's closer is the end of the container.
    Close,
    /// An object key, decoded; a lone surrogate escape decodes as U+FFFD.
    Key(String),
    /// A string value, decoded like keys.
    Str(String),
    /// A number or `true` / `false` / `null`, as written.
    Scalar(String),
}

#[derive(Clone, Copy, PartialEq)]
enum Want {
    Value,
    ValueOrClose,
    Key,
    KeyOrClose,
    Colon,
    CommaOrClose,
    End,
}

/// The tokens of `text` if it is one valid JSON value (RFC 8259, any depth), else `None`.
pub fn tokens(text: &str) -> Option<Vec<Tok>> {
    let b = text.as_bytes();
    let mut toks = Vec::new();
    let mut stack: Vec<bool> = Vec::new();
    let mut want = Want::Value;
    let mut i = 0;
    let after = |stack: &Vec<bool>| {
        if stack.is_empty() {
            Want::End
        } else {
            Want::CommaOrClose
        }
    };
    loop {
        while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
            i += 1;
        }
        if i == b.len() {
            return (want == Want::End).then_some(toks);
        }
        let c = b[i];
        let close = |toks: &mut Vec<Tok>, stack: &mut Vec<bool>, object: bool| -> Option<Want> {
            if stack.pop()? != object {
                return None;
            }
            toks.push(Tok {
                kind: TokKind::Close,
                start: i,
                end: i + 1,
            });
            Some(after(stack))
        };
        match want {
            Want::End => return None,
            Want::Colon => {
                if c != b':' {
                    return None;
                }
                i += 1;
                want = Want::Value;
            }
            Want::CommaOrClose => match c {
                b',' => {
                    i += 1;
                    want = if *stack.last()? {
                        Want::Key
                    } else {
                        Want::Value
                    };
                }
                b'}' | b']' => {
                    want = close(&mut toks, &mut stack, c == b'}')?;
                    i += 1;
                }
                _ => return None,
            },
            Want::Key | Want::KeyOrClose => match c {
                b'}' if want == Want::KeyOrClose => {
                    want = close(&mut toks, &mut stack, true)?;
                    i += 1;
                }
                b'"' => {
                    let (s, end) = string_at(text, i)?;
                    toks.push(Tok {
                        kind: TokKind::Key(s),
                        start: i,
                        end,
                    });
                    i = end;
                    want = Want::Colon;
                }
                _ => return None,
            },
            Want::Value | Want::ValueOrClose => match c {
                b']' if want == Want::ValueOrClose => {
                    want = close(&mut toks, &mut stack, false)?;
                    i += 1;
                }
                b'{' | b'[' => {
                    stack.push(c == b'{');
                    toks.push(Tok {
                        kind: TokKind::Open(c == b'{'),
                        start: i,
                        end: i + 1,
                    });
                    i += 1;
                    want = if c == b'{' {
                        Want::KeyOrClose
                    } else {
                        Want::ValueOrClose
                    };
                }
                b'"' => {
                    let (s, end) = string_at(text, i)?;
                    toks.push(Tok {
                        kind: TokKind::Str(s),
                        start: i,
                        end,
                    });
                    i = end;
                    want = after(&stack);
                }
                _ => {
                    let end = scalar_at(b, i)?;
                    toks.push(Tok {
                        kind: TokKind::Scalar(text[i..end].to_string()),
                        start: i,
                        end,
                    });
                    i = end;
                    want = after(&stack);
                }
            },
        }
    }
}

fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let h = b.get(at..at + 4)?;
    if !h.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()
}

/// The decoded string whose opening quote is at `i`, and the byte after its closing quote.
fn string_at(text: &str, i: usize) -> Option<(String, usize)> {
    let b = text.as_bytes();
    let mut s = String::new();
    let mut j = i + 1;
    loop {
        let c = *b.get(j)?;
        match c {
            b'"' => return Some((s, j + 1)),
            b'\\' => {
                let e = *b.get(j + 1)?;
                j += 2;
                match e {
                    b'"' => s.push('"'),
                    b'\\' => s.push('\\'),
                    b'/' => s.push('/'),
                    b'b' => s.push('\u{8}'),
                    b'f' => s.push('\u{c}'),
                    b'n' => s.push('\n'),
                    b'r' => s.push('\r'),
                    b't' => s.push('\t'),
                    b'u' => {
                        let u = hex4(b, j)?;
                        j += 4;
                        if (0xd800..0xdc00).contains(&u)
                            && b.get(j) == Some(&b'\\')
                            && b.get(j + 1) == Some(&b'u')
                        {
                            if let Some(lo @ 0xdc00..=0xdfff) = hex4(b, j + 2) {
                                j += 6;
                                s.push(char::from_u32(
                                    0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00),
                                )?);
                                continue;
                            }
                        }
                        s.push(char::from_u32(u).unwrap_or('\u{fffd}'));
                    }
                    _ => return None,
                }
            }
            0..=0x1f => return None,
            _ => {
                let ch = text[j..].chars().next()?;
                s.push(ch);
                j += ch.len_utf8();
            }
        }
    }
}

/// The end of the number or literal at `i`.
fn scalar_at(b: &[u8], i: usize) -> Option<usize> {
    for lit in [&b"true"[..], b"false", b"null"] {
        if b[i..].starts_with(lit) {
            return Some(i + lit.len());
        }
    }
    let digits = |j: &mut usize| {
        let from = *j;
        while b.get(*j).is_some_and(u8::is_ascii_digit) {
            *j += 1;
        }
        *j > from
    };
    let mut j = i;
    if b.get(j) == Some(&b'-') {
        j += 1;
    }
    if b.get(j) == Some(&b'0') {
        j += 1;
    } else if !digits(&mut j) {
        return None;
    }
    if b.get(j) == Some(&b'.') {
        j += 1;
        if !digits(&mut j) {
            return None;
        }
    }
    if matches!(b.get(j), Some(b'e' | b'E')) {
        j += 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        if !digits(&mut j) {
            return None;
        }
    }
    Some(j)
}

/// `text` with every surrogate `\u` escape replaced by `\u0020`, for serde_json.
fn without_surrogate_escapes(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut in_str = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if in_str && c == b'\\' {
            if b.get(i + 1) == Some(&b'u')
                && hex4(b, i + 2).is_some_and(|u| (0xd800..0xe000).contains(&u))
            {
                out.extend_from_slice(b"\\u0020");
                i += 6;
            } else {
                out.extend_from_slice(&b[i..(i + 2).min(b.len())]);
                i += 2;
            }
            continue;
        }
        if c == b'"' {
            in_str = !in_str;
        }
        out.push(c);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Deepest container nesting of a token list.
pub fn depth(toks: &[Tok]) -> usize {
    let (mut d, mut max) = (0usize, 0usize);
    for t in toks {
        match t.kind {
            TokKind::Open(_) => {
                d += 1;
                max = max.max(d);
            }
            TokKind::Close => d -= 1,
            _ => {}
        }
    }
    max
}

/// Panics unless `text` is valid JSON (both checkers agree); returns its tokens.
pub fn assert_json(text: &str, what: &str) -> Vec<Tok> {
    let toks = tokens(text).unwrap_or_else(|| panic!("{what}: not valid JSON: {text:?}"));
    // serde_json stops at 128 levels; the outputs checked here never nest that deep.
    if depth(&toks) < 128 {
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&without_surrogate_escapes(text))
        {
            assert!(
                e.to_string().contains("number out of range"),
                "{what}: serde_json rejects it ({e}): {text:?}"
            );
        }
    }
    toks
}

/// `text` (valid JSON) without whitespace outside strings.
pub fn compact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_str, mut escaped) = (false, false);
    for c in text.chars() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
        } else if c == '"' {
            in_str = true;
        } else if matches!(c, ' ' | '\t' | '\n' | '\r') {
            continue;
        }
        out.push(c);
    }
    out
}

/// Whether `text` escapes the way `JSON.stringify` does (the only escaper captures pass
/// through): no `\/`, and `\u` only for control characters and lone surrogates. Masking works
/// on the escaped text, so a secret spelled with other escapes (`\u0073k-...`) is out of scope.
pub fn canonical_escapes(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            match b.get(i + 1) {
                Some(b'/') => return false,
                Some(b'u') => match hex4(b, i + 2) {
                    Some(u) if u < 0x20 || (0xd800..0xe000).contains(&u) => i += 6,
                    _ => return false,
                },
                _ => i += 2,
            }
        } else {
            i += 1;
        }
    }
    true
}

// ---------------------------------------------------------------------------------------------
// What "masked" means, on decoded text

fn key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '-'
}

fn bearer_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "._~+/=-".contains(c)
}

/// A secret that the built-in patterns should have masked in decoded text `s`: an API key
/// (`sk-` and friends, at a word start, with 16+ key characters after the prefix) or a
/// `Bearer` credential (8+ characters).
pub fn unmasked_secret(s: &str) -> Option<String> {
    // The pattern list is the spec (shared); the scan below is the checker's own.
    const PREFIXES: &[&str] = agensight_wasm::capture::redact::KEY_PREFIXES;
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    for (n, &(i, _)) in chars.iter().enumerate() {
        if n > 0 && key_char(chars[n - 1].1) {
            continue;
        }
        let rest = &s[i..];
        let run =
            |from: usize, ok: fn(char) -> bool| rest[from..].chars().take_while(|c| ok(*c)).count();
        if rest.len() >= 7
            && rest.is_char_boundary(7)
            && rest[..7].eq_ignore_ascii_case("bearer ")
            && run(7, bearer_char) >= 8
        {
            return Some(rest.chars().take(40).collect());
        }
        for p in PREFIXES {
            if rest.starts_with(p)
                && run(p.len(), key_char) >= agensight_wasm::capture::redact::MIN_KEY_TAIL
            {
                return Some(rest.chars().take(40).collect());
            }
        }
    }
    None
}

/// Panics if a decoded string or key holds the token, or (with the built-in patterns on) an
/// unmasked secret.
fn assert_masked(toks: &[Tok], patterns: bool, what: &str) {
    for t in toks {
        if let TokKind::Key(s) | TokKind::Str(s) = &t.kind {
            assert!(!s.contains(TOKEN), "{what}: the token is visible in {s:?}");
            if patterns {
                if let Some(secret) = unmasked_secret(s) {
                    panic!("{what}: unmasked secret {secret:?} in {s:?}");
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Targets

/// `limits::clamp_json`: the output is valid JSON within the budget; valid input that fits is
/// kept as it is (whitespace aside) when nothing is masked; invalid input is kept as a JSON
/// string (a prefix of it when cut); with a redactor, no token or secret is left.
pub fn clamp_json_target(data: &[u8]) {
    let mut inp = Input::new(data);
    let max = match inp.u8() % 4 {
        0 => inp.u8() as usize,
        1 => 16 + inp.u16() as usize % 512,
        2 => inp.u16() as usize,
        _ => inp.u32() as usize % (1 << 20),
    };
    let mode = inp.u8() % 3;
    let text = if inp.bool() {
        inp.capture()
    } else {
        String::from_utf8_lossy(inp.rest()).into_owned()
    };
    clamp_case(&text, max, mode);
}

/// One clamp check: `mode` 0 no redactor, 1 built-in patterns + token, 2 token only.
pub fn clamp_case(text: &str, max: usize, mode: u8) {
    let redactor = match mode {
        0 => None,
        1 => Some(Redactor::new(vec![TOKEN.into()])),
        _ => Some(Redactor::literals_only(vec![TOKEN.into()])),
    };
    let c = clamp_json(text, max, redactor.as_ref());
    let budget = max.max(MIN_BUDGET);
    assert!(
        c.json.len() <= budget,
        "{} bytes > budget {budget}: {:?}",
        c.json.len(),
        c.json
    );
    let out = assert_json(&c.json, "clamp_json output");
    match tokens(text) {
        None => {
            // Not JSON: kept as a JSON string, cut with "…" when it does not fit.
            let [Tok {
                kind: TokKind::Str(s),
                ..
            }] = &out[..]
            else {
                panic!("invalid input not kept as one string: {:?}", c.json)
            };
            if mode == 0 {
                let kept = if c.truncated {
                    s.strip_suffix(ELLIPSIS).unwrap_or(s)
                } else {
                    s
                };
                assert!(text.starts_with(kept), "not a prefix of the input: {s:?}");
                assert_eq!(c.truncated, s != text);
            }
        }
        Some(input) if mode == 0 => {
            let fits = compact(text).len() <= budget && depth(&input) <= MAX_DEPTH;
            if fits || !c.truncated {
                assert_eq!(
                    c.json,
                    compact(text),
                    "valid input that fits is kept (truncated: {})",
                    c.truncated
                );
                assert!(!c.truncated);
            }
        }
        Some(_) => {}
    }
    if mode != 0 && canonical_escapes(text) {
        assert_masked(&out, mode == 1, "clamp_json output");
    }
}

/// `Redactor::mask_raw` and `is_secret_key`: masking raw (escaped) string content keeps it
/// valid, leaves no token or secret, and is idempotent.
pub fn redact_target(data: &[u8]) {
    let mut inp = Input::new(data);
    let patterns = inp.bool();
    let raw = String::from_utf8_lossy(inp.rest()).into_owned();
    let r = if patterns {
        Redactor::new(vec![TOKEN.into()])
    } else {
        Redactor::literals_only(vec![TOKEN.into()])
    };
    let _ = r.is_secret_key(&raw);
    let masked = r.mask_raw(&raw);
    let quoted = format!("\"{raw}\"");
    if tokens(&quoted).is_some_and(|t| t.len() == 1) {
        let out = assert_json(&format!("\"{masked}\""), "mask_raw output");
        assert_eq!(
            out.len(),
            1,
            "mask_raw output is not one string: {masked:?}"
        );
        if canonical_escapes(&quoted) {
            assert_masked(&out, patterns, "mask_raw output");
        }
        assert_eq!(r.mask_raw(&masked), masked, "masking twice changes it");
    }
}

/// `llm::parse_call` on any input/output pair: no panic; a recognised call encodes to valid
/// records (with the LLM attributes, prompts, completions and tools).
pub fn llm_parse_call(data: &[u8]) {
    let mut inp = Input::new(data);
    let has_input = inp.bool();
    let split = inp.u16() as usize;
    let text = String::from_utf8_lossy(inp.rest()).into_owned();
    let mut at = split.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let (input, output) = text.split_at(at);
    let input = has_input.then_some(input);
    let Some(call) = llm::parse_call(input, output) else {
        return;
    };
    let (prompts, completions, tools) = (
        call.prompts.len(),
        call.completions.len(),
        call.tool_calls.len(),
    );
    let span = finished_span(
        1,
        None,
        clamp_json(output, 1 << 20, None).json,
        Some(Box::new(call)),
    );
    let batch = Batch {
        trace: trace_info(None),
        trace_is_new: true,
        session_is_new: false,
        spans: vec![span],
    };
    let kinds = check_encoded(&batch, Target::Cloud, Some("project-1"));
    let count = |k: Kind| kinds.iter().filter(|x| **x == k).count();
    assert_eq!(
        (
            count(Kind::Prompt),
            count(Kind::Completion),
            count(Kind::Tool)
        ),
        (prompts, completions, tools)
    );
}

/// `llm::Stream`: chunks (the input's lines) pushed one by one, then finished: the output is
/// empty or valid JSON; a recognised call, with the output capture rules applied, has its texts
/// within `maxFieldBytes` (as JSON), masked, and encodes to valid records.
pub fn llm_stream(data: &[u8]) {
    let mut inp = Input::new(data);
    let max = 16 + inp.u16() as usize % 2048;
    let capture = inp.u8() % 4 != 0;
    let input = inp
        .bool()
        .then(|| clamp_json(&inp.capture(), 1 << 16, None).json);
    let mut stream = llm::Stream::default();
    let text = String::from_utf8_lossy(inp.rest()).into_owned();
    for chunk in text.split('\n') {
        stream.push(chunk);
        let _ = stream.retained_text();
    }
    let finished = stream.finish("");
    if !finished.output.is_empty() {
        assert_json(&finished.output, "stream output");
    }
    let output = if finished.output.is_empty() {
        "null".to_string()
    } else {
        finished.output.clone()
    };
    let Some(mut call) = finished.call(input.as_deref()) else {
        return;
    };
    llm::limit_output(&mut call, max, &Redactor::new(vec![TOKEN.into()]), capture);
    let texts = call
        .completions
        .iter()
        .map(|c| &c.content)
        .chain(call.tool_calls.iter().map(|t| &t.arguments));
    for t in texts {
        let literal = serde_json::to_string(t).unwrap();
        assert!(
            literal.len() <= max.max(MIN_BUDGET),
            "{} bytes > {max}: {literal:?}",
            literal.len()
        );
        assert!(
            capture || t.is_empty(),
            "output not captured, yet kept: {t:?}"
        );
        assert!(!t.contains(TOKEN), "the token is visible in {t:?}");
    }
    let span = finished_span(
        1,
        None,
        clamp_json(&output, 1 << 20, None).json,
        Some(Box::new(call)),
    );
    let batch = Batch {
        trace: trace_info(None),
        trace_is_new: true,
        session_is_new: false,
        spans: vec![span],
    };
    check_encoded(&batch, Target::Cloud, Some("project-1"));
}

/// A session (or none) from fuzz bytes.
fn session_from(inp: &mut Input) -> Option<Rc<Session>> {
    inp.bool().then(|| {
        Rc::new(Session {
            spec: Rc::new(SessionSpec {
                id: inp.string(),
                name: inp.bool().then(|| inp.string()),
                user_id: inp.bool().then(|| inp.string()),
            }),
            started_ms: inp.f64(),
        })
    })
}

/// The Agensight encoder on a batch built from fuzz bytes (captures clamped first, as the
/// tracer does): every record and every local-store line is valid JSON, in the right order.
pub fn agensight_encoder(data: &[u8]) {
    let mut inp = Input::new(data);
    let session = session_from(&mut inp);
    let mut trace = trace_info(session);
    trace.trace_id = TraceId(inp.u64() as u128 | (inp.u64() as u128) << 64);
    trace.name = inp.string().into();
    trace.start_ms = inp.f64();
    trace.end_ms = inp.f64();
    trace.total_tokens = inp.u64();
    if inp.bool() {
        trace.metadata = Some(
            clamp_json(&inp.capture(), 16 + inp.u16() as usize, None)
                .json
                .into(),
        );
    }
    let mut spans = Vec::new();
    while !inp.is_empty() && spans.len() < 12 {
        let max = 16 + inp.u16() as usize % 2048;
        let output = clamp_json(&inp.capture(), max, None).json;
        let llm = inp.bool().then(|| Box::new(llm_call(&mut inp)));
        let mut s = finished_span(
            inp.u64(),
            inp.bool().then(|| SpanId(inp.u64())),
            output,
            llm,
        );
        s.name = inp.string().into();
        s.kind = inp.string().into();
        s.start_ms = inp.f64();
        s.end_ms = inp.f64();
        s.truncated = inp.bool();
        s.input = inp
            .bool()
            .then(|| clamp_json(&inp.capture(), max, Some(&Redactor::default())).json);
        if inp.bool() {
            s.metadata = Some(clamp_json(&inp.capture(), max, None).json.into());
        }
        if inp.bool() {
            s.error = Some(ErrorInfo {
                name: inp.string(),
                message: inp.string(),
                stack: inp.string(),
            });
        }
        spans.push(s);
    }
    let batch = Batch {
        trace,
        trace_is_new: inp.bool(),
        session_is_new: inp.bool(),
        spans,
    };
    check_encoded(&batch, Target::Local, None);
    check_encoded(&batch, Target::Cloud, Some("proj\"\\\u{1}"));
}

/// The tracer driven by a sequence of calls as the JS wrapper makes them (with any handles,
/// any text, any times): no panic, and every local-store line is a valid record whose captures
/// are valid JSON within `maxFieldBytes`, with every parent in the span's own trace.
pub fn tracer_ops(data: &[u8]) {
    let mut inp = Input::new(data);
    let max = 16 + inp.u16() as usize % 1024;
    let options = format!(
        r#"{{"maxFieldBytes":{max},"redact":{},"capture":{{"input":{},"output":{}}},"token":"{TOKEN}","session":{}}}"#,
        inp.u8() % 4 != 0,
        inp.u8() % 4 != 0,
        inp.u8() % 4 != 0,
        if inp.bool() { "\"s1\"" } else { "null" },
    );
    let config = config::parse(&options).expect("valid options");
    let mut t = Core::new(config, inp.bytes(32), inp.f64());
    // A third of the runs with a tiny definition table (no input byte spent on it, so kept
    // inputs replay as before): evictions under open spans, and stale ids (REDEFINE, which
    // is 0: as a parent, "none").
    if max % 3 == 0 {
        t.bound_definitions(1 + max % 5, 2 * max);
    }
    let mut defs = vec![0u32];
    let mut handles = vec![NONE, NOOP];
    let mut lines = String::new();
    let mut ops = 0;
    while !inp.is_empty() && ops < 2000 {
        ops += 1;
        let pick = |inp: &mut Input, v: &Vec<u32>| v[inp.u16() as usize % v.len()];
        match inp.u8() % 8 {
            0 => {
                // Names and kinds are the developer's labels, not captures: never masked, so
                // never given the token here.
                let (name, kind, metadata) = (
                    without_token(inp.string()),
                    without_token(inp.string()),
                    inp.capture(),
                );
                defs.push(t.define(&name, &kind, &metadata));
            }
            1 | 2 => {
                let def = pick(&mut inp, &defs);
                let parent = if inp.u8() == 0 {
                    inp.u32()
                } else {
                    pick(&mut inp, &handles)
                };
                let session = (inp.u8() == 0).then(|| SessionSpec {
                    id: without_token(inp.string()),
                    name: None,
                    user_id: None,
                });
                let h = t.start(def, parent, inp.f64(), &inp.capture(), session);
                handles.push(h);
            }
            3 | 4 => {
                let h = pick(&mut inp, &handles);
                t.end(h, inp.f64(), &inp.capture(), None);
            }
            5 => {
                let h = pick(&mut inp, &handles);
                let e = ErrorInfo {
                    name: inp.string(),
                    message: inp.string(),
                    stack: inp.string(),
                };
                t.end(h, inp.f64(), "", Some(e));
            }
            6 => {
                let h = pick(&mut inp, &handles);
                t.stream_chunk(h, &inp.capture());
            }
            _ => lines.push_str(&t.take_local()),
        }
    }
    for h in handles {
        t.end(h, 1.0, "null", None);
    }
    lines.push_str(&t.take_local());
    check_store_lines(&lines, max);
}

// ---------------------------------------------------------------------------------------------
// Helpers

/// `s` without any occurrence of [`TOKEN`].
fn without_token(mut s: String) -> String {
    while s.contains(TOKEN) {
        s = s.replace(TOKEN, "");
    }
    s
}

fn trace_info(session: Option<Rc<Session>>) -> TraceInfo {
    TraceInfo {
        trace_id: TraceId(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
        name: "t".into(),
        start_ms: 1.0,
        end_ms: 2.0,
        session,
        metadata: None,
        total_tokens: 0,
    }
}

fn finished_span(
    id: u64,
    parent: Option<SpanId>,
    output: String,
    llm: Option<Box<LlmCall>>,
) -> FinishedSpan {
    FinishedSpan {
        span_id: SpanId(id),
        parent,
        name: "s".into(),
        kind: "span".into(),
        start_ms: 1.0,
        end_ms: 2.0,
        input: None,
        output: Some(output),
        error: None,
        metadata: None,
        truncated: false,
        llm,
        tool_call_id: None,
        seq: id,
    }
}

fn llm_call(inp: &mut Input) -> LlmCall {
    let opt = |inp: &mut Input| inp.bool().then(|| inp.string());
    let n = |inp: &mut Input| inp.u8() as usize % 4;
    LlmCall {
        system: inp.string(),
        operation: inp.string(),
        request_model: opt(inp),
        response_model: opt(inp),
        response_id: opt(inp),
        usage: Usage {
            input: inp.u64(),
            output: inp.u64(),
            total: inp.u64(),
            cache_read: inp.bool().then(|| inp.u64()),
            cache_creation: inp.bool().then(|| inp.u64()),
            reasoning: inp.bool().then(|| inp.u64()),
        },
        prompts: (0..n(inp))
            .map(|_| Message {
                role: inp.string(),
                content: inp.string(),
            })
            .collect(),
        completions: (0..n(inp))
            .map(|_| Completion {
                role: inp.string(),
                content: inp.string(),
                finish_reason: opt(inp),
            })
            .collect(),
        tool_calls: (0..n(inp))
            .map(|_| ToolCall {
                id: opt(inp),
                name: inp.string(),
                arguments: inp.string(),
            })
            .collect(),
        temperature: inp.bool().then(|| inp.f64()),
        max_tokens: inp.bool().then(|| inp.u64()),
    }
}

/// Encodes `batch` both ways (records, local lines); checks every record; returns the kinds.
fn check_encoded(batch: &Batch, target: Target, project: Option<&str>) -> Vec<Kind> {
    let enc = Encoder {
        mode: Mode::Dev,
        project_id: project,
        service: "svc\n\"",
        target,
    };
    let mut records = Vec::new();
    enc.encode(batch, |k, data| records.push((k, data.to_string())));
    let mut lines = String::new();
    enc.encode_lines(batch, &mut lines);
    assert_eq!(lines.lines().count(), records.len(), "one line per record");
    assert!(lines.is_empty() || lines.ends_with('\n'));
    for ((kind, data), line) in records.iter().zip(lines.lines()) {
        check_record(kind.as_str(), data);
        let v: serde_json::Value = serde_json::from_str(&without_surrogate_escapes(line))
            .unwrap_or_else(|e| panic!("local line is not JSON ({e}): {line:?}"));
        assert_eq!(v["type"], kind.as_str());
    }
    // Order: session, trace, then each span followed by its own prompt/completion/tool records.
    let kinds: Vec<Kind> = records.iter().map(|r| r.0).collect();
    let spans: Vec<usize> = kinds
        .iter()
        .enumerate()
        .filter(|(_, k)| **k == Kind::Span)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(spans.len(), batch.spans.len());
    if let Some(first) = spans.first() {
        assert!(kinds[..*first]
            .iter()
            .all(|k| matches!(k, Kind::Session | Kind::Trace)));
    }
    kinds
}

/// One record's data: a JSON object; `attributes` text is a JSON object too, and `metadata`
/// text is JSON (an object when the user gave one: the wrapper passes any value through).
fn check_record(kind: &str, data: &str) {
    let toks = assert_json(data, kind);
    assert!(
        matches!(toks.first().map(|t| &t.kind), Some(TokKind::Open(true))),
        "{kind} record is not an object"
    );
    let v: serde_json::Value =
        serde_json::from_str(&without_surrogate_escapes(data)).unwrap_or_default();
    for k in ["attributes", "metadata"] {
        if let Some(serde_json::Value::String(text)) = v.get(k) {
            let t = assert_json(text, k);
            if k == "attributes" {
                assert!(
                    matches!(t.first().map(|t| &t.kind), Some(TokKind::Open(true))),
                    "{kind}.{k} is not an object: {text:?}"
                );
            }
        }
    }
}

/// The raw text of the top-level member `key` of JSON object `text` (tokens from [`tokens`]).
pub fn member_raw<'a>(text: &'a str, toks: &[Tok], key: &str) -> Option<&'a str> {
    let mut depth = 0;
    let mut i = 0;
    while i < toks.len() {
        match &toks[i].kind {
            TokKind::Open(_) => depth += 1,
            TokKind::Close => depth -= 1,
            TokKind::Key(k) if depth == 1 && k == key => {
                let start = toks.get(i + 1)?.start;
                let mut d = 0;
                for t in &toks[i + 1..] {
                    match t.kind {
                        TokKind::Open(_) => d += 1,
                        TokKind::Close => d -= 1,
                        _ => {}
                    }
                    if d == 0 {
                        return Some(&text[start..t.end]);
                    }
                }
                return None;
            }
            _ => {}
        }
        i += 1;
    }
    None
}

/// Local-store lines: valid records; captures within `max` bytes; no token; parents in the
/// span's own trace.
fn check_store_lines(lines: &str, max: usize) {
    let mut span_trace: HashMap<String, String> = HashMap::new();
    let mut parents: Vec<(String, String, String)> = Vec::new(); // (span, parent, trace)
    let mut traces = HashSet::new();
    for line in lines.lines() {
        assert!(!line.contains(TOKEN), "the token is in the store: {line:?}");
        let v: serde_json::Value = serde_json::from_str(&without_surrogate_escapes(line))
            .unwrap_or_else(|e| panic!("store line is not JSON ({e}): {line:?}"));
        let kind = v["type"].as_str().expect("type");
        let data = &v["data"];
        check_record(kind, &serde_json::to_string(data).unwrap());
        match kind {
            "trace" => {
                traces.insert(data["id"].as_str().unwrap().to_string());
            }
            "span" => {
                let id = data["id"].as_str().unwrap().to_string();
                let trace = data["trace_id"].as_str().unwrap().to_string();
                // A span's trace record comes first (the same batch, or an earlier one).
                assert!(
                    traces.contains(&trace),
                    "span {id} before its trace {trace}"
                );
                if let Some(p) = data["parent_id"].as_str() {
                    parents.push((id.clone(), p.to_string(), trace.clone()));
                }
                assert!(
                    span_trace.insert(id, trace).is_none(),
                    "a span recorded twice"
                );
                let attrs = data["attributes"].as_str().unwrap();
                let toks = tokens(attrs).unwrap();
                for k in ["input", "output", "metadata"] {
                    if let Some(raw) = member_raw(attrs, &toks, k) {
                        assert!(
                            raw.len() <= max,
                            "{k}: {} bytes > maxFieldBytes {max}",
                            raw.len()
                        );
                    }
                }
            }
            _ => {}
        }
    }
    for (span, parent, trace) in parents {
        assert_eq!(
            span_trace.get(&parent),
            Some(&trace),
            "span {span}: parent {parent} is not a span of its trace {trace}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// OTLP protobuf encoder

fn pb_fields(b: &[u8]) -> Vec<Field<'_>> {
    decode_fields(b).unwrap_or_else(|e| panic!("the body does not decode: {e}"))
}

fn pb_get<'a>(f: &[Field<'a>], num: u32) -> Vec<&'a [u8]> {
    f.iter().filter(|x| x.0 == num).map(|x| x.3).collect()
}

fn check_key_values(kvs: Vec<&[u8]>) -> usize {
    for kv in &kvs {
        let f = pb_fields(kv);
        for k in pb_get(&f, 1) {
            std::str::from_utf8(k).expect("keys are UTF-8");
        }
        let values = pb_get(&f, 2);
        assert_eq!(values.len(), 1, "a KeyValue has one value");
        let any = pb_fields(values[0]);
        assert_eq!(any.len(), 1, "an AnyValue has one oneof member");
        match any[0].0 {
            1 => drop(std::str::from_utf8(any[0].3).expect("string values are UTF-8")),
            2 => assert!(any[0].2 <= 1, "a bool is 0 or 1"),
            3 => assert!(
                any[0].2 <= i64::MAX as u64,
                "int64 values are never negative here"
            ),
            4 => assert_eq!(any[0].1, 1, "a double is fixed64"),
            5 => {
                for v in pb_get(&pb_fields(any[0].3), 1) {
                    let item = pb_fields(v);
                    assert!(item.len() == 1 && item[0].0 == 1, "array items are strings");
                }
            }
            n => panic!("AnyValue field {n}"),
        }
    }
    kvs.len()
}

/// Counts the attributes the shared list writes.
struct CountAttrs(usize);
impl AttrSink for CountAttrs {
    fn str(&mut self, _: &str, _: &str) {
        self.0 += 1;
    }
    fn int(&mut self, _: &str, _: u64) {
        self.0 += 1;
    }
    fn f64(&mut self, _: &str, _: f64) {
        self.0 += 1;
    }
    fn bool(&mut self, _: &str, _: bool) {
        self.0 += 1;
    }
    fn str_array(&mut self, _: &str, _: &[&str]) {
        self.0 += 1;
    }
}

fn otlp_batch(inp: &mut Input) -> Batch {
    let session = session_from(inp);
    let trace = TraceInfo {
        trace_id: TraceId(inp.u64() as u128 | (inp.u64() as u128) << 64),
        name: inp.string().into(),
        start_ms: inp.f64(),
        end_ms: inp.f64(),
        session,
        metadata: inp.bool().then(|| inp.string().into()),
        total_tokens: inp.u64(),
    };
    let mut spans = Vec::new();
    while !inp.is_empty() && spans.len() < 8 && inp.bool() {
        spans.push(FinishedSpan {
            span_id: SpanId(inp.u64()),
            parent: inp.bool().then(|| SpanId(inp.u64())),
            name: inp.string().into(),
            kind: if inp.bool() {
                "tool".into()
            } else {
                inp.string().into()
            },
            start_ms: inp.f64(),
            end_ms: inp.f64(),
            input: inp.bool().then(|| inp.capture()),
            output: inp.bool().then(|| inp.capture()),
            error: inp.bool().then(|| ErrorInfo {
                name: inp.string(),
                message: inp.string(),
                stack: inp.string(),
            }),
            metadata: inp.bool().then(|| inp.string().into()),
            truncated: inp.bool(),
            llm: inp.bool().then(|| Box::new(llm_call(inp))),
            tool_call_id: None,
            seq: spans.len() as u64,
        });
    }
    Batch {
        trace,
        trace_is_new: inp.bool(),
        session_is_new: inp.bool(),
        spans,
    }
}

/// The OTLP protobuf encoder (src/encode/otlp_proto.rs) on any batch: the bytes always decode as
/// protobuf (every tag, varint and length in bounds, known wire types), with one
/// ResourceSpans, the resource's attributes, one ScopeSpans holding exactly the batch's spans,
/// each with a 16-byte trace id, an 8-byte span id, an 8-byte parent id iff it has a parent,
/// a known kind, valid UTF-8 strings, one AnyValue member per attribute, as many attributes
/// as the shared attribute list names, a status, and an exception event iff it failed.
pub fn otlp_proto(data: &[u8]) {
    let mut inp = Input::new(data);
    let batches: Vec<Batch> = (0..1 + inp.u8() % 3)
        .map(|_| otlp_batch(&mut inp))
        .collect();
    let (service, mode) = (inp.string(), inp.string());
    let body = agensight_wasm::encode::otlp_proto::encode(&batches, &service, &mode);
    let request = pb_fields(&body);
    assert_eq!(request.len(), 1, "one ResourceSpans");
    let rs = pb_fields(request[0].3);
    let mut resource = CountAttrs(0);
    genai::otlp_resource(&service, &mode, &mut resource);
    assert_eq!(
        check_key_values(pb_get(&pb_fields(pb_get(&rs, 1)[0]), 1)),
        resource.0,
        "the resource's attributes"
    );
    let scope_spans = pb_get(&rs, 2);
    assert_eq!(scope_spans.len(), 1, "one ScopeSpans");
    let spans = pb_get(&pb_fields(scope_spans[0]), 2);
    let all: Vec<(&TraceInfo, &FinishedSpan)> = batches
        .iter()
        .flat_map(|b| b.spans.iter().map(move |s| (&b.trace, s)))
        .collect();
    assert_eq!(spans.len(), all.len(), "every span, once");
    for (bytes, (t, s)) in spans.into_iter().zip(all) {
        let f = pb_fields(bytes);
        assert_eq!(pb_get(&f, 1), vec![&t.trace_id.0.to_be_bytes()[..]]);
        assert_eq!(pb_get(&f, 2), vec![&s.span_id.0.to_be_bytes()[..]]);
        assert_eq!(pb_get(&f, 4).len(), usize::from(s.parent.is_some()));
        assert!(pb_get(&f, 4).iter().all(|p| p.len() == 8));
        for name in pb_get(&f, 5) {
            std::str::from_utf8(name).expect("span names are UTF-8");
        }
        let kind: Vec<u64> = f.iter().filter(|x| x.0 == 6).map(|x| x.2).collect();
        assert!(
            kind == [1] || kind == [3],
            "kind INTERNAL or CLIENT: {kind:?}"
        );
        let mut want = CountAttrs(0);
        genai::otlp_span(t, s, &mut want);
        assert_eq!(
            check_key_values(pb_get(&f, 9)),
            want.0,
            "every attribute, once"
        );
        let events = pb_get(&f, 11);
        assert_eq!(events.len(), usize::from(s.error.is_some()));
        for e in events {
            assert_eq!(
                check_key_values(pb_get(&pb_fields(e), 3)),
                3,
                "exception type, message, stacktrace"
            );
        }
        assert_eq!(pb_get(&f, 15).len(), 1, "a status");
    }
}

/// src/json's value reader and writer against serde_json, which they replace in the .wasm:
/// both accept the text or both refuse it, and what they accept writes back to the same bytes
/// (number kinds, key order, duplicate keys, escapes).
pub fn json_value(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ours = agensight_wasm::json::parse(text).map(|v| v.to_string());
    let theirs = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .map(|v| v.to_string());
    assert_eq!(ours, theirs, "{text:?}");
}
