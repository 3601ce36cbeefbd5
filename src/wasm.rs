//! The JavaScript boundary. Every item here converts arguments, calls the [`Core`] and
//! converts the result back; nothing else. The hot calls (`start`, `end`) take numbers only:
//! captured text arrives through the text buffer (`textBuffer`).
//!
//! The JS wrapper (`js/core.js`) is the only caller; these are not the public API. No I/O
//! here: the export requests are sent by `js/transport.js` (`exportHead` and `exportBody` out,
//! `exportDone` back) and the IndexedDB store is `js/store-idb.js`, so no async function
//! crosses.

use crate::config;
use crate::core::Core;
use crate::error::Error;
use crate::export::policy::Outcome;
use crate::ids::{SpanId, TraceId};
use crate::llm::Declaration;
use crate::model::{ErrorInfo, SessionSpec};
use crate::tracer::NOOP;
use std::cell::RefCell;
use wasm_bindgen::prelude::*;

thread_local! {
    static CORE: RefCell<Option<Core>> = const { RefCell::new(None) };
    /// Captured text on its way in (see `textBuffer`).
    static TEXT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn with<R>(default: R, f: impl FnOnce(&mut Core) -> R) -> R {
    CORE.with(|c| match c.borrow_mut().as_mut() {
        Some(core) => f(core),
        None => default,
    })
}

/// The first `len` bytes of the text buffer as text. encodeInto writes UTF-8; anything else is
/// repaired, never trusted.
fn with_text<R>(len: u32, f: impl FnOnce(&str) -> R) -> R {
    TEXT.with(|b| {
        let b = b.borrow();
        let bytes = &b[..(len as usize).min(b.len())];
        match std::str::from_utf8(bytes) {
            Ok(text) => f(text),
            Err(_) => f(&String::from_utf8_lossy(bytes)),
        }
    })
}

// JS's `Error`, bound here rather than through js-sys: js-sys brought its closure-invoking
// shims into the function table (1.9 KB of .wasm that wasm-opt cannot drop) and `Reflect.set`
// with wasm-bindgen's exception glue, for the one object made at a bad `init()`.
#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = Error)]
    type JsError;
    #[wasm_bindgen(constructor, js_class = "Error")]
    fn new(message: &str) -> JsError;
    #[wasm_bindgen(method, setter, js_class = "Error")]
    fn set_name(this: &JsError, name: &str);
    #[wasm_bindgen(method, setter, js_class = "Error")]
    fn set_code(this: &JsError, code: &str);
}

/// An `Error` whose `name` is `AgensightError` and whose `code` says which check failed; the
/// JS wrapper rethrows it as its `AgensightError` class.
fn js_error(e: Error) -> JsValue {
    let err = JsError::new(&e.message);
    err.set_name("AgensightError");
    err.set_code(e.code);
    err.into()
}

/// Validates `init()` options (JSON text; functions sent as `"function"`) and starts a new
/// tracer with them, replacing any earlier one. Returns the normalized options as JSON.
///
/// ```js
/// configure('{"name":"chat","mode":"local"}', crypto.getRandomValues(new Uint8Array(48)), Date.now());
/// ```
#[wasm_bindgen]
pub fn configure(options: &str, seed: &[u8], now_ms: f64) -> Result<String, JsValue> {
    let c = config::parse(options).map_err(js_error)?;
    let normalized = c.normalized_json();
    CORE.with(|core| *core.borrow_mut() = Some(Core::new(c, seed, now_ms)));
    Ok(normalized)
}

/// Checks a `trace()` session option (JSON text) and returns it normalized, or throws.
///
/// ```js
/// checkSession('"user_456"'); // '{"id":"user_456"}'
/// ```
#[wasm_bindgen(js_name = checkSession)]
pub fn check_session(session: &str) -> Result<String, JsValue> {
    let s = SessionSpec::from_json(session).map_err(js_error)?;
    Ok(s.to_json())
}

