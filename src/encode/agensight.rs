//! The Agensight record encoder: a [`Batch`] as the records of the Agensight cloud API (the
//! Python SDK's), in order: session, trace, then spans parents-first, each span followed by
//! its prompts, completions and tools. The local store keeps the same records, one
//! `{"type": ..., "data": {...}}` line each.

use super::genai::{self, Dialect};
use crate::config::Mode;
use crate::ids::{SpanId, TraceId};
use crate::json::Value;
use crate::json::{control_escape, escape_hits, with_f64_text, Obj, ESCAPED};
use crate::model::{Batch, FinishedSpan, TraceInfo};
use std::mem::MaybeUninit;

/// The record types, named as in the API paths (`/logs/create/{kind}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Session,
    Trace,
    Span,
    Prompt,
    Completion,
    Tool,
    /// `{id, total_tokens}`, for a trace whose LLM spans ended after it was first sent.
    TraceUpdate,
}

impl Kind {
    /// How a local-store line of this kind starts, in one piece (one copy per record).
    fn line_head(self) -> &'static str {
        match self {
            Kind::Session => "{\"type\":\"session\",\"data\":",
            Kind::Trace => "{\"type\":\"trace\",\"data\":",
            Kind::Span => "{\"type\":\"span\",\"data\":",
            Kind::Prompt => "{\"type\":\"prompt\",\"data\":",
            Kind::Completion => "{\"type\":\"completion\",\"data\":",
            Kind::Tool => "{\"type\":\"tool\",\"data\":",
            Kind::TraceUpdate => "{\"type\":\"trace_update\",\"data\":",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Session => "session",
            Kind::Trace => "trace",
            Kind::Span => "span",
            Kind::Prompt => "prompt",
            Kind::Completion => "completion",
            Kind::Tool => "tool",
            Kind::TraceUpdate => "trace_update",
        }
    }
}

/// Where records go: the local store also keeps the trace's `total_tokens` on the trace
/// record (the cloud API takes it through a separate trace update).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Local,
    Cloud,
}

/// Settings every record carries.
pub struct Encoder<'a> {
    pub mode: Mode,
    pub project_id: Option<&'a str>,
    pub service: &'a str,
    pub target: Target,
}

fn secs(ms: f64) -> f64 {
    ms / 1000.0
}

/// A record's time in seconds as [`crate::json::push_f64`] writes `ms / 1000`, on the stack
/// (a root span's times are its trace's: written once). Timestamps (seconds since 1970 with a
/// fraction) go through [`fixed_shortest`], which needs no 128-bit product (a library call in
/// wasm32, three or four per number in the general formatter); anything else through
/// `push_f64` itself.
#[derive(Clone, Copy)]
struct Secs {
    len: u8,
    /// Written up to `len` (not zeroed first: a fill is a call into the engine in wasm).
    text: [MaybeUninit<u8>; 32],
}

impl Secs {
    /// `ms` as written, `known` if it is the same as `known_ms` (a root span's times are its
    /// trace's).
    fn of(ms: f64, known_ms: f64, known: &Secs) -> Secs {
        if ms.to_bits() == known_ms.to_bits() {
            *known
        } else {
            Secs::new(ms)
        }
    }

    fn new(ms: f64) -> Secs {
        let mut t = Secs {
            len: 0,
            text: [MaybeUninit::uninit(); 32],
        };
        let x = secs(ms);
        match fixed_shortest(x, &mut t.text) {
            Some(n) => t.len = n as u8,
            // push_f64's own text, with no String per number: durations of a few
            // microseconds come here.
            None => with_f64_text(x, |text| {
                for (to, &b) in t.text.iter_mut().zip(text.as_bytes()) {
                    to.write(b);
                }
                t.len = text.len().min(32) as u8;
            }),
        }
        t
    }
}

impl std::ops::Deref for Secs {
    type Target = str;
    fn deref(&self) -> &str {
        // SAFETY: the first `len` bytes are written: ASCII digits and a point, or push_f64's
        // forms (ASCII, at most 24 bytes).
        unsafe {
            std::str::from_utf8_unchecked(std::slice::from_raw_parts(
                self.text.as_ptr().cast::<u8>(),
                self.len as usize,
            ))
        }
    }
}

