//! The OTLP/HTTP protobuf encoder: the batches of [`crate::encode::otlp_json::encode`] as the bytes of one
//! `ExportTraceServiceRequest` (`application/x-protobuf`), with the same resource, spans and
//! attributes. Written by hand (a varint and length-delimited writer, no protobuf library) to
//! keep the .wasm small.
//!
//! Field numbers are those of opentelemetry-proto (`collector/trace/v1/trace_service.proto`,
//! `trace/v1/trace.proto`, `common/v1/common.proto`, `resource/v1/resource.proto`), read from
//! the official generated classes of the `opentelemetry-proto` 1.45.2 package. Defaults are
//! left out as proto3 encoders leave them out (an empty singular string, a zero time), and
//! fields go in field-number order, so the bytes equal what the official serializer writes for
//! the same message (tests/backends/otlp-proto.test.mjs checks that, byte for byte).
//!
//! The attributes come from the one GenAI attribute writer ([`super::genai`]) through this
//! encoder's [`AttrSink`], as the JSON encoder's do: both formats carry the same names, values
//! and order.

use super::genai::{self, AttrSink};
use crate::model::{Batch, FinishedSpan, TraceInfo};

/// Field numbers (opentelemetry-proto).
mod field {
    /// ExportTraceServiceRequest.resource_spans
    pub const REQUEST_RESOURCE_SPANS: u32 = 1;
    /// ResourceSpans.resource, .scope_spans
    pub const RESOURCE_SPANS_RESOURCE: u32 = 1;
    pub const RESOURCE_SPANS_SCOPE_SPANS: u32 = 2;
    /// Resource.attributes
    pub const RESOURCE_ATTRIBUTES: u32 = 1;
    /// ScopeSpans.scope, .spans
    pub const SCOPE_SPANS_SCOPE: u32 = 1;
    pub const SCOPE_SPANS_SPANS: u32 = 2;
    /// InstrumentationScope.name, .version
    pub const SCOPE_NAME: u32 = 1;
    pub const SCOPE_VERSION: u32 = 2;
    /// Span
    pub const SPAN_TRACE_ID: u32 = 1;
    pub const SPAN_SPAN_ID: u32 = 2;
    pub const SPAN_PARENT_SPAN_ID: u32 = 4;
    pub const SPAN_NAME: u32 = 5;
    pub const SPAN_KIND: u32 = 6;
    pub const SPAN_START_TIME: u32 = 7;
    pub const SPAN_END_TIME: u32 = 8;
    pub const SPAN_ATTRIBUTES: u32 = 9;
    pub const SPAN_EVENTS: u32 = 11;
    pub const SPAN_STATUS: u32 = 15;
    /// Span.Event
    pub const EVENT_TIME: u32 = 1;
    pub const EVENT_NAME: u32 = 2;
    pub const EVENT_ATTRIBUTES: u32 = 3;
    /// Status.message, .code
    pub const STATUS_MESSAGE: u32 = 2;
    pub const STATUS_CODE: u32 = 3;
    /// KeyValue.key, .value
    pub const KV_KEY: u32 = 1;
    pub const KV_VALUE: u32 = 2;
    /// AnyValue (a oneof)
    pub const ANY_STRING: u32 = 1;
    pub const ANY_BOOL: u32 = 2;
    pub const ANY_INT: u32 = 3;
    pub const ANY_DOUBLE: u32 = 4;
    pub const ANY_ARRAY: u32 = 5;
    /// ArrayValue.values
    pub const ARRAY_VALUES: u32 = 1;
}

/// `SPAN_KIND_INTERNAL`, `SPAN_KIND_CLIENT`; `STATUS_CODE_OK`, `STATUS_CODE_ERROR`.
const KIND_INTERNAL: u64 = 1;
const KIND_CLIENT: u64 = 3;
const STATUS_OK: u64 = 1;
const STATUS_ERROR: u64 = 2;

const WIRE_VARINT: u32 = 0;
const WIRE_I64: u32 = 1;
const WIRE_LEN: u32 = 2;