/// Starts a span: returns its handle (`0xffffffff` when not recorded; 0 when `def` was evicted
/// from the bounded definition table: `defineSpan` it again and start once more).
///
/// ```js
/// const h = start(def, parentHandle, performance.timeOrigin + performance.now(), passText(argsJson));
/// ```
#[wasm_bindgen]
pub fn start(def: u32, parent: u32, now_ms: f64, input_len: u32) -> u32 {
    with_text(input_len, |input| {
        with(NOOP, |t| t.start(def, parent, now_ms, input, None))
    })
}

/// Starts the local root span of a trace continued from a W3C `traceparent` (trace id as 32
/// hex digits, parent span id as 16). Returns `0xffffffff` for ids that do not parse; 0 as
/// `start` does.
///
/// ```js
/// const h = startRemote(def, "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", now, passText(argsJson));
/// ```
#[wasm_bindgen(js_name = startRemote)]
pub fn start_remote(
    def: u32,
    trace_id: &str,
    parent_span_id: &str,
    now_ms: f64,
    input_len: u32,
) -> u32 {
    match (TraceId::parse(trace_id), SpanId::parse(parent_span_id)) {
        (Some(t), Some(s)) => with_text(input_len, |input| {
            with(NOOP, |core| core.start_remote(def, t, s, now_ms, input))
        }),
        _ => NOOP,
    }
}

/// Feeds one chunk of a streamed LLM response (JSON text) to span `h`.
///
/// ```js
/// streamChunk(h, passText(JSON.stringify(chunk)));
/// ```
#[wasm_bindgen(js_name = streamChunk)]
pub fn stream_chunk(h: u32, chunk_len: u32) {
    with_text(chunk_len, |chunk| with((), |t| t.stream_chunk(h, chunk)))
}

/// The W3C `traceparent` header value of span `h`, or undefined.
///
/// ```js
/// headers.set("traceparent", traceparent(h));
/// ```
#[wasm_bindgen]
pub fn traceparent(h: u32) -> Option<String> {
    with(None, |t| t.traceparent(h))
}

/// Ends a span with its return value (JSON, or "" when not captured). 0: nothing handed on;
/// 1: a trace (or part) was handed on, local-store lines wait in `takeLocal()` and/or export
/// work; 2: as 1, and the waiting lines passed the drain threshold: take them now.
///
/// ```js
/// const r = end(h, now, passText(outputJson));
/// if (r === 2) writeStoreNow(); else if (r) scheduleStoreWrite();
/// ```
#[wasm_bindgen]
pub fn end(h: u32, now_ms: f64, output_len: u32) -> u32 {
    with_text(output_len, |output| {
        with(0, |t| t.end(h, now_ms, output, None) as u32)
    })
}

/// Makes the text buffer at least `len` bytes long and returns where it starts in wasm memory.
/// Captured text (arguments, results, stream chunks) crosses through it: JS writes UTF-8 there
/// with `TextEncoder.encodeInto` and passes only the byte count, instead of a malloc call and
/// a copy per string (a fifth of a span's cost before). The address changes only here.
///
/// ```js
/// let view = new Uint8Array(wasmMemory().buffer, textBuffer(4096), 4096);
/// const { written } = new TextEncoder().encodeInto(json, view);
/// end(h, now, written);
/// ```
#[wasm_bindgen(js_name = textBuffer)]
pub fn text_buffer(len: u32) -> u32 {
    TEXT.with(|b| {
        let mut b = b.borrow_mut();
        if b.len() < len as usize {
            b.resize(len as usize, 0);
        }
        b.as_ptr() as u32
    })
}

/// The module's `WebAssembly.Memory`, for views on the text buffer.
///
/// ```js
/// const bytes = new Uint8Array(wasmMemory().buffer, textBuffer(16), 16);
/// ```
#[wasm_bindgen(js_name = wasmMemory)]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Ends a span with an error (the thrown value's name, message and stack); returns as `end`.
///
/// ```js
/// endError(h, now, err.name, err.message, err.stack ?? "");
/// ```
#[wasm_bindgen(js_name = endError)]
pub fn end_error(h: u32, now_ms: f64, name: &str, message: &str, stack: &str) -> u32 {
    let e = ErrorInfo {
        name: name.into(),
        message: message.into(),
        stack: stack.into(),
    };
    with(0, |t| t.end(h, now_ms, "", Some(e)) as u32)
}