/// `x` in the shortest decimal that reads back as `x` (the digits `push_f64`'s formatter
/// writes), for `1e-5 <= x < 2^52` with a fraction: `1796326927.1665723`, `0.0000586`
/// (timestamps and durations in seconds). `None` where another
/// path must answer: outside that range, and the rare cases where "shortest, then nearest"
/// needs care (a tie, a decimal on the rounding boundary, a power of two's narrower lower
/// interval). `x = m / 2^k`; for `d` fractional digits the nearest decimal is
/// `c = round(x * 10^d) = round(m * 5^d / 2^(k - d))` and reads back as `x` when
/// `|c - x * 10^d| < 10^d / 2^(k + 1)`, i.e. `2r < 5^d` with `r = |c * 2^(k-d) - m * 5^d|`. If
/// `d` digits read back, so do `d + 1`: the fewest that do is the shortest, searched from 17
/// significant digits (always enough) down.
fn fixed_shortest(x: f64, out: &mut [MaybeUninit<u8>; 32]) -> Option<usize> {
    const POW10: [u64; 17] = powers(10);
    const FIVE: [u64; 22] = powers(5);
    let bits = x.to_bits();
    let frac = bits & ((1 << 52) - 1);
    // Sign set, or exponent out of range: k = 1075 - biased exponent must be in 1..=69
    // (below 1e-5 the formatter writes an exponent anyway).
    let k = 1075 - (bits >> 52) as i64;
    if !(1..=69).contains(&k) || frac == 0 || x < 1e-5 {
        return None;
    }
    let m = frac | 1 << 52;
    // The whole part, its digits, and the fractional digits that make 17 significant ones:
    // below 1, after the zeros that follow the point (counted against the doubles nearest
    // 0.1, 0.01, ...: never more than there are; one fewer only makes 16 digits, which may
    // not read back, and then the other path answers).
    let (int, n, top) = if k <= 52 {
        let int = m >> k;
        if m & ((1 << k) - 1) == 0 {
            return None; // a whole number: push_f64 writes those as integers
        }
        let n = POW10.iter().take_while(|&&p| p <= int).count();
        (int, n, 17 - n)
    } else {
        let zeros = [0.1, 0.01, 0.001, 0.0001]
            .iter()
            .take_while(|&&p| x < p)
            .count();
        (0, 0, 17 + zeros)
    };
    // The nearest decimal with d fractional digits: Some(Some(c)) if it reads back as x,
    // Some(None) if not, None where the other path must answer.
    let probe = |d: usize| -> Option<Option<u64>> {
        let shift = k - d as i64;
        if !(1..=63).contains(&shift) {
            return None;
        }
        let five = FIVE[d];
        let (hi, lo) = mul_wide(m, five);
        let shift = shift as u32;
        let rem = lo & ((1u64 << shift) - 1);
        let half = 1u64 << (shift - 1);
        if rem == half {
            return None;
        }
        let up = rem > half;
        let c = ((lo >> shift) | (hi << (64 - shift))) + up as u64;
        let r = if up { (1 << shift) - rem } else { rem };
        match (2 * r as u128).cmp(&(five as u128)) {
            std::cmp::Ordering::Less => Some(Some(c)),
            std::cmp::Ordering::Equal => None,
            std::cmp::Ordering::Greater => Some(None),
        }
    };
    // The fewest digits that read back: 17 significant ones always do, a timestamp mostly
    // needs them all or all but one; below that, halving the range (the fewest is where
    // "reads back" starts, since what d digits can spell d + 1 can too).
    let mut found = (probe(top)??, top);
    let (mut lo, mut hi) = (1, top);
    if top > 1 {
        match probe(top - 1)? {
            None => lo = top,
            Some(c) => found = (c, top - 1),
        }
        hi = found.1;
    }
    while lo < hi {
        let mid = (lo + hi) / 2;
        match probe(mid)? {
            Some(c) => {
                found = (c, mid);
                hi = mid;
            }
            None => lo = mid + 1,
        }
    }
    let (c, d) = found;
    // c has d fractional digits, the last one not 0 (else d - 1 would have read back), and
    // `int` whole (a whole number between c / 10^d and x would be a closer double). Five
    // zeros after the point or more: the formatter writes an exponent. The digits eight at a
    // time from 32-bit numbers: a 64-bit division is a real division in wasm32, a digit loop
    // a division by 10 per digit.
    if n == 0 && d >= 5 && c < POW10[d - 5] {
        return None;
    }
    let f = if n == 0 { c } else { c - int * POW10[d] };
    let mut at = if n == 0 {
        out[0].write(b'0');
        1
    } else if int < 100_000_000 {
        put_digits(out, 0, int as u32, n)
    } else {
        let (hi, lo) = if int >> 32 == 0 {
            ((int as u32) / 100_000_000, (int as u32) % 100_000_000)
        } else {
            ((int / 100_000_000) as u32, (int % 100_000_000) as u32)
        };
        let at = put_digits(out, 0, hi, n - 8);
        put_digits(out, at, lo, 8)
    };
    out[at].write(b'.');
    at += 1;
    let (f, d) = if d > 16 {
        let hi = f / POW10[16];
        at = put_digits(out, at, hi as u32, d - 16);
        (f - hi * POW10[16], 16)
    } else {
        (f, d)
    };
    if d > 8 {
        let hi = f / 100_000_000;
        at = put_digits(out, at, hi as u32, d - 8);
        at = put_digits(out, at, (f - hi * 100_000_000) as u32, 8);
    } else {
        at = put_digits(out, at, f as u32, d);
    }
    Some(at)
}

/// `[1, b, b^2, ...]`.
const fn powers<const N: usize>(b: u64) -> [u64; N] {
    let mut t = [1u64; N];
    let mut i = 1;
    while i < N {
        t[i] = t[i - 1] * b;
        i += 1;
    }
    t
}

