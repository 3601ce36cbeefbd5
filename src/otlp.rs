//! The OTLP/HTTP JSON encoder: batches as one `ExportTraceServiceRequest`
//! (`resourceSpans/scopeSpans/spans`, lowerCamelCase fields, hex ids, times as decimal strings
//! of nanoseconds, integer enums) with the OpenTelemetry GenAI attributes, so any OTLP receiver
//! (Collector, Jaeger, Tempo, Langfuse, Phoenix) takes it.

use crate::json::{push_f64, push_string};
use crate::model::{Batch, FinishedSpan, TraceInfo};
use std::fmt::Write;

/// `SPAN_KIND_INTERNAL`, `SPAN_KIND_CLIENT` (an LLM call leaves the process).
const KIND_INTERNAL: u8 = 1;
const KIND_CLIENT: u8 = 3;
/// `STATUS_CODE_OK`, `STATUS_CODE_ERROR`.
const STATUS_OK: u8 = 1;
const STATUS_ERROR: u8 = 2;

/// Milliseconds since the epoch as the decimal string of nanoseconds, exact to the
/// microsecond (an f64 of nanoseconds would not be).
fn nanos(ms: f64) -> String {
    // Microseconds since the epoch still fit an f64 exactly (< 2^53); nanoseconds do not.
    let micros = (ms.max(0.0) * 1000.0).round() as u64;
    if micros == 0 {
        return "0".into();
    }
    format!("{micros}000")
}

/// Writes OTLP `KeyValue` attributes.
struct Attrs<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Attrs<'a> {
    fn open(out: &'a mut String) -> Attrs<'a> {
        out.push_str("\"attributes\":[");
        Attrs { out, first: true }
    }
    fn key(&mut self, k: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push_str("{\"key\":");
        push_string(self.out, k);
        self.out.push_str(",\"value\":");
    }
    fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        self.out.push_str("{\"stringValue\":");
        push_string(self.out, v);
        self.out.push_str("}}");
    }
    /// int64 is a decimal string in the protobuf JSON mapping.
    fn int(&mut self, k: &str, v: u64) {
        self.key(k);
        let _ = write!(self.out, "{{\"intValue\":\"{v}\"}}}}");
    }
    fn double(&mut self, k: &str, v: f64) {
        self.key(k);
        self.out.push_str("{\"doubleValue\":");
        push_f64(self.out, v);
        self.out.push_str("}}");
    }
    fn str_array<'s>(&mut self, k: &str, items: impl Iterator<Item = &'s str>) {
        self.key(k);
        self.out.push_str("{\"arrayValue\":{\"values\":[");
        for (i, s) in items.enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.out.push_str("{\"stringValue\":");
            push_string(self.out, s);
            self.out.push('}');
        }
        self.out.push_str("]}}}");
    }
    fn close(self) {
        self.out.push(']');
    }
}

/// Encodes `batches` as one OTLP/HTTP JSON request body.
///
/// ```
/// # use agensight_wasm::{otlp::encode, model::*, ids::*};
/// let trace = TraceInfo { trace_id: TraceId(0x4bf92f3577b34da6a3ce929d0e0e4736), name: "main".into(),
///     start_ms: 1000.5, end_ms: 2000.0, session: None, metadata: None, total_tokens: 0 };
/// let span = FinishedSpan { span_id: SpanId(0x00f067aa0ba902b7), parent: None, name: "main".into(),
///     kind: "trace".into(), start_ms: 1000.5, end_ms: 2000.0, input: None, output: None, error: None,
///     metadata: None, truncated: false, llm: None, seq: 1 };
/// let body = encode(&[Batch { trace, trace_is_new: true, session_is_new: false, spans: vec![span] }], "svc", "local");
/// assert!(body.contains(r#""traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7""#));
/// assert!(body.contains(r#""startTimeUnixNano":"1000500000""#));
/// ```
pub fn encode(batches: &[Batch], service: &str, mode: &str) -> String {
    let mut out = String::with_capacity(1024 * batches.len().max(1));
    out.push_str("{\"resourceSpans\":[{\"resource\":{");
    let mut a = Attrs::open(&mut out);
    a.str("service.name", service);
    a.str("telemetry.sdk.name", "agensight-wasm");
    a.str("telemetry.sdk.language", "webjs");
    a.str("telemetry.sdk.version", env!("CARGO_PKG_VERSION"));
    a.str("deployment.environment.name", mode);
    a.close();
    out.push_str("},\"scopeSpans\":[{\"scope\":{\"name\":\"agensight-wasm\",\"version\":\"");
    out.push_str(env!("CARGO_PKG_VERSION"));
    out.push_str("\"},\"spans\":[");
    let mut first = true;
    for b in batches {
        for s in &b.spans {
            if !first {
                out.push(',');
            }
            first = false;
            span(&mut out, &b.trace, s);
        }
    }
    out.push_str("]}]}]}");
    out
}