/// The byte length of the local-store lines written since the last `localTaken`, left in wasm
/// memory at `localAt()` as UTF-8: the file store appends them from there, the memory store
/// copies them, nothing decodes them to a JS string until they are read (decoding cost as much
/// as encoding them). The view is good until the next wasm call.
///
/// ```js
/// const n = localLines();
/// appendFileSync(path, new Uint8Array(wasmMemory().buffer, localAt(), n));
/// localTaken(n);
/// ```
#[wasm_bindgen(js_name = localLines)]
pub fn local_lines() -> u32 {
    with(0, |t| t.local_lines().len() as u32)
}

/// Where the lines of `localLines` are in wasm memory.
#[wasm_bindgen(js_name = localAt)]
pub fn local_at() -> u32 {
    with(0, |t| t.local_lines().as_ptr() as u32)
}

/// The first `n` bytes of the lines are stored: the core drops them (see `Core::local_taken`).
#[wasm_bindgen(js_name = localTaken)]
pub fn local_taken(n: u32) {
    with((), |t| t.local_taken(n as usize))
}

/// The trace id (UUID form) of a span handle, or undefined.
///
/// ```js
/// traceId(h); // "4bf92f35-77b3-4da6-a3ce-929d0e0e4736"
/// ```
#[wasm_bindgen(js_name = traceId)]
pub fn trace_id(h: u32) -> Option<String> {
    with(None, |t| t.ids_of(h).map(|(t, _)| t.uuid().to_string()))
}

/// The span id (16 hex digits) of a span handle, or undefined.
///
/// ```js
/// spanId(h); // "00f067aa0ba902b7"
/// ```
#[wasm_bindgen(js_name = spanId)]
pub fn span_id(h: u32) -> Option<String> {
    with(None, |t| t.ids_of(h).map(|(_, s)| s.hex().to_string()))
}

/// The next export job due now, as an id (0 when none is, or export is off). `force`, on
/// flush, sends batches without waiting for more to join them. `maxBody` (a page being left,
/// keepalive): only a job whose next request body has at most that many bytes, and without
/// the concurrency limit.
///
/// ```js
/// for (let id; (id = exportNext(Date.now(), true)); ) sends.push(send(id, exportHead(id), exportBody(id)));
/// const id = exportNext(Date.now(), true, 65536 - keepaliveBytesInFlight);
/// ```
#[wasm_bindgen(js_name = exportNext)]
pub fn export_next(now_ms: f64, force: bool, max_body: Option<f64>) -> f64 {
    let max_body = max_body.map(|m| m.max(0.0) as usize);
    with(0.0, |t| {
        t.export_next_within(now_ms, force, max_body)
            .map_or(0.0, |id| id as f64)
    })
}

/// Bytes of the body of job `id`'s next request (what a keepalive send counts).
///
/// ```js
/// keepaliveBytesInFlight += exportBodyBytes(id);
/// ```
#[wasm_bindgen(js_name = exportBodyBytes)]
pub fn export_body_bytes(id: f64) -> f64 {
    with(0.0, |core| core.export_body_bytes(id as u64) as f64)
}

/// Makes every waiting trace into jobs now and returns the ids of the jobs not yet in the
/// outbox (at exit: persist them with `exportPersist`, the next start sends them).
///
/// ```js
/// for (const id of exportUnsaved(Date.now())) outbox.put(id, exportPersist(id));
/// ```
#[wasm_bindgen(js_name = exportUnsaved)]
pub fn export_unsaved(now_ms: f64) -> Vec<f64> {
    with(Vec::new(), |t| {
        t.export_unsaved(now_ms)
            .into_iter()
            .map(|id| id as f64)
            .collect()
    })
}

/// The job as JSON for the outbox, the first time only (then "").
///
/// ```js
/// const saved = exportPersist(id); if (saved) outbox.put(id, saved);
/// ```
#[wasm_bindgen(js_name = exportPersist)]
pub fn export_persist(id: f64) -> String {
    with(String::new(), |core| core.export_persist(id as u64))
}

