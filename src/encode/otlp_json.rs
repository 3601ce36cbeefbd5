//! The OTLP/HTTP JSON encoder: batches as one `ExportTraceServiceRequest`
//! (`resourceSpans/scopeSpans/spans`, lowerCamelCase fields, hex ids, times as decimal strings
//! of nanoseconds, integer enums) with the OpenTelemetry GenAI attributes, so any OTLP receiver
//! (Collector, Jaeger, Tempo, Langfuse, Phoenix) takes it.

use super::genai::{self, AttrSink};
use crate::json::{push_f64, push_string, push_u64};
use crate::model::{Batch, FinishedSpan, TraceInfo};

/// `SPAN_KIND_INTERNAL`, `SPAN_KIND_CLIENT` (an LLM call leaves the process).
const KIND_INTERNAL: u8 = 1;
const KIND_CLIENT: u8 = 3;
/// `STATUS_CODE_OK`, `STATUS_CODE_ERROR`.
const STATUS_OK: u8 = 1;
const STATUS_ERROR: u8 = 2;

/// Appends milliseconds since the epoch as the JSON string of the decimal nanoseconds, exact
/// to the microsecond (an f64 of nanoseconds would not be).
fn push_nanos(out: &mut String, ms: f64) {
    // Microseconds since the epoch still fit an f64 exactly (< 2^53); nanoseconds do not.
    let micros = (ms.max(0.0) * 1000.0).round() as u64;
    out.push('"');
    push_u64(out, micros);
    if micros != 0 {
        out.push_str("000");
    }
    out.push('"');
}

/// An OTLP JSON `"attributes":[KeyValue...]` list, written by [`genai`].
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
    fn close(self) {
        self.out.push(']');
    }
}

impl AttrSink for Attrs<'_> {
    fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        self.out.push_str("{\"stringValue\":");
        push_string(self.out, v);
        self.out.push_str("}}");
    }
    /// int64 is a decimal string in the protobuf JSON mapping; values above `i64::MAX` are
    /// written as `i64::MAX`, as the protobuf encoder does (a receiver refuses the request
    /// for an out-of-range int64).
    fn int(&mut self, k: &str, v: u64) {
        self.key(k);
        self.out.push_str("{\"intValue\":\"");
        push_u64(self.out, v.min(i64::MAX as u64));
        self.out.push_str("\"}}");
    }
    fn f64(&mut self, k: &str, v: f64) {
        self.key(k);
        self.out.push_str("{\"doubleValue\":");
        push_f64(self.out, v);
        self.out.push_str("}}");
    }
    fn bool(&mut self, k: &str, v: bool) {
        self.key(k);
        self.out.push_str(if v {
            "{\"boolValue\":true}}"
        } else {
            "{\"boolValue\":false}}"
        });
    }
    fn str_array(&mut self, k: &str, items: &[&str]) {
        self.key(k);
        self.out.push_str("{\"arrayValue\":{\"values\":[");
        for (i, s) in items.iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            self.out.push_str("{\"stringValue\":");
            push_string(self.out, s);
            self.out.push('}');
        }
        self.out.push_str("]}}}");
    }
}

/// Encodes `batches` as one OTLP/HTTP JSON request body.
///
/// ```
/// # use agensight_wasm::{encode::otlp_json::encode, model::*, ids::*};
/// let trace = TraceInfo { trace_id: TraceId(0x4bf92f3577b34da6a3ce929d0e0e4736), name: "main".into(),
///     start_ms: 1000.5, end_ms: 2000.0, session: None, metadata: None, total_tokens: 0 };
/// let span = FinishedSpan { span_id: SpanId(0x00f067aa0ba902b7), parent: None, name: "main".into(),
///     kind: "trace".into(), start_ms: 1000.5, end_ms: 2000.0, input: None, output: None, error: None,
///     metadata: None, truncated: false, llm: None, tool_call_id: None, seq: 1 };
/// let body = encode(&[Batch { trace, trace_is_new: true, session_is_new: false, spans: vec![span] }], "svc", "local");
/// assert!(body.contains(r#""traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7""#));
/// assert!(body.contains(r#""startTimeUnixNano":"1000500000""#));
/// ```
pub fn encode(batches: &[Batch], service: &str, mode: &str) -> String {
    let mut out = String::with_capacity(1024 * batches.len().max(1));
    out.push_str("{\"resourceSpans\":[{\"resource\":{");
    let mut a = Attrs::open(&mut out);
    genai::otlp_resource(service, mode, &mut a);
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
    // push_str, not write!: core::fmt's code per call site added up (HACKING.md "Size").
    out.push_str("{\"traceId\":\"");
    out.push_str(&t.trace_id.hex());
    out.push_str("\",\"spanId\":\"");
    out.push_str(&s.span_id.hex());
    out.push('"');
    if let Some(p) = s.parent {
        out.push_str(",\"parentSpanId\":\"");
        out.push_str(&p.hex());
        out.push('"');
    }
    out.push_str(",\"name\":");
    push_string(out, &s.name);
    let kind = if s.llm.is_some() {
        KIND_CLIENT
    } else {
        KIND_INTERNAL
    };
    out.push_str(",\"kind\":");
    push_u64(out, kind as u64);
    out.push_str(",\"startTimeUnixNano\":");
    push_nanos(out, s.start_ms);
    out.push_str(",\"endTimeUnixNano\":");
    push_nanos(out, s.end_ms);
    out.push(',');
    let mut a = Attrs::open(out);
    genai::otlp_span(t, s, &mut a);
    a.close();
    if let Some(e) = &s.error {
        // The OpenTelemetry exception event, plus an ERROR status with the message.
        out.push_str(",\"events\":[{\"timeUnixNano\":");
        push_nanos(out, s.end_ms);
        out.push_str(",\"name\":\"exception\",");
        let mut a = Attrs::open(out);
        genai::otlp_exception(e, &mut a);
        a.close();
        out.push_str("}],\"status\":{\"code\":");
        push_u64(out, STATUS_ERROR as u64);
        out.push_str(",\"message\":");
        push_string(out, &e.message);
        out.push_str("}}");
    } else {
        out.push_str(",\"status\":{\"code\":");
        push_u64(out, STATUS_OK as u64);
        out.push_str("}}");
    }
}

#[cfg(test)]
mod tests {
    use super::{push_nanos, AttrSink, Attrs};

    #[test]
    fn int64_values_above_i64_max_are_capped_as_in_protobuf() {
        let mut out = String::new();
        let mut a = Attrs::open(&mut out);
        a.int("big", u64::MAX);
        a.int("max", i64::MAX as u64);
        a.close();
        let want = i64::MAX.to_string();
        assert_eq!(
            out.matches(&format!(r#"{{"intValue":"{want}"}}"#)).count(),
            2,
            "{out}"
        );
    }

    #[test]
    fn nanosecond_strings_are_exact_to_the_microsecond() {
        let nanos = |ms: f64| {
            let mut s = String::new();
            push_nanos(&mut s, ms);
            s
        };
        assert_eq!(nanos(1_700_000_000_123.456), r#""1700000000123456000""#);
        assert_eq!(nanos(0.0), r#""0""#);
        assert_eq!(nanos(1.0), r#""1000000""#);
    }
}