/// Writes `v < 10^n` as exactly `n` digits (leading zeros), `1 <= n <= 8`, at `out[at..]`
/// (eight bytes written, `at + 8 <= 32`); returns `at + n`. The eight digits of `v` from a
/// few multiplications on one 64-bit word (halves, quarters, eighths; each quotient by a
/// multiply and a shift, exact below 10^4, 10^2), then the `8 - n` leading zeros shifted
/// out.
#[inline(always)]
fn put_digits(out: &mut [MaybeUninit<u8>; 32], at: usize, v: u32, n: usize) -> usize {
    let mut x = (v / 10_000) as u64 | ((v % 10_000) as u64) << 32;
    let hi = ((x * 10_486) >> 20) & 0x0000_007f_0000_007f;
    x = hi | ((x - hi * 100) << 16);
    let hi = ((x * 103) >> 10) & 0x000f_000f_000f_000f;
    x = hi | ((x - hi * 10) << 8);
    let ascii = (x | 0x3030_3030_3030_3030) >> (8 * (8 - n));
    // One store (a slice copy is a call and a `memory.copy` here); the range is checked.
    let to = out[at..at + 8].as_mut_ptr().cast::<u64>();
    unsafe { to.write_unaligned(ascii.to_le()) };
    at + n
}

/// `a * b` as (high, low) 64-bit words, for `a < 2^53`, `b < 2^50`: four 32-bit products
/// (a `u128` product is a library call in wasm32).
#[inline(always)]
fn mul_wide(a: u64, b: u64) -> (u64, u64) {
    let (a1, a0) = (a >> 32, a & 0xffff_ffff);
    let (b1, b0) = (b >> 32, b & 0xffff_ffff);
    let mid = a1 * b0 + a0 * b1; // < 2^21 * 2^32 + 2^32 * 2^18: no overflow
    let low = a0 * b0;
    let (lo, carry) = low.overflowing_add(mid << 32);
    (a1 * b1 + (mid >> 32) + carry as u64, lo)
}