/// Records what came back for job `id`'s request: `status` (0: no response, `networkError`
/// says why), `retryAfterMs` (< 0: none), the response text. True when the job is finished
/// (accepted or given up): its outbox copy can be deleted.
///
/// ```js
/// if (exportDone(id, 503, 2000, "busy", "", Date.now())) outbox.delete(id);
/// exportDone(id, 0, -1, "", "connect ECONNREFUSED 127.0.0.1:4318", Date.now());
/// ```
#[wasm_bindgen(js_name = exportDone)]
pub fn export_done(
    id: f64,
    status: u16,
    retry_after_ms: f64,
    body: String,
    network_error: String,
    now_ms: f64,
) -> bool {
    let outcome = Outcome::reported(status, retry_after_ms, body, network_error);
    with(true, |t| t.export_complete(id as u64, outcome, now_ms))
}

/// Brings back an outbox entry saved by an earlier process; false when it is not ours.
///
/// ```js
/// if (!exportRestore(text)) outbox.delete(id);
/// ```
#[wasm_bindgen(js_name = exportRestore)]
pub fn export_restore(json: &str) -> bool {
    with(false, |core| core.export_restore(json))
}

/// Counters as JSON: `{ recorded, dropped, unsampled, open, pending, exported, failed,
/// resident, spilled, definitions, definitionsEvicted }` (`resident`: export body bytes in memory;
/// `spilled`: jobs only in the outbox; `definitions`: span definitions held, `definitionsEvicted`
/// so far: re-creatable, not data).
///
/// ```js
/// JSON.parse(stats()).dropped;
/// ```
#[wasm_bindgen]
pub fn stats() -> String {
    with("{}".into(), |core| core.stats().to_json())
}

/// Registers a wrapper (name, kind, metadata JSON or ""), with the session of the traces it
/// starts: `session` is "" for none (the `init()` session applies), else the `trace()`
/// session option as JSON text, read here once (not per trace). Returns the def id (0 before init); throws the same
/// `AgensightError` as `checkSession` for a session that is not a string id or
/// `{ id, name?, user_id? }`. `start(def, 0, ...)` then gives each new trace this session.
///
/// ```js
/// const def = defineSpan("multi_agent_chat", "trace", '{"plan":"pro"}', '{"id":"xyz123","user_id":"123"}');
/// const h = start(def, 0, now, passText(argsJson)); // a new trace in session xyz123
/// ```
#[wasm_bindgen(js_name = defineSpan)]
pub fn define_span(name: &str, kind: &str, metadata: &str, session: &str) -> Result<u32, JsValue> {
    match CORE.with(|c| c.borrow().is_some()) {
        true => with(Ok(0), |core| {
            core.define_span(name, kind, metadata, session)
        }),
        // Before init: nothing to register, but a bad session still throws.
        false if !session.is_empty() => SessionSpec::from_json(session).map(|_| 0),
        false => Ok(0),
    }
    .map_err(js_error)
}

/// Declares span `h` an LLM call before any response, in place of the `{"$llm": {...}}`
/// chunk: `system` the provider ("openai", "anthropic"), `operation` ("chat", "embeddings",
/// ...), `model` ("" when unknown), `temperature` (NaN when unknown), `maxTokens` (negative
/// when unknown). The span is recorded as an LLM call even if no response comes (an API
/// error); if it then ends with a whole (non-streamed) response as its output, that output is
/// read as the call's response, so the response need not also be sent as a chunk. Pass the
/// response to `end` even when output capture is off: it is read for the call (usage,
/// completions under the capture rules) and not kept as the span's output.
///
/// ```js
/// declareLlm(h, "openai", "chat", "gpt-4o", 0.2, -1);
/// end(h, now, passText(JSON.stringify(response)));
/// ```
#[wasm_bindgen(js_name = declareLlm)]
pub fn declare_llm(
    h: u32,
    system: &str,
    operation: &str,
    model: &str,
    temperature: f64,
    max_tokens: f64,
) {
    let d = Declaration {
        system: system.into(),
        operation: operation.into(),
        model: (!model.is_empty()).then(|| model.into()),
        temperature: (!temperature.is_nan()).then_some(temperature),
        max_tokens: (max_tokens >= 0.0).then_some(max_tokens as u64),
    };
    with((), |core| core.declare_llm(h, d))
}

