//! The Agensight record encoder: a [`Batch`] as the records of the Agensight cloud API (the
//! Python SDK's), in order: session, trace, then spans parents-first, each span followed by
//! its prompts, completions and tools. The local store keeps the same records, one
//! `{"type": ..., "data": {...}}` line each.

use super::genai::{self, Dialect};
use crate::config::Mode;
use crate::json::Obj;
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
        self.encode_into(batch, &mut emit)
    }

    /// [`Encoder::encode`] compiled once for every caller (the .wasm is a size budget).
    fn encode_into(&self, batch: &Batch, emit: &mut dyn FnMut(Kind, &str)) {
        let mut buf = String::with_capacity(512);
        let t = &batch.trace;
        if batch.session_is_new {
            if let Some(s) = &t.session {
                buf.clear();
                let mut o = Obj::new(&mut buf);
                o.str("id", &s.spec.id)
                    .opt_str("project_id", self.project_id)
                    .num("started_at", secs(s.started_ms))
                    .opt_str("session_name", s.spec.name.as_deref())
                    .opt_str("user_id", s.spec.user_id.as_deref())
                    .str("metadata", "{}")
                    .str("mode", self.mode.as_str());
                o.finish();
                emit(Kind::Session, &buf);
            }
        }
        if batch.trace_is_new {
            buf.clear();
            self.trace(t, &mut buf);
            emit(Kind::Trace, &buf);
        }
        for s in &batch.spans {
            buf.clear();
            self.span(t, s, &mut buf);
            emit(Kind::Span, &buf);
            self.llm_records(s, &mut buf, emit);
        }
        let late_tokens = !batch.trace_is_new && batch.spans.iter().any(|s| s.llm.is_some());
        if (self.target == Target::Cloud && batch.trace_is_new && t.total_tokens > 0) || late_tokens
        {
            buf.clear();
            let mut o = Obj::new(&mut buf);
            o.str("id", &t.trace_id.uuid())
                .int("total_tokens", t.total_tokens);
            o.finish();
            emit(Kind::TraceUpdate, &buf);
        }
    }

    fn trace(&self, t: &TraceInfo, buf: &mut String) {
        let mut o = Obj::new(buf);
        o.str("id", &t.trace_id.uuid())
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

    fn span(&self, t: &TraceInfo, s: &FinishedSpan, buf: &mut String) {
        let mut attrs = String::with_capacity(256);
        self.attributes(s, &mut attrs);
        let mut o = Obj::new(buf);
        o.str("id", &s.span_id.hex())
            .opt_str("project_id", self.project_id)
            .str("trace_id", &t.trace_id.uuid())
            .opt_str("parent_id", s.parent.map(|p| p.hex()).as_deref())
            .str("name", &s.name)
            .num("started_at", secs(s.start_ms))
            .num("ended_at", secs(s.end_ms))
            .num("duration", secs(s.end_ms - s.start_ms))
            .str("kind", &s.kind)
            .str("status", if s.error.is_some() { "error" } else { "ok" })
            .str("attributes", &attrs)
            .str("mode", self.mode.as_str());
        o.finish();
    }

    /// The span's attributes object: captures, error, and the GenAI attributes of an LLM call.
    fn attributes(&self, s: &FinishedSpan, out: &mut String) {
        let mut o = Obj::new(out);
        o.str("service.name", self.service);
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
        }
        o.finish();
    }

    fn llm_records(&self, s: &FinishedSpan, buf: &mut String, emit: &mut dyn FnMut(Kind, &str)) {
        let Some(l) = &s.llm else { return };
        let span_id = s.span_id.hex();
        for (i, p) in l.prompts.iter().enumerate() {
            buf.clear();
            let mut o = Obj::new(buf);
            o.str("span_id", &span_id)
                .str("role", &p.role)
                .str("content", &p.content)
                .int("message_index", i as u64);
            o.finish();
            emit(Kind::Prompt, buf);
        }
        for (i, c) in l.completions.iter().enumerate() {
            // Usage belongs to the call, not to each choice: only the first carries it, so a
            // backend summing completion records counts each call once.
            let (total, prompt, completion) = if i == 0 {
                (l.usage.total, l.usage.input, l.usage.output)
            } else {
                (0, 0, 0)
            };
            buf.clear();
            let mut o = Obj::new(buf);
            o.str("span_id", &span_id)
                .str("role", &c.role)
                .str("content", &c.content)
                .opt_str("finish_reason", c.finish_reason.as_deref())
                .int("total_tokens", total)
                .int("prompt_tokens", prompt)
                .int("completion_tokens", completion);
            o.finish();
            emit(Kind::Completion, buf);
        }
        for t in &l.tool_calls {
            buf.clear();
            let mut o = Obj::new(buf);
            o.str("span_id", &span_id)
                .str("name", &t.name)
                .str("arguments", &t.arguments);
            o.finish();
            emit(Kind::Tool, buf);
        }
    }

    /// Appends the batch as local-store lines: `{"type":"span","data":{...}}\n`.
    pub fn encode_lines(&self, batch: &Batch, out: &mut String) {
        self.encode(batch, |kind, data| {
            out.push_str("{\"type\":\"");
            out.push_str(kind.as_str());
            out.push_str("\",\"data\":");
            out.push_str(data);
            out.push_str("}\n");
        });
    }
}
