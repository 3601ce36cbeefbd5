//! Encoding benchmark module: the crate's own encoders (Agensight records, OTLP/HTTP JSON and
//! protobuf)
//! compiled to wasm32 with the shipped release profile, driven from Node by
//! scripts/bench/encode.mjs through plain numeric exports (no wasm-bindgen).
//!
//! The batches mirror scripts/bench/workload.mjs: a trace of three spans (the root and two
//! children) with the small captured inputs and outputs the overhead benchmark records.

use agensight_wasm::encode::agensight::{Encoder, Target};
use agensight_wasm::config::Mode;
use agensight_wasm::ids::IdGenerator;
use agensight_wasm::model::{Batch, FinishedSpan, TraceInfo};
use std::cell::RefCell;
use std::rc::Rc;

struct State {
    batches: Vec<Batch>,
    out: String,
    bytes: Vec<u8>,
}

thread_local! {
    static STATE: RefCell<State> = const { RefCell::new(State { batches: Vec::new(), out: String::new(), bytes: Vec::new() }) };
}

const Q: &str = "What's the weather in Paris?";

fn span(ids: &mut IdGenerator, parent: Option<agensight_wasm::ids::SpanId>, name: &str, kind: &str, t: f64, input: String, output: String, seq: u64) -> FinishedSpan {
    FinishedSpan {
        span_id: ids.span_id(),
        parent,
        name: Rc::from(name),
        kind: Rc::from(kind),
        start_ms: t,
        end_ms: t + 0.0123,
        input: Some(input),
        output: Some(output),
        error: None,
        metadata: None,
        truncated: false,
        llm: None,
        tool_call_id: None,
        seq,
    }
}

/// Builds `traces` batches of three spans each; returns the number of spans.
#[no_mangle]
pub extern "C" fn setup(traces: u32) -> u32 {
    let mut ids = IdGenerator::new(&[7; 32]);
    let q = format!("\"{}\"", Q);
    let mut batches = Vec::new();
    for i in 0..traces {
        let t = 1_764_000_000_000.0 + i as f64 * 0.75;
        let root = span(&mut ids, None, "multi_agent_chat", "trace", t, format!("[{q}]"), "\"Sunny, 21 °C in Paris\"".into(), 1);
        let plan = span(&mut ids, Some(root.span_id), "plan", "span", t + 0.001, format!("[{q}]"), format!("{{\"steps\":[\"search\",\"answer\"],\"question\":{q}}}"), 2);
        let llm = span(&mut ids, Some(root.span_id), "llm", "span", t + 0.002,
            format!("[[{{\"role\":\"user\",\"content\":{q}}},{{\"role\":\"system\",\"content\":\"search,answer\"}}]]"),
            "{\"role\":\"assistant\",\"content\":\"Sunny, 21 °C in Paris\"}".into(), 3);
        let trace = TraceInfo { trace_id: ids.trace_id(), name: Rc::from("multi_agent_chat"), start_ms: t, end_ms: t + 0.0123, session: None, metadata: None, total_tokens: 0 };
        batches.push(Batch { trace, trace_is_new: true, session_is_new: false, spans: vec![root, plan, llm] });
    }
    STATE.with(|s| s.borrow_mut().batches = batches);
    traces * 3
}

/// Encodes every batch as Agensight records (the local store's lines, the cloud API's bodies);
/// returns the output length in bytes (`out_ptr` for the text).
#[no_mangle]
pub extern "C" fn encode_agensight() -> u32 {
    STATE.with(|s| {
        let s = &mut *s.borrow_mut();
        s.out.clear();
        let enc = Encoder { mode: Mode::Local, project_id: None, service: "bench", target: Target::Local };
        for b in &s.batches {
            enc.encode_lines(b, &mut s.out);
        }
        s.out.len() as u32
    })
}

/// Encodes every batch as one OTLP/HTTP JSON request body; returns its length in bytes.
#[no_mangle]
pub extern "C" fn encode_otlp() -> u32 {
    STATE.with(|s| {
        let s = &mut *s.borrow_mut();
        s.out = agensight_wasm::encode::otlp_json::encode(&s.batches, "bench", "local");
        s.out.len() as u32
    })
}

/// Encodes every batch as one OTLP/HTTP protobuf request body; returns its length in bytes
/// (`bytes_ptr` for the bytes).
#[no_mangle]
pub extern "C" fn encode_otlp_proto() -> u32 {
    STATE.with(|s| {
        let s = &mut *s.borrow_mut();
        s.bytes = agensight_wasm::encode::otlp_proto::encode(&s.batches, "bench", "local");
        s.bytes.len() as u32
    })
}

#[no_mangle]
pub extern "C" fn out_ptr() -> *const u8 {
    STATE.with(|s| s.borrow().out.as_ptr())
}

#[no_mangle]
pub extern "C" fn bytes_ptr() -> *const u8 {
    STATE.with(|s| s.borrow().bytes.as_ptr())
}
