#![no_main]
//! The OTLP protobuf encoder (src/encode/otlp_proto.rs) on any batch: the bytes always decode as
//! protobuf (every tag, varint and length in bounds, known wire types), with one
//! ResourceSpans, the resource's attributes, one ScopeSpans holding exactly the batch's spans,
//! each with a 16-byte trace id, an 8-byte span id, an 8-byte parent id iff it has a parent,
//! a known kind, valid UTF-8 strings, one AnyValue member per attribute, as many attributes
//! as the shared attribute list names, a status, and an exception event iff it failed.
use agensight_fuzz::checks::Input;
use agensight_wasm::ids::{SpanId, TraceId};
use agensight_wasm::llm::{Completion, LlmCall, Message, ToolCall, Usage};
use agensight_wasm::model::{Batch, ErrorInfo, FinishedSpan, Session, SessionSpec, TraceInfo};
use agensight_wasm::encode::otlp_proto::{decode_fields, encode, span_attributes, AttrSink, Field};
use std::rc::Rc;

fn fields(b: &[u8]) -> Vec<Field<'_>> {
    decode_fields(b).unwrap_or_else(|e| panic!("the body does not decode: {e}"))
}

fn get<'a>(f: &[Field<'a>], num: u32) -> Vec<&'a [u8]> {
    f.iter().filter(|x| x.0 == num).map(|x| x.3).collect()
}

fn check_key_values(kvs: Vec<&[u8]>) -> usize {
    for kv in &kvs {
        let f = fields(kv);
        for k in get(&f, 1) {
            std::str::from_utf8(k).expect("keys are UTF-8");
        }
        let values = get(&f, 2);
        assert_eq!(values.len(), 1, "a KeyValue has one value");
        let any = fields(values[0]);
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
                for v in get(&fields(any[0].3), 1) {
                    let item = fields(v);
                    assert!(item.len() == 1 && item[0].0 == 1, "array items are strings");
                }
            }
            n => panic!("AnyValue field {n}"),
        }
    }
    kvs.len()
}

/// Counts the attributes the shared list writes.
struct Count(usize);
impl AttrSink for Count {
    fn str(&mut self, _: &str, _: &str) {
        self.0 += 1;
    }
    fn int(&mut self, _: &str, _: u64) {
        self.0 += 1;
    }
    fn double(&mut self, _: &str, _: f64) {
        self.0 += 1;
    }
    fn bool(&mut self, _: &str, _: bool) {
        self.0 += 1;
    }
    fn str_array(&mut self, _: &str, _: &[&str]) {
        self.0 += 1;
    }
}

fn llm(inp: &mut Input) -> LlmCall {
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

fn batch(inp: &mut Input) -> Batch {
    let session = inp.bool().then(|| {
        Rc::new(Session {
            spec: SessionSpec {
                id: inp.string(),
                name: inp.bool().then(|| inp.string()),
                user_id: inp.bool().then(|| inp.string()),
            },
            started_ms: inp.f64(),
        })
    });
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
            llm: inp.bool().then(|| Box::new(llm(inp))),
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

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut inp = Input::new(data);
    let batches: Vec<Batch> = (0..1 + inp.u8() % 3).map(|_| batch(&mut inp)).collect();
    let (service, mode) = (inp.string(), inp.string());
    let body = encode(&batches, &service, &mode);
    let request = fields(&body);
    assert_eq!(request.len(), 1, "one ResourceSpans");
    let rs = fields(request[0].3);
    assert_eq!(
        check_key_values(get(&fields(get(&rs, 1)[0]), 1)),
        5,
        "the resource's attributes"
    );
    let scope_spans = get(&rs, 2);
    assert_eq!(scope_spans.len(), 1, "one ScopeSpans");
    let spans = get(&fields(scope_spans[0]), 2);
    let all: Vec<(&TraceInfo, &FinishedSpan)> = batches
        .iter()
        .flat_map(|b| b.spans.iter().map(move |s| (&b.trace, s)))
        .collect();
    assert_eq!(spans.len(), all.len(), "every span, once");
    for (bytes, (t, s)) in spans.into_iter().zip(all) {
        let f = fields(bytes);
        assert_eq!(get(&f, 1), vec![&t.trace_id.0.to_be_bytes()[..]]);
        assert_eq!(get(&f, 2), vec![&s.span_id.0.to_be_bytes()[..]]);
        assert_eq!(get(&f, 4).len(), usize::from(s.parent.is_some()));
        assert!(get(&f, 4).iter().all(|p| p.len() == 8));
        for name in get(&f, 5) {
            std::str::from_utf8(name).expect("span names are UTF-8");
        }
        let kind: Vec<u64> = f.iter().filter(|x| x.0 == 6).map(|x| x.2).collect();
        assert!(
            kind == [1] || kind == [3],
            "kind INTERNAL or CLIENT: {kind:?}"
        );
        let mut want = Count(0);
        span_attributes(t, s, &mut want);
        assert_eq!(
            check_key_values(get(&f, 9)),
            want.0,
            "every attribute, once"
        );
        let events = get(&f, 11);
        assert_eq!(events.len(), usize::from(s.error.is_some()));
        for e in events {
            assert_eq!(
                check_key_values(get(&fields(e), 3)),
                3,
                "exception type, message, stacktrace"
            );
        }
        assert_eq!(get(&f, 15).len(), 1, "a status");
    }
});