impl Encoder<'_> {
    /// Calls `emit(kind, data_json)` for every record of `batch`, in API order.
    ///
    /// ```
    /// # use agensight_wasm::{encode::agensight::*, config::Mode, model::*, ids::*};
    /// # use std::rc::Rc;
    /// let trace = TraceInfo { trace_id: TraceId(1), name: "main".into(), start_ms: 1000.0, end_ms: 3000.0,
    ///     session: None, metadata: None, total_tokens: 0 };
    /// let batch = Batch { trace, trace_is_new: true, session_is_new: false, spans: vec![] };
    /// let enc = Encoder { mode: Mode::Local, project_id: None, service: "svc", target: Target::Local };
    /// let mut kinds = vec![];
    /// enc.encode(&batch, |k, data| kinds.push((k, data.to_string())));
    /// assert_eq!(kinds[0].0, Kind::Trace);
    /// assert!(kinds[0].1.contains(r#""started_at":1,"ended_at":3"#));
    /// ```
    pub fn encode(&self, batch: &Batch, mut emit: impl FnMut(Kind, &str)) {
        self.encode_into(batch, &mut Out::Each(&mut emit, String::with_capacity(512)))
    }

    /// [`Encoder::encode`] and [`Encoder::encode_lines`], compiled once for every caller (the
    /// .wasm is a size budget).
    fn encode_into(&self, batch: &Batch, out: &mut Out) {
        let t = &batch.trace;
        // Once per batch, not per record: the trace id as records spell it, and room for a
        // span's attributes (reused).
        let uuid = t.trace_id.uuid();
        let trace_id: &str = &uuid;
        // Room for the usual span's attributes at once, not grown by doubling from 8 bytes.
        let mut attrs = String::with_capacity(512);
        // The trace's times, its root span's too.
        let times = [Secs::new(t.start_ms), Secs::new(t.end_ms)];
        if batch.session_is_new {
            if let Some(s) = &t.session {
                let mut o = Obj::new(out.begin(Kind::Session));
                o.str("id", &s.spec.id)
                    .opt_str("project_id", self.project_id)
                    .num("started_at", secs(s.started_ms))
                    .opt_str("session_name", s.spec.name.as_deref())
                    .opt_str("user_id", s.spec.user_id.as_deref())
                    .str("metadata", "{}")
                    .str("mode", self.mode.as_str());
                o.finish();
                out.end(Kind::Session);
            }
        }
        if batch.trace_is_new {
            self.trace(t, trace_id, &times, out.begin(Kind::Trace));
            out.end(Kind::Trace);
        }
        let spans: Vec<&FinishedSpan>;
        let spans: &mut dyn Iterator<Item = &FinishedSpan> = match self.target {
            Target::Local => &mut batch.spans.iter(),
            Target::Cloud => {
                spans = self.ordered(&batch.spans);
                &mut spans.iter().copied()
            }
        };
        for s in spans {
            attrs.clear();
            self.span(t, trace_id, &times, s, &mut attrs, out.begin(Kind::Span));
            out.end(Kind::Span);
            self.llm_records(t, s, out);
            self.normalized_records(t, s, out);
        }
        let late_tokens = !batch.trace_is_new && batch.spans.iter().any(|s| s.llm.is_some());
        if (self.target == Target::Cloud && batch.trace_is_new && t.total_tokens > 0) || late_tokens
        {
            let mut o = Obj::new(out.begin(Kind::TraceUpdate));
            o.str("id", trace_id).int("total_tokens", t.total_tokens);
            o.finish();
            out.end(Kind::TraceUpdate);
        }
    }

    /// The spans in the order records go. The cloud API gets them as the reference client
    /// sends the spans inside a trace: by depth, then start order; the trace's root span (the
    /// reference has none: its `trace()` is no span) goes last, as it ends last. Its dashboard
    /// reads an INTERNAL span's model and records through the row stored just before it, so a
    /// root stored first would shift what every agent shows. The local store keeps start order.
    fn ordered<'b>(&self, spans: &'b [FinishedSpan]) -> Vec<&'b FinishedSpan> {
        let mut out: Vec<&FinishedSpan> = spans.iter().collect();
        if self.target == Target::Cloud {
            let depth = |s: &FinishedSpan| {
                let (mut d, mut at) = (0usize, s.parent);
                while let Some(p) = at {
                    d += 1;
                    at = spans.iter().find(|x| x.span_id == p).and_then(|x| x.parent);
                    if d > spans.len() {
                        break; // a cycle cannot happen; never loop on one
                    }
                }
                d
            };
            // Stable: start order within a depth.
            out.sort_by_cached_key(|s| match depth(s) {
                0 => usize::MAX,
                d => d,
            });
        }
        out
    }

    fn trace(&self, t: &TraceInfo, trace_id: &str, times: &[Secs; 2], buf: &mut String) {
        let mut o = Obj::new(buf);
        o.str("id", trace_id)
            .opt_str("project_id", self.project_id)
            .str("name", &t.name)
            .raw("started_at", &times[0])
            .raw("ended_at", &times[1])
            .opt_str("session_id", t.session.as_ref().map(|s| s.spec.id.as_str()))
            .str("metadata", t.metadata.as_deref().unwrap_or("{}"))
            .str("mode", self.mode.as_str());
        if self.target == Target::Local {
            o.int("total_tokens", t.total_tokens);
        }
        o.finish();
    }

    fn span(
        &self,
        t: &TraceInfo,
        trace_id: &str,
        times: &[Secs; 2],
        s: &FinishedSpan,
        attrs: &mut String,
        buf: &mut String,
    ) {
        // The usual local span (no LLM call, no error): its attributes escaped into the
        // record piece by piece, never built as an object of their own first.
        let direct = self.target == Target::Local && s.llm.is_none() && s.error.is_none();
        if !direct {
            self.attributes(t, trace_id, s, attrs);
        }
        let cloud = self.target == Target::Cloud;
        let id = self.span_id(t, s.span_id);
        let parent = s.parent.map(|p| self.span_id(t, p));
        let mut o = Obj::new(buf);
        o.str("id", &id)
            .opt_str("project_id", self.project_id)
            .str("trace_id", trace_id)
            .opt_str("parent_id", parent.as_deref())
            .str("name", &s.name)
            .raw("started_at", &Secs::of(s.start_ms, t.start_ms, &times[0]))
            .raw("ended_at", &Secs::of(s.end_ms, t.end_ms, &times[1]))
            .raw("duration", &Secs::new(s.end_ms - s.start_ms));
        if cloud {
            // The reference client's vocabulary: Python's str() of the OpenTelemetry kind and
            // status code (its dashboard lists INTERNAL spans as agents). A span that returned
            // is OK here, UNSET there (docs/records.md).
            o.str("kind", cloud_kind(s)).str(
                "status",
                if s.error.is_some() {
                    "StatusCode.ERROR"
                } else {
                    "StatusCode.OK"
                },
            );
        } else {
            o.str("kind", &s.kind)
                .str("status", if s.error.is_some() { "error" } else { "ok" });
        }
        // The attributes, the span's largest string, through the escaper for long runs: the
        // object goes on by hand from here (an `Obj` only opens and closes it).
        buf.push_str(",\"attributes\":");
        if direct {
            self.local_attributes(s, attrs, buf);
        } else {
            push_string_runs(buf, attrs);
        }
        buf.push_str(",\"mode\":");
        crate::json::push_string(buf, self.mode.as_str());
        buf.push('}');
    }

    /// A span's id as records spell it: the cloud API's are UUIDs (as the reference client's),
    /// derived from the trace and span ids so that every record of a span, and an outbox
    /// resend, names it alike; the local store keeps the OpenTelemetry hex.
    fn span_id(&self, t: &TraceInfo, s: SpanId) -> SpanIdText {
        match self.target {
            Target::Cloud => SpanIdText::Uuid(span_uuid(t.trace_id, s)),
            Target::Local => SpanIdText::Hex(s.hex()),
        }
    }

    /// The string `attributes` writes for a local span without an LLM call or an error, as a
    /// record's JSON string: escaped straight into `buf` piece by piece (escaping goes byte by
    /// byte, so the pieces escaped are the whole escaped). `scratch`: room for the service
    /// name as JSON. Tests: `local_attributes_are_the_attributes_escaped`.
    fn local_attributes(&self, s: &FinishedSpan, scratch: &mut String, buf: &mut String) {
        scratch.clear();
        crate::json::push_string(scratch, self.service);
        buf.push_str("\"{\\\"service.name\\\":");
        push_escaped(buf, scratch, false);
        let raw = [
            (",\\\"input\\\":", s.input.as_deref()),
            (",\\\"output\\\":", s.output.as_deref()),
            (",\\\"metadata\\\":", s.metadata.as_deref()),
        ];
        for (key, value) in raw {
            if let Some(v) = value {
                buf.push_str(key);
                push_escaped(buf, v, false);
            }
        }
        if s.truncated {
            buf.push_str(",\\\"truncated\\\":true");
        }
        buf.push_str("}\"");
    }

    /// The span's attributes object: captures, error, and the GenAI attributes of an LLM call;
    /// for the cloud API also what the reference client's exporter and dashboard read.
    fn attributes(&self, t: &TraceInfo, trace_id: &str, s: &FinishedSpan, out: &mut String) {
        let mut o = Obj::new(out);
        o.str("service.name", self.service);
        if self.target == Target::Cloud {
            o.str("agensight.span.kind", &s.kind)
                .str("trace_id", trace_id)
                .str("trace.name", &t.name);
            if let Some(sess) = &t.session {
                o.str("session.id", &sess.spec.id);
            }
            if let Some(n) = normalized(s) {
                o.str("gen_ai.normalized_input_output", &n);
            }
        }
        if let Some(i) = &s.input {
            o.raw("input", i);
        }
        if let Some(v) = &s.output {
            o.raw("output", v);
        }
        if let Some(m) = &s.metadata {
            o.raw("metadata", m);
        }
        if let Some(e) = &s.error {
            o.str("error.type", &e.name)
                .str("error.message", &e.message)
                .str("error.stack", &e.stack);
        }
        if s.truncated {
            o.bool("truncated", true);
        }
        if let Some(l) = &s.llm {
            genai::llm_call(l, Dialect::Agensight, &mut o);
            if self.target == Target::Cloud {
                // The names the reference client's exporter and dashboard read the call by.
                o.int("llm.usage.total_tokens", l.usage.total)
                    .int("gen_ai.usage.prompt_tokens", l.usage.input)
                    .int("gen_ai.usage.completion_tokens", l.usage.output);
                genai::indexed_messages(l, &mut o);
            }
        }
        o.finish();
    }

    /// The prompt and completion records of a span that is not an LLM call, as the reference
    /// client makes them from its `gen_ai.normalized_input_output` (cloud only).
    fn normalized_records(&self, t: &TraceInfo, s: &FinishedSpan, out: &mut Out) {
        if self.target != Target::Cloud {
            return;
        }
        let Some((prompt, completion)) = normalized_parts(s) else {
            return;
        };
        let span_id = self.span_id(t, s.span_id);
        if let Some(p) = prompt {
            let mut o = Obj::new(out.begin(Kind::Prompt));
            o.str("span_id", &span_id)
                .str("role", "user")
                .str("content", &p)
                .int("message_index", 0);
            o.finish();
            out.end(Kind::Prompt);
        }
        if let Some(c) = completion {
            let mut o = Obj::new(out.begin(Kind::Completion));
            o.str("span_id", &span_id)
                .str("role", "assistant")
                .str("content", &c)
                .raw("finish_reason", "null")
                .raw("total_tokens", "null")
                .raw("prompt_tokens", "null")
                .raw("completion_tokens", "null");
            o.finish();
            out.end(Kind::Completion);
        }
    }

    fn llm_records(&self, t: &TraceInfo, s: &FinishedSpan, out: &mut Out) {
        let Some(l) = &s.llm else { return };
        let span_id = self.span_id(t, s.span_id);
        for (i, p) in l.prompts.iter().enumerate() {
            let mut o = Obj::new(out.begin(Kind::Prompt));
            o.str("span_id", &span_id)
                .str("role", &p.role)
                .str("content", &p.content)
                .int("message_index", i as u64);
            o.finish();
            out.end(Kind::Prompt);
        }
        for (i, c) in l.completions.iter().enumerate() {
            // Usage belongs to the call, not to each choice: only the first carries it, so a
            // backend summing completion records counts each call once.
            let (total, prompt, completion) = if i == 0 {
                (l.usage.total, l.usage.input, l.usage.output)
            } else {
                (0, 0, 0)
            };
            let mut o = Obj::new(out.begin(Kind::Completion));
            o.str("span_id", &span_id)
                .str("role", &c.role)
                .str("content", &c.content)
                .opt_str("finish_reason", c.finish_reason.as_deref())
                .int("total_tokens", total)
                .int("prompt_tokens", prompt)
                .int("completion_tokens", completion);
            o.finish();
            out.end(Kind::Completion);
        }
        for t in &l.tool_calls {
            let mut o = Obj::new(out.begin(Kind::Tool));
            o.str("span_id", &span_id)
                .str("name", &t.name)
                .str("arguments", &t.arguments);
            o.finish();
            out.end(Kind::Tool);
        }
    }

    /// Appends the batch as local-store lines: `{"type":"span","data":{...}}\n`.
    pub fn encode_lines(&self, batch: &Batch, out: &mut String) {
        self.encode_into(batch, &mut Out::Lines(out))
    }
}