fn span(out: &mut String, t: &TraceInfo, s: &FinishedSpan) {
    let _ = write!(
        out,
        "{{\"traceId\":\"{}\",\"spanId\":\"{}\"",
        t.trace_id.hex(),
        s.span_id.hex()
    );
    if let Some(p) = s.parent {
        let _ = write!(out, ",\"parentSpanId\":\"{}\"", p.hex());
    }
    out.push_str(",\"name\":");
    push_string(out, &s.name);
    let kind = if s.llm.is_some() {
        KIND_CLIENT
    } else {
        KIND_INTERNAL
    };
    let _ = write!(
        out,
        ",\"kind\":{kind},\"startTimeUnixNano\":\"{}\",\"endTimeUnixNano\":\"{}\",",
        nanos(s.start_ms),
        nanos(s.end_ms)
    );
    let mut a = Attrs::open(out);
    a.str("agensight.span.kind", &s.kind);
    if s.parent.is_none() {
        a.str("agensight.trace.name", &t.name);
        a.int("agensight.trace.total_tokens", t.total_tokens);
    }
    if let Some(sess) = &t.session {
        a.str("gen_ai.conversation.id", &sess.spec.id);
        a.str("session.id", &sess.spec.id);
        if let Some(n) = &sess.spec.name {
            a.str("session.name", n);
        }
        if let Some(u) = &sess.spec.user_id {
            a.str("user.id", u);
        }
    }
    if let Some(i) = &s.input {
        a.str("input.value", i);
        a.str("input.mime_type", "application/json");
    }
    if let Some(o) = &s.output {
        a.str("output.value", o);
        a.str("output.mime_type", "application/json");
    }
    if let Some(m) = &s.metadata {
        a.str("metadata", m);
    }
    if s.truncated {
        a.key("agensight.truncated");
        a.out.push_str("{\"boolValue\":true}}");
    }
    if &*s.kind == "tool" {
        a.str("gen_ai.operation.name", "execute_tool");
        a.str("gen_ai.tool.name", &s.name);
    }
    if let Some(l) = &s.llm {
        a.str("gen_ai.operation.name", &l.operation);
        a.str("gen_ai.system", &l.system);
        a.str("gen_ai.provider.name", &l.system);
        if let Some(m) = &l.request_model {
            a.str("gen_ai.request.model", m);
        }
        if let Some(m) = &l.response_model {
            a.str("gen_ai.response.model", m);
        }
        if let Some(id) = &l.response_id {
            a.str("gen_ai.response.id", id);
        }
        if let Some(v) = l.temperature {
            a.double("gen_ai.request.temperature", v);
        }
        if let Some(v) = l.max_tokens {
            a.int("gen_ai.request.max_tokens", v);
        }
        a.int("gen_ai.usage.input_tokens", l.usage.input);
        a.int("gen_ai.usage.output_tokens", l.usage.output);
        for (k, v) in [
            ("gen_ai.usage.cache_read.input_tokens", l.usage.cache_read),
            (
                "gen_ai.usage.cache_creation.input_tokens",
                l.usage.cache_creation,
            ),
            ("gen_ai.usage.reasoning.output_tokens", l.usage.reasoning),
        ] {
            if let Some(v) = v {
                a.int(k, v);
            }
        }
        a.str_array(
            "gen_ai.response.finish_reasons",
            l.completions
                .iter()
                .filter_map(|c| c.finish_reason.as_deref()),
        );
        // The indexed prompt/completion attributes that Langfuse, Phoenix and OpenLLMetry read.
        for (i, p) in l.prompts.iter().enumerate() {
            a.str(&format!("gen_ai.prompt.{i}.role"), &p.role);
            a.str(&format!("gen_ai.prompt.{i}.content"), &p.content);
        }
        for (i, c) in l.completions.iter().enumerate() {
            a.str(&format!("gen_ai.completion.{i}.role"), &c.role);
            a.str(&format!("gen_ai.completion.{i}.content"), &c.content);
            if let Some(f) = &c.finish_reason {
                a.str(&format!("gen_ai.completion.{i}.finish_reason"), f);
            }
        }
        for (j, tc) in l.tool_calls.iter().enumerate() {
            if let Some(id) = &tc.id {
                a.str(&format!("gen_ai.completion.0.tool_calls.{j}.id"), id);
            }
            a.str(
                &format!("gen_ai.completion.0.tool_calls.{j}.name"),
                &tc.name,
            );
            a.str(
                &format!("gen_ai.completion.0.tool_calls.{j}.arguments"),
                &tc.arguments,
            );
        }
    }
    a.close();
    if let Some(e) = &s.error {
        // The OpenTelemetry exception event, plus an ERROR status with the message.
        let _ = write!(
            out,
            ",\"events\":[{{\"timeUnixNano\":\"{}\",\"name\":\"exception\",",
            nanos(s.end_ms)
        );
        let mut a = Attrs::open(out);
        a.str("exception.type", &e.name);
        a.str("exception.message", &e.message);
        a.str("exception.stacktrace", &e.stack);
        a.close();
        let _ = write!(out, "}}],\"status\":{{\"code\":{STATUS_ERROR},\"message\":");
        push_string(out, &e.message);
        out.push_str("}}");
    } else {
        let _ = write!(out, ",\"status\":{{\"code\":{STATUS_OK}}}}}");
    }
}

#[cfg(test)]
mod tests {
    use super::nanos;

    #[test]
    fn nanosecond_strings_are_exact_to_the_microsecond() {
        assert_eq!(nanos(1_700_000_000_123.456), "1700000000123456000");
        assert_eq!(nanos(0.0), "0");
        assert_eq!(nanos(1.0), "1000000");
    }
}