/// Protobuf wire-format writer. A nested message is opened, written, then closed: its length
/// is known only then, and is inserted before its bytes (each byte moves once per enclosing
/// message, a handful of levels).
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.buf.push(v as u8 | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
    }
    fn tag(&mut self, field: u32, wire: u32) {
        self.varint(u64::from(field << 3 | wire));
    }
    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.tag(field, WIRE_LEN);
        self.varint(b.len() as u64);
        self.buf.extend_from_slice(b);
    }
    /// A singular string: left out when empty (the proto3 default).
    fn string(&mut self, field: u32, s: &str) {
        if !s.is_empty() {
            self.bytes(field, s.as_bytes());
        }
    }
    fn uint(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.tag(field, WIRE_VARINT);
            self.varint(v);
        }
    }
    fn fixed64(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.tag(field, WIRE_I64);
            self.buf.extend_from_slice(&v.to_le_bytes());
        }
    }
    /// Starts a nested message; returns where its bytes begin, for [`Writer::close`]. One
    /// byte is kept for its length, which fits most
    /// messages (attributes, events); `close` writes it, moving the content only when longer.
    fn open(&mut self, field: u32) -> usize {
        self.tag(field, WIRE_LEN);
        self.buf.push(0);
        self.buf.len()
    }
    fn close(&mut self, start: usize) {
        let end = self.buf.len();
        let mut len = (end - start) as u64;
        let mut prefix = [0u8; 10];
        let mut n = 0;
        while len >= 0x80 {
            prefix[n] = len as u8 | 0x80;
            len >>= 7;
            n += 1;
        }
        prefix[n] = len as u8;
        if n > 0 {
            // A plain move (a splice through an iterator cost a tenth of the export path).
            self.buf.resize(end + n, 0);
            self.buf.copy_within(start..end, start + n);
        }
        self.buf[start - 1..=start - 1 + n].copy_from_slice(&prefix[..=n]);
    }
}

/// Writes each attribute as a `KeyValue` in the repeated field `field` of the open message.
struct ProtoAttrs<'a> {
    w: &'a mut Writer,
    field: u32,
}

impl ProtoAttrs<'_> {
    /// Opens `KeyValue{key, value: AnyValue{...}}`; returns the two starts to close.
    fn open(&mut self, key: &str) -> (usize, usize) {
        let kv = self.w.open(self.field);
        self.w.string(field::KV_KEY, key);
        (kv, self.w.open(field::KV_VALUE))
    }
    fn close(&mut self, (kv, value): (usize, usize)) {
        self.w.close(value);
        self.w.close(kv);
    }
}

/// int64 values above `i64::MAX` are written as `i64::MAX`.
impl AttrSink for ProtoAttrs<'_> {
    fn str(&mut self, key: &str, value: &str) {
        let at = self.open(key);
        // A oneof member is written even when empty: that is how "" differs from unset.
        self.w.bytes(field::ANY_STRING, value.as_bytes());
        self.close(at);
    }
    fn int(&mut self, key: &str, value: u64) {
        let at = self.open(key);
        self.w.tag(field::ANY_INT, WIRE_VARINT);
        self.w.varint(value.min(i64::MAX as u64));
        self.close(at);
    }
    fn f64(&mut self, key: &str, value: f64) {
        let at = self.open(key);
        self.w.tag(field::ANY_DOUBLE, WIRE_I64);
        self.w.buf.extend_from_slice(&value.to_le_bytes());
        self.close(at);
    }
    fn bool(&mut self, key: &str, value: bool) {
        let at = self.open(key);
        self.w.tag(field::ANY_BOOL, WIRE_VARINT);
        self.w.varint(u64::from(value));
        self.close(at);
    }
    fn str_array(&mut self, key: &str, values: &[&str]) {
        let at = self.open(key);
        let array = self.w.open(field::ANY_ARRAY);
        for v in values {
            let any = self.w.open(field::ARRAY_VALUES);
            self.w.bytes(field::ANY_STRING, v.as_bytes());
            self.w.close(any);
        }
        self.w.close(array);
        self.close(at);
    }
}

/// Milliseconds since the epoch as nanoseconds, exact to the microsecond (as the JSON
/// encoder's decimal strings).
fn unix_nanos(ms: f64) -> u64 {
    ((ms.max(0.0) * 1000.0).round() as u64).saturating_mul(1000)
}