/// Where [`Encoder::encode_into`] writes each record: into a buffer handed to a callback, or
/// straight onto the end of local-store lines (no copy of each record).
enum Out<'o> {
    Each(&'o mut dyn FnMut(Kind, &str), String),
    Lines(&'o mut String),
}

impl Out<'_> {
    /// Where the record's JSON object goes.
    fn begin(&mut self, kind: Kind) -> &mut String {
        match self {
            Out::Each(_, buf) => {
                buf.clear();
                buf
            }
            Out::Lines(out) => {
                out.push_str(kind.line_head());
                out
            }
        }
    }

    /// The record is written.
    fn end(&mut self, kind: Kind) {
        match self {
            Out::Each(emit, buf) => emit(kind, buf),
            Out::Lines(out) => out.push_str("}\n"),
        }
    }
}

/// [`crate::json::push_string`] for text whose plain runs are long enough to move eight bytes
/// at a time: a span's attributes (JSON, escaped once more as a string), the largest string
/// of every span record. A word with no byte to escape is stored whole; one with such a byte
/// is stored whole too, and the write goes on from that byte (what follows it is overwritten).
/// The same bytes as `push_string` (tests: `escapes_as_push_string`).
fn push_string_runs(out: &mut String, s: &str) {
    if s.len() < 16 {
        return crate::json::push_string(out, s);
    }
    push_escaped(out, s, true)
}

