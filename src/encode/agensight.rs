//! The Agensight record encoder: a [`Batch`] as the records of the Agensight cloud API (the
//! Python SDK's), in order: session, trace, then spans parents-first, each span followed by
//! its prompts, completions and tools. The local store keeps the same records, one
//! `{"type": ..., "data": {...}}` line each.

use super::genai::{self, Dialect};
use crate::config::Mode;
use crate::ids::{SpanId, TraceId};
use crate::json::Obj;
use crate::json::Value;
use crate::model::{Batch, FinishedSpan, TraceInfo};

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
        let trace_id = t.trace_id.uuid();
        let mut attrs = String::new();
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
            self.trace(t, &trace_id, out.begin(Kind::Trace));
            out.end(Kind::Trace);
        }
        for s in self.ordered(&batch.spans) {
            attrs.clear();
            self.span(t, &trace_id, s, &mut attrs, out.begin(Kind::Span));
            out.end(Kind::Span);
            self.llm_records(t, s, out);
            self.normalized_records(t, s, out);
        }
        let late_tokens = !batch.trace_is_new && batch.spans.iter().any(|s| s.llm.is_some());
        if (self.target == Target::Cloud && batch.trace_is_new && t.total_tokens > 0) || late_tokens
        {
            let mut o = Obj::new(out.begin(Kind::TraceUpdate));
            o.str("id", &trace_id).int("total_tokens", t.total_tokens);
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

    fn trace(&self, t: &TraceInfo, trace_id: &str, buf: &mut String) {
        let mut o = Obj::new(buf);
        o.str("id", trace_id)
            .opt_str("project_id", self.project_id)
            .str("name", &t.name)
            .num("started_at", secs(t.start_ms))
            .num("ended_at", secs(t.end_ms))
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
        s: &FinishedSpan,
        attrs: &mut String,
        buf: &mut String,
    ) {
        self.attributes(t, trace_id, s, attrs);
        let cloud = self.target == Target::Cloud;
        let id = self.span_id(t, s.span_id);
        let parent = s.parent.map(|p| self.span_id(t, p));
        let mut o = Obj::new(buf);
        o.str("id", &id)
            .opt_str("project_id", self.project_id)
            .str("trace_id", trace_id)
            .opt_str("parent_id", parent.as_deref())
            .str("name", &s.name)
            .num("started_at", secs(s.start_ms))
            .num("ended_at", secs(s.end_ms))
            .num("duration", secs(s.end_ms - s.start_ms));
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
        o.str("attributes", attrs).str("mode", self.mode.as_str());
        o.finish();
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
                out.push_str("{\"type\":\"");
                out.push_str(kind.as_str());
                out.push_str("\",\"data\":");
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