/// Encodes `batches` as one OTLP/HTTP protobuf request body (`ExportTraceServiceRequest`).
///
/// ```
/// # use agensight_wasm::{encode::otlp_proto::encode, model::*, ids::*};
/// let trace = TraceInfo { trace_id: TraceId(0x4bf92f3577b34da6a3ce929d0e0e4736), name: "main".into(),
///     start_ms: 1000.5, end_ms: 2000.0, session: None, metadata: None, total_tokens: 0 };
/// let span = FinishedSpan { span_id: SpanId(0x00f067aa0ba902b7), parent: None, name: "main".into(),
///     kind: "trace".into(), start_ms: 1000.5, end_ms: 2000.0, input: None, output: None, error: None,
///     metadata: None, truncated: false, llm: None, tool_call_id: None, seq: 1 };
/// let body = encode(&[Batch { trace, trace_is_new: true, session_is_new: false, spans: vec![span] }], "svc", "local");
/// // resource_spans (field 1, length-delimited) first; the trace id's 16 bytes are in there.
/// assert_eq!(body[0], 0x0a);
/// assert!(body.windows(18).any(|w| w[..2] == [0x0a, 16] && w[2..] == 0x4bf92f3577b34da6a3ce929d0e0e4736u128.to_be_bytes()));
/// ```
pub fn encode(batches: &[Batch], service: &str, mode: &str) -> Vec<u8> {
    encode_sized(batches, service, mode, 1024 * batches.len().max(1))
}

/// [`encode`] into a buffer of `capacity` bytes at first: sized for the body, it is not grown
/// by doubling (which held up to twice a body in wasm memory for a moment).
pub fn encode_sized(batches: &[Batch], service: &str, mode: &str, capacity: usize) -> Vec<u8> {
    let mut w = Writer {
        buf: Vec::with_capacity(capacity),
    };
    let resource_spans = w.open(field::REQUEST_RESOURCE_SPANS);
    let resource = w.open(field::RESOURCE_SPANS_RESOURCE);
    genai::otlp_resource(
        service,
        mode,
        &mut ProtoAttrs {
            w: &mut w,
            field: field::RESOURCE_ATTRIBUTES,
        },
    );
    w.close(resource);
    let scope_spans = w.open(field::RESOURCE_SPANS_SCOPE_SPANS);
    let scope = w.open(field::SCOPE_SPANS_SCOPE);
    w.string(field::SCOPE_NAME, "agensight-wasm");
    w.string(field::SCOPE_VERSION, env!("CARGO_PKG_VERSION"));
    w.close(scope);
    for b in batches {
        for s in &b.spans {
            span(&mut w, &b.trace, s);
        }
    }
    w.close(scope_spans);
    w.close(resource_spans);
    w.buf
}

fn span(w: &mut Writer, t: &TraceInfo, s: &FinishedSpan) {
    let at = w.open(field::SCOPE_SPANS_SPANS);
    w.bytes(field::SPAN_TRACE_ID, &t.trace_id.0.to_be_bytes());
    w.bytes(field::SPAN_SPAN_ID, &s.span_id.0.to_be_bytes());
    if let Some(p) = s.parent {
        w.bytes(field::SPAN_PARENT_SPAN_ID, &p.0.to_be_bytes());
    }
    w.string(field::SPAN_NAME, &s.name);
    w.uint(
        field::SPAN_KIND,
        if s.llm.is_some() {
            KIND_CLIENT
        } else {
            KIND_INTERNAL
        },
    );
    w.fixed64(field::SPAN_START_TIME, unix_nanos(s.start_ms));
    w.fixed64(field::SPAN_END_TIME, unix_nanos(s.end_ms));
    genai::otlp_span(
        t,
        s,
        &mut ProtoAttrs {
            w,
            field: field::SPAN_ATTRIBUTES,
        },
    );
    if let Some(e) = &s.error {
        // The OpenTelemetry exception event, then an ERROR status with the message.
        let event = w.open(field::SPAN_EVENTS);
        w.fixed64(field::EVENT_TIME, unix_nanos(s.end_ms));
        w.string(field::EVENT_NAME, "exception");
        let mut a = ProtoAttrs {
            w,
            field: field::EVENT_ATTRIBUTES,
        };
        genai::otlp_exception(e, &mut a);
        w.close(event);
    }
    let status = w.open(field::SPAN_STATUS);
    match &s.error {
        Some(e) => {
            w.string(field::STATUS_MESSAGE, &e.message);
            w.uint(field::STATUS_CODE, STATUS_ERROR);
        }
        None => w.uint(field::STATUS_CODE, STATUS_OK),
    }
    w.close(status);
    w.close(at);
}

/// One decoded field: (number, wire type, varint or fixed value, length-delimited bytes).
pub type Field<'a> = (u32, u32, u64, &'a [u8]);