/// One call per export round, as JSON `{"dropped":[job ids],"warnings":["..."],"wake":ms,"load":[job ids]}`: outbox entries to delete,
/// failures to report (the token never appears in them), and the milliseconds until export
/// work is due (0: now; -1: none); `load`: spilled jobs to read back (`exportReload`).
///
/// ```js
/// const { dropped, warnings, wake } = JSON.parse(exportPoll(Date.now()));
/// for (const id of dropped) outbox.delete(id);
/// if (wake >= 0) setTimeout(pump, wake);
/// ```
#[wasm_bindgen(js_name = exportPoll)]
pub fn export_poll(now_ms: f64) -> String {
    with(Default::default(), |core| core.export_poll(now_ms)).to_json()
}

/// The head of job `id`'s next request, as JSON: `{"url","method","headers":[[name,value],...],
/// "timeoutMs"}`; "" when the job has none (it is finished: its outbox copy can be deleted).
/// The body comes apart, as bytes, from `exportBody`.
///
/// ```js
/// const head = exportHead(id); // '{"url":"http://localhost:4318/v1/traces","method":"POST",...}'
/// if (head) send(id, JSON.parse(head), exportBody(id));
/// ```
#[wasm_bindgen(js_name = exportHead)]
pub fn export_head(id: f64) -> String {
    with(String::new(), |core| {
        core.export_request(id as u64)
            .map(|r| r.head_json())
            .unwrap_or_default()
    })
}

/// The body of job `id`'s next request as UTF-8 bytes, as it goes on the wire (no envelope,
/// no escaping); empty when the job has none.
///
/// ```js
/// await fetch(head.url, { method: head.method, headers: head.headers, body: exportBody(id) });
/// ```
#[wasm_bindgen(js_name = exportBody)]
pub fn export_body(id: f64) -> Vec<u8> {
    with(Vec::new(), |core| {
        core.export_request(id as u64)
            .map(|r| r.body.to_vec())
            .unwrap_or_default()
    })
}

// ---- Spilling the export backlog to the outbox (src/export/queue/spill.rs). ----

/// Keep at most `maxResident` bytes of export request bodies in memory: the exporter has a
/// durable outbox for the rest.
///
/// ```js
/// if (outbox) exportSpillAt(1 << 20);
/// ```
#[wasm_bindgen(js_name = exportSpillAt)]
pub fn export_spill_at(max_resident: f64) {
    with((), |core| {
        core.export_spill_at(max_resident.max(0.0) as usize)
    })
}

/// The jobs to write to the outbox (`exportPersist`; "" when the copy there is current) and
/// then drop from memory (`exportEvict`), newest first.
///
/// ```js
/// for (const id of exportSpill(Date.now())) { const t = exportPersist(id); if (t) outbox.put(id, t); exportEvict(id); }
/// ```
#[wasm_bindgen(js_name = exportSpill)]
pub fn export_spill(now_ms: f64) -> Vec<f64> {
    with(Vec::new(), |core| {
        core.export_spill(now_ms)
            .into_iter()
            .map(|id| id as f64)
            .collect()
    })
}

/// Job `id`'s outbox copy is written: its bodies leave memory. False when the job changed
/// since `exportSpill` named it (it stays in memory).
#[wasm_bindgen(js_name = exportEvict)]
pub fn export_evict(id: f64) -> bool {
    with(false, |core| core.export_evict(id as u64))
}

/// A spilled job's outbox text, read back as `exportPoll`'s `load` asked ("" when there was
/// none). False: missing or not that job's; its spans are counted failed.
///
/// ```js
/// if (!exportReload(id, outbox.get(id) ?? "")) warnOnce("an outbox entry was lost");
/// ```
#[wasm_bindgen(js_name = exportReload)]
pub fn export_reload(id: f64, json: &str) -> bool {
    with(true, |core| core.export_reload(id as u64, json))
}