/// [`push_string_runs`]'s escaping, with or without the quotes around.
fn push_escaped(out: &mut String, s: &str, quoted: bool) {
    let bytes = s.as_bytes();
    // SAFETY: as in push_string: every byte of `s` written in order, ASCII escapes for ASCII
    // bytes (the String stays UTF-8); the room reserved covers every write, an eight-byte one
    // included: it is made only while eight or more bytes of `s` are left, each needing at
    // least one byte of the room, which also holds the closing quote.
    let v = unsafe { out.as_mut_vec() };
    if v.capacity() - v.len() < bytes.len() * 6 + 2 {
        let extra: usize = bytes.iter().map(|&b| ESCAPED[b as usize] as usize).sum();
        if v.capacity() - v.len() < bytes.len() + extra + 2 {
            v.reserve(bytes.len() + extra + 2);
        }
    }
    let len = v.len();
    unsafe {
        let start = v.as_mut_ptr().add(len);
        let mut p = start;
        if quoted {
            p.write(b'"');
            p = p.add(1);
        }
        let mut i = 0;
        while i < bytes.len() {
            if bytes.len() - i >= 8 {
                let w = bytes.as_ptr().add(i).cast::<u64>().read_unaligned();
                let hit = escape_hits(w);
                p.cast::<u64>().write_unaligned(w);
                if hit == 0 {
                    p = p.add(8);
                    i += 8;
                    continue;
                }
                let n = (hit.trailing_zeros() / 8) as usize;
                p = p.add(n);
                i += n;
            }
            let b = bytes[i];
            i += 1;
            p = escape(b, p);
        }
        if quoted {
            p.write(b'"');
            p = p.add(1);
        }
        v.set_len(len + p.offset_from(start) as usize);
    }
}

/// Writes byte `b` of a string's content at `p` as JSON spells it; returns the end.
///
/// # Safety
/// `p` is valid for `1 + ESCAPED[b]` bytes of writes.
#[inline(always)]
unsafe fn escape(b: u8, p: *mut u8) -> *mut u8 {
    unsafe {
        match ESCAPED[b as usize] {
            0 => {
                p.write(b);
                p.add(1)
            }
            1 => {
                p.write(b'\\');
                p.add(1).write(match b {
                    b'\n' => b'n',
                    b'\r' => b'r',
                    b'\t' => b't',
                    _ => b,
                });
                p.add(2)
            }
            _ => {
                let e = control_escape(b);
                std::ptr::copy_nonoverlapping(e.as_ptr(), p, 6);
                p.add(6)
            }
        }
    }
}

/// A span id as records spell it, on the stack.
enum SpanIdText {
    Hex(crate::ids::IdText<16>),
    Uuid(crate::ids::IdText<36>),
}

impl std::ops::Deref for SpanIdText {
    type Target = str;
    fn deref(&self) -> &str {
        match self {
            SpanIdText::Hex(t) => t,
            SpanIdText::Uuid(t) => t,
        }
    }
}

/// A span's kind in the reference client's words: an LLM call is `SpanKind.CLIENT`, a
/// function `SpanKind.INTERNAL`. The trace's root span (the reference has none) is
/// `SpanKind.SERVER`, the trace's entry point: its dashboard takes every INTERNAL span for an
/// agent candidate and swaps an INTERNAL span's id for the row stored before it, so an
/// INTERNAL root would show the last LLM call's prompt as the trace's input.
fn cloud_kind(s: &FinishedSpan) -> &'static str {
    if s.llm.is_some() {
        "SpanKind.CLIENT"
    } else if s.parent.is_none() {
        "SpanKind.SERVER"
    } else {
        "SpanKind.INTERNAL"
    }
}