/// A strict decoder of one message's fields (every tag, varint and length in bounds, known wire
/// types only), for checking encoded bytes: the tests and the fuzz target use it; nothing in the
/// exporter does, so the linker leaves it out of the .wasm.
pub fn decode_fields(mut b: &[u8]) -> Result<Vec<Field<'_>>, String> {
    fn varint(b: &mut &[u8]) -> Result<u64, String> {
        let mut v = 0u64;
        for i in 0..10 {
            let (&byte, rest) = b.split_first().ok_or("varint past the end")?;
            *b = rest;
            v |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                return Ok(v);
            }
        }
        Err("varint longer than 10 bytes".into())
    }
    let mut out = Vec::new();
    while !b.is_empty() {
        let tag = varint(&mut b)?;
        let (num, wire) = ((tag >> 3) as u32, (tag & 7) as u32);
        if num == 0 {
            return Err("field number 0".into());
        }
        match wire {
            WIRE_VARINT => out.push((num, wire, varint(&mut b)?, &[][..])),
            WIRE_I64 => {
                if b.len() < 8 {
                    return Err("fixed64 past the end".into());
                }
                let (v, rest) = b.split_at(8);
                out.push((
                    num,
                    wire,
                    u64::from_le_bytes(v.try_into().unwrap()),
                    &[][..],
                ));
                b = rest;
            }
            WIRE_LEN => {
                let n = varint(&mut b)? as usize;
                if n > b.len() {
                    return Err(format!("length {n} past the end ({} left)", b.len()));
                }
                let (v, rest) = b.split_at(n);
                out.push((num, wire, 0, v));
                b = rest;
            }
            w => return Err(format!("wire type {w}")),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::decode_fields as fields;
    use super::*;
    use crate::ids::{SpanId, TraceId};
    use crate::model::{Completion, LlmCall, Message, ToolCall, Usage};
    use crate::model::{ErrorInfo, Session, SessionSpec};
    use std::rc::Rc;

    fn get<'a>(fs: &[Field<'a>], num: u32) -> Vec<&'a [u8]> {
        fs.iter().filter(|f| f.0 == num).map(|f| f.3).collect()
    }

    /// Attributes as the JSON encoder would list them: (key, value text).
    #[derive(Default)]
    struct Listed(Vec<(String, String)>);
    impl AttrSink for Listed {
        fn str(&mut self, k: &str, v: &str) {
            self.0.push((k.into(), format!("s:{v}")));
        }
        fn int(&mut self, k: &str, v: u64) {
            self.0
                .push((k.into(), format!("i:{}", v.min(i64::MAX as u64))));
        }
        fn f64(&mut self, k: &str, v: f64) {
            self.0.push((k.into(), format!("d:{}", v.to_bits())));
        }
        fn bool(&mut self, k: &str, v: bool) {
            self.0.push((k.into(), format!("b:{v}")));
        }
        fn str_array(&mut self, k: &str, v: &[&str]) {
            self.0.push((k.into(), format!("a:{v:?}")));
        }
    }

    /// Decodes `KeyValue`s back into the same (key, value text) list.
    fn decoded_attrs(kvs: Vec<&[u8]>) -> Vec<(String, String)> {
        kvs.into_iter()
            .map(|kv| {
                let f = fields(kv).unwrap();
                let key = get(&f, 1)
                    .first()
                    .map_or(String::new(), |k| String::from_utf8(k.to_vec()).unwrap());
                let any = fields(get(&f, 2)[0]).unwrap();
                assert_eq!(any.len(), 1, "one oneof member");
                let (num, _, n, b) = any[0];
                let text = |b: &[u8]| String::from_utf8(b.to_vec()).unwrap();
                let value = match num {
                    1 => format!("s:{}", text(b)),
                    2 => format!("b:{}", n == 1),
                    3 => format!("i:{n}"),
                    4 => format!("d:{n}"),
                    5 => {
                        let items: Vec<String> = get(&fields(b).unwrap(), 1)
                            .into_iter()
                            .map(|v| text(get(&fields(v).unwrap(), 1)[0]))
                            .collect();
                        format!("a:{items:?}")
                    }
                    other => panic!("AnyValue field {other}"),
                };
                (key, value)
            })
            .collect()
    }

    /// Rich batches: sessions, metadata, LLM calls with every optional part, tools, errors,
    /// unicode, a capture over 16 KiB (3-byte lengths), late spans.
    pub(super) fn sample_batches() -> Vec<Batch> {
        let session = Rc::new(Session {
            spec: SessionSpec {
                id: "xyz123".into(),
                name: Some("multi agent chat".into()),
                user_id: Some("123".into()),
            }
            .into(),
            started_ms: 1_700_000_000_000.0,
        });
        let t0 = 1_700_000_000_123.456;
        let trace = TraceInfo {
            trace_id: TraceId(0x4bf9_2f35_77b3_4da6_a3ce_929d_0e0e_4736),
            name: "multi_agent_chat".into(),
            start_ms: t0,
            end_ms: t0 + 250.5,
            session: Some(session),
            metadata: Some(r#"{"plan":"pro"}"#.into()),
            total_tokens: 178,
        };
        let base = |id: u64, parent: Option<u64>, name: &str, kind: &str| FinishedSpan {
            span_id: SpanId(id),
            parent: parent.map(SpanId),
            name: name.into(),
            kind: kind.into(),
            start_ms: t0 + (id % 1000) as f64,
            end_ms: t0 + 100.0 + (id % 1000) as f64,
            input: Some(r#"["Weather in Paris?"]"#.into()),
            output: Some(r#""Sunny, 21°C 😀""#.into()),
            error: None,
            metadata: None,
            truncated: false,
            llm: None,
            tool_call_id: None,
            seq: id,
        };
        let llm = LlmCall {
            system: "openai".into(),
            operation: "chat".into(),
            request_model: Some("gpt-4o-mini".into()),
            response_model: Some("gpt-4o-mini-2024-07-18".into()),
            response_id: Some("chatcmpl-1".into()),
            usage: Usage {
                input: 52,
                output: 17,
                total: 69,
                cache_read: Some(0),
                cache_creation: None,
                reasoning: Some(3),
            },
            prompts: vec![
                Message {
                    role: "system".into(),
                    content: "You are helpful.".into(),
                },
                Message {
                    role: "user".into(),
                    content: "Weather in Paris?".into(),
                },
            ],
            completions: vec![
                Completion {
                    role: "assistant".into(),
                    content: "".into(),
                    finish_reason: Some("tool_calls".into()),
                },
                Completion {
                    role: "assistant".into(),
                    content: "Paris: 21°C".into(),
                    finish_reason: None,
                },
            ],
            tool_calls: vec![
                ToolCall {
                    id: Some("call_1".into()),
                    name: "get_weather".into(),
                    arguments: r#"{"city":"Paris"}"#.into(),
                },
                ToolCall {
                    id: None,
                    name: "lookup".into(),
                    arguments: "not json".into(),
                },
            ],
            temperature: Some(0.7),
            max_tokens: Some(4096),
        };
        let mut root = base(0x00f0_67aa_0ba9_02b7, None, "multi_agent_chat", "trace");
        root.metadata = Some(r#"{"plan":"pro"}"#.into());
        let mut call = base(2, Some(0x00f0_67aa_0ba9_02b7), "llm", "llm");
        call.llm = Some(Box::new(llm));
        let mut tool = base(3, Some(0x00f0_67aa_0ba9_02b7), "get_weather", "tool");
        tool.truncated = true;
        tool.input = Some(format!("[\"{}\"]", "x".repeat(20_000)));
        let mut failed = base(4, Some(2), "", "span");
        failed.error = Some(ErrorInfo {
            name: "RateLimitError".into(),
            message: "429 slow down".into(),
            stack: "at a\nat b".into(),
        });
        failed.output = None;
        let mut quiet = base(5, Some(2), "quiet", "span");
        quiet.error = Some(ErrorInfo {
            name: "".into(),
            message: "".into(),
            stack: "".into(),
        });
        quiet.input = None;
        quiet.start_ms = 0.0;
        let late = Batch {
            trace: TraceInfo {
                session: None,
                metadata: None,
                ..trace.clone()
            },
            trace_is_new: false,
            session_is_new: false,
            spans: vec![base(6, Some(0x00f0_67aa_0ba9_02b7), "late", "span")],
        };
        vec![
            Batch {
                trace,
                trace_is_new: true,
                session_is_new: true,
                spans: vec![root, call, tool, failed, quiet],
            },
            late,
        ]
    }

    #[test]
    fn decodes_to_the_same_spans_and_attributes_in_order() {
        let batches = sample_batches();
        let body = encode(&batches, "chat-service", "prod");
        let request = fields(&body).unwrap();
        assert_eq!(request.len(), 1, "one ResourceSpans");
        let rs = fields(get(&request, 1)[0]).unwrap();
        let resource = fields(get(&rs, 1)[0]).unwrap();
        let mut want = Listed::default();
        genai::otlp_resource("chat-service", "prod", &mut want);
        assert_eq!(decoded_attrs(get(&resource, 1)), want.0);
        let ss = fields(get(&rs, 2)[0]).unwrap();
        let scope = fields(get(&ss, 1)[0]).unwrap();
        assert_eq!(get(&scope, 1), vec![&b"agensight-wasm"[..]]);
        let spans = get(&ss, 2);
        let all: Vec<(&TraceInfo, &FinishedSpan)> = batches
            .iter()
            .flat_map(|b| b.spans.iter().map(move |s| (&b.trace, s)))
            .collect();
        assert_eq!(spans.len(), all.len());
        for (bytes, (t, s)) in spans.into_iter().zip(all) {
            let f = fields(bytes).unwrap();
            let numbers: Vec<u32> = f.iter().map(|x| x.0).collect();
            assert!(
                numbers.windows(2).all(|w| w[0] <= w[1]),
                "fields in number order: {numbers:?}"
            );
            assert_eq!(get(&f, 1), vec![&t.trace_id.0.to_be_bytes()[..]]);
            assert_eq!(get(&f, 2), vec![&s.span_id.0.to_be_bytes()[..]]);
            assert_eq!(
                get(&f, 4),
                s.parent
                    .map(|p| p.0.to_be_bytes().to_vec())
                    .iter()
                    .map(|v| &v[..])
                    .collect::<Vec<_>>()
            );
            let scalar = |n: u32| f.iter().find(|x| x.0 == n).map(|x| x.2);
            assert_eq!(scalar(6), Some(if s.llm.is_some() { 3 } else { 1 }));
            assert_eq!(
                scalar(7),
                (s.start_ms > 0.0).then(|| unix_nanos(s.start_ms))
            );
            assert_eq!(scalar(8), Some(unix_nanos(s.end_ms)));
            let mut want = Listed::default();
            genai::otlp_span(t, s, &mut want);
            assert_eq!(decoded_attrs(get(&f, 9)), want.0, "span {}", s.name);
            let status = fields(get(&f, 15)[0]).unwrap();
            let code = status.iter().find(|x| x.0 == 3).map(|x| x.2);
            assert_eq!(code, Some(if s.error.is_some() { 2 } else { 1 }));
            assert_eq!(
                get(&f, 11).len(),
                usize::from(s.error.is_some()),
                "one exception event per error"
            );
        }
    }

    #[test]
    fn lengths_of_every_size_are_exact() {
        for n in [0usize, 1, 127, 128, 16_383, 16_384, 2_097_152] {
            let mut w = Writer { buf: vec![] };
            let at = w.open(1);
            w.buf.resize(w.buf.len() + n, 7u8);
            w.close(at);
            let f = fields(&w.buf).unwrap();
            assert_eq!((f.len(), f[0].3.len()), (1, n));
        }
        assert_eq!(unix_nanos(1_700_000_000_123.456), 1_700_000_000_123_456_000);
        assert_eq!(unix_nanos(-5.0), 0);
        // int64 attributes: what does not fit is written as i64::MAX, never as a negative.
        let mut w = Writer { buf: vec![] };
        ProtoAttrs {
            w: &mut w,
            field: 9,
        }
        .int("n", u64::MAX);
        let kv = fields(&w.buf).unwrap();
        assert_eq!(
            decoded_attrs(get(&kv, 9)),
            vec![("n".to_string(), format!("i:{}", i64::MAX))]
        );
    }

    /// Writes the sample batches' protobuf and JSON encodings to `$OTLP_PROTO_DUMP/` for
    /// tests/backends/otlp-proto.test.mjs, which decodes them with the official classes.
    #[test]
    fn cross_check_fixtures() {
        let batches = sample_batches();
        let proto = encode(&batches, "chat-service", "prod");
        let json = crate::encode::otlp_json::encode(&batches, "chat-service", "prod");
        assert!(fields(&proto).is_ok() && json.starts_with('{'));
        if let Ok(dir) = std::env::var("OTLP_PROTO_DUMP") {
            std::fs::write(format!("{dir}/sample.pb"), &proto).unwrap();
            std::fs::write(format!("{dir}/sample.json"), &json).unwrap();
        }
    }
}