/// The UUID of span `s` of trace `t` in cloud records: a hash of both (the same on every
/// record of the span and on every resend), with the UUID v4 version and variant bits.
///
/// ```
/// # use agensight_wasm::{encode::agensight::span_uuid, ids::*};
/// let a = span_uuid(TraceId(7), SpanId(1));
/// assert_eq!(a, span_uuid(TraceId(7), SpanId(1)));
/// assert_ne!(a, span_uuid(TraceId(7), SpanId(2)));
/// assert_ne!(a, span_uuid(TraceId(8), SpanId(1)));
/// assert_eq!(&a[14..15], "4");
/// ```
pub fn span_uuid(t: TraceId, s: SpanId) -> crate::ids::IdText<36> {
    // splitmix64's finalizer: every input bit moves every output bit.
    fn mix(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    let hi = mix((t.0 >> 64) as u64 ^ mix(s.0));
    let lo = mix(t.0 as u64 ^ mix(s.0 ^ 0x9e3779b97f4a7c15));
    let hi = (hi & !0xf000) | 0x4000;
    let lo = (lo & 0x3fff_ffff_ffff_ffff) | 0x8000_0000_0000_0000;
    TraceId((hi as u128) << 64 | lo as u128).uuid()
}

/// What the reference client's `@span` records as its input and output: the first text found
/// in the arguments (a message's `content`) and the result's `content` (or its text). Only
/// for spans below the trace that are not LLM calls (those have records of their own).
fn normalized_parts(s: &FinishedSpan) -> Option<(Option<String>, Option<String>)> {
    if s.parent.is_none() || s.llm.is_some() {
        return None;
    }
    let parse = |text: &str| crate::json::parse(text).unwrap_or(Value::String(text.into()));
    let prompt = s
        .input
        .as_deref()
        .map(parse)
        .filter(|v| !matches!(v, Value::Null) && v.as_array().is_none_or(|a| !a.is_empty()))
        .map(|v| first_text(&v));
    let completion = s.output.as_deref().map(parse).map(|v| first_text(&v));
    Some((prompt, completion))
}

/// The `gen_ai.normalized_input_output` attribute of a span (see [`normalized_parts`]).
fn normalized(s: &FinishedSpan) -> Option<String> {
    let (prompt, completion) = normalized_parts(s)?;
    let mut out = String::from("{\"prompts\":[");
    if let Some(p) = prompt {
        let mut o = Obj::new(&mut out);
        o.str("role", "user").str("content", &p);
        o.finish();
    }
    out.push_str("],\"completions\":[");
    if let Some(c) = completion {
        let mut o = Obj::new(&mut out);
        o.str("role", "assistant")
            .str("content", &c)
            .raw("finish_reason", "null")
            .raw("completion_tokens", "null")
            .raw("prompt_tokens", "null")
            .raw("total_tokens", "null");
        o.finish();
    }
    out.push_str("]}");
    Some(out)
}

/// The first text in a value, as the reference client finds it: a list's first non-empty
/// item, an object's `content`, a string itself, anything else as JSON text.
fn first_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(first_text)
            .find(|t| !t.is_empty())
            .unwrap_or_else(|| v.to_string()),
        Value::Object(o) => match o.get("content") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None if o.contains_key("content") => String::new(),
            Some(c) => c.to_string(),
            None => v.to_string(),
        },
        _ => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::{fixed_shortest, push_string_runs, Secs};
    use crate::json::{push_f64, push_string};
    use std::mem::MaybeUninit;

    /// Random words, the same on every run (the span id generator, seeded).
    struct Rng(crate::ids::IdGenerator);

    impl Rng {
        fn new(seed: u8) -> Rng {
            Rng(crate::ids::IdGenerator::new(&[seed; 32]))
        }
        fn next(&mut self) -> u64 {
            self.0.span_id().0
        }
    }

    #[test]
    fn seconds_are_written_as_push_f64_writes_them() {
        let old = |x: f64| {
            let mut s = String::new();
            push_f64(&mut s, x);
            s
        };
        let check = |ms: f64| {
            let got = Secs::new(ms);
            assert_eq!(&*got, old(ms / 1000.0), "ms {ms:?} ({:#x})", ms.to_bits());
        };
        let mut rng = Rng::new(1);
        // Timestamps as Node makes them (timeOrigin + performance.now(), in ms): every bit
        // pattern near today's, and durations; then any bits in the range the fast path takes,
        // and a few fixed ones (whole numbers, powers of two, small and large).
        for _ in 0..300_000 {
            let now =
                1.7e12 + (rng.next() % (1 << 40)) as f64 + (rng.next() % 4096) as f64 / 4096.0;
            check(now);
            check(f64::from_bits(now.to_bits() ^ (rng.next() & 0xfff)));
            check((rng.next() % 10_000_000) as f64 / 4096.0);
            check(f64::from_bits(rng.next() >> 2) % 2000.0);
            check((rng.next() % 100_000) as f64 * 1e-4);
            let any = f64::from_bits(rng.next() >> 1);
            if (1.0..4.6e18).contains(&any) {
                check(any);
            }
            let e = (rng.next() % 60) as i32 - 4;
            check(f64::from_bits((rng.next() >> 12) | (((1023 + e) as u64) << 52)) * 1000.0);
        }
        for ms in [
            0.0,
            1.0,
            999.0,
            1000.0,
            1500.0,
            1024.0,
            2048.0,
            1e18,
            9.007199254740993e18,
            4.503599627370496e18,
            1764050107123.4567,
            0.25,
            f64::MIN_POSITIVE,
            -1500.5,
            0.01,
            0.1,
            1.0e-2 * 1.0e-3,
            0.0099999,
            100.0,
            f64::NAN,
            f64::INFINITY,
        ] {
            check(ms);
            check(ms.next_up());
            check(ms.next_down());
        }
        assert_eq!(&*Secs::new(1764050107123.4567), "1764050107.1234567");
        assert!(
            fixed_shortest(1764050107.1234567, &mut [MaybeUninit::uninit(); 32]).is_some(),
            "the fast path"
        );
        assert_eq!(&*Secs::new(0.05859375), "0.00005859375");
        assert!(fixed_shortest(0.00005859375, &mut [MaybeUninit::uninit(); 32]).is_some());
        assert_eq!(&*Secs::new(0.0059), "5.9e-6", "an exponent: the other path");
    }

    #[test]
    fn local_attributes_are_the_attributes_escaped() {
        use super::{Encoder, Target};
        use crate::config::Mode;
        use crate::ids::{SpanId, TraceId};
        use crate::model::{FinishedSpan, TraceInfo};
        let pieces = [
            "\"",
            "\\",
            "\n",
            "\t",
            "\u{1}",
            "é",
            "😀",
            "a",
            "[1,{\"k\":\"v\"}]",
            "What's up?",
            "",
        ];
        let mut rng = Rng::new(3);
        let mut text = |rng: &mut Rng, none: bool| {
            if none && rng.next() % 4 == 0 {
                return None;
            }
            let mut t = String::new();
            for _ in 0..rng.next() % 12 {
                t.push_str(pieces[(rng.next() % pieces.len() as u64) as usize]);
            }
            Some(t)
        };
        let trace = TraceInfo {
            trace_id: TraceId(9),
            name: "t".into(),
            start_ms: 1.0,
            end_ms: 2.0,
            session: None,
            metadata: None,
            total_tokens: 0,
        };
        for case in 0..5_000 {
            let service = text(&mut rng, false).unwrap();
            let enc = Encoder {
                mode: Mode::Local,
                project_id: None,
                service: &service,
                target: Target::Local,
            };
            let span = FinishedSpan {
                span_id: SpanId(1),
                parent: None,
                name: "s".into(),
                kind: "span".into(),
                start_ms: 1.0,
                end_ms: 2.0,
                input: text(&mut rng, true),
                output: text(&mut rng, true),
                error: None,
                metadata: text(&mut rng, true).map(Into::into),
                truncated: rng.next() % 2 == 0,
                llm: None,
                tool_call_id: None,
                seq: 1,
            };
            let mut attrs = String::new();
            enc.attributes(&trace, "id", &span, &mut attrs);
            let mut want = String::from("x");
            push_string(&mut want, &attrs);
            let mut got = String::from("x");
            enc.local_attributes(&span, &mut String::new(), &mut got);
            assert_eq!(got, want, "case {case}");
        }
    }

    #[test]
    fn escapes_as_push_string() {
        // Runs of plain text of every length between bytes to escape (quotes, back slashes,
        // control bytes, the line ends), multi-byte characters, and JSON text.
        let pieces = [
            "\"",
            "\\",
            "\n",
            "\r",
            "\t",
            "\u{0}",
            "\u{1f}",
            "\u{7f}",
            "é",
            "😀",
            " ",
            "a",
            "0123456",
            "{\"k\":[1,\"v\"]}",
            "What's the weather in Paris?",
        ];
        let mut rng = Rng::new(2);
        for case in 0..20_000 {
            let mut s = String::new();
            for _ in 0..rng.next() % 40 {
                s.push_str(pieces[(rng.next() % pieces.len() as u64) as usize]);
            }
            // Appended after what is there: with the worst case's room (a buffer of lines),
            // with just the room (counted), and with none.
            let mut want = String::from("x");
            push_string(&mut want, &s);
            for room in [s.len() * 6 + 2, s.len() + 2, 0] {
                let mut got = String::with_capacity(1 + room);
                got.push('x');
                push_string_runs(&mut got, &s);
                assert_eq!(got, want, "case {case}: {s:?}, room {room}");
            }
        }
        let mut got = String::new();
        push_string_runs(&mut got, "{\"input\":[\"a\\\\b\"]}\n\u{1}");
        assert_eq!(got, r#""{\"input\":[\"a\\\\b\"]}\n\u0001""#);
    }
}
