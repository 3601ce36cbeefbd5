//! The core: one per `init()`. It owns the tracer, the local-store buffer and the export
//! queue, hands each finished trace from the first to the other two, and counts. The wasm
//! bindings (`src/wasm.rs`) call only this.

use crate::config::{Config, Mode};
use crate::encode::agensight::{Encoder, Kind, Target};
use crate::error::Result;
use crate::export::policy::Outcome;
use crate::export::queue::Queue;
use crate::export::request::HttpRequest;
use crate::ids::{SpanId, TraceId};
use crate::json::{push_f64, push_string, push_u64, Obj};
use crate::llm::Declaration;
use crate::model::{Batch, ErrorInfo, SessionSpec};
use crate::tracer::Tracer;

/// Counters, for `flush()` and the benchmarks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Spans ended and recorded.
    pub recorded: u64,
    /// Spans not recorded or not kept because a bound was hit (open spans, export queue).
    pub dropped: u64,
    pub unsampled: u64,
    /// Spans open now.
    pub open: u64,
    /// Spans waiting for export: not yet accepted or given up.
    pub pending: u64,
    pub exported: u64,
    pub failed: u64,
    /// Export request-body bytes in memory now (the outbox holds the rest: `spilled` jobs).
    pub resident: u64,
    pub spilled: u64,
    /// Span definitions held now (bounded: [`crate::tracer::MAX_DEFS`]), and evicted so far:
    /// re-creatable facts, not data (a wrapper whose definition went defines it again).
    pub definitions: u64,
    pub definitions_evicted: u64,
}

impl Stats {
    /// `{"definitions","definitionsEvicted","dropped","exported","failed","open","pending",
    /// "recorded","unsampled","resident","spilled"}` (`stats`).
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(128);
        let mut o = Obj::new(&mut out);
        o.int("definitions", self.definitions)
            .int("definitionsEvicted", self.definitions_evicted)
            .int("dropped", self.dropped)
            .int("exported", self.exported)
            .int("failed", self.failed)
            .int("open", self.open)
            .int("pending", self.pending)
            .int("recorded", self.recorded)
            .int("unsampled", self.unsampled)
            .int("resident", self.resident)
            .int("spilled", self.spilled);
        o.finish();
        out
    }
}

/// What the export loop must act on after a round (`exportPoll`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Poll {
    /// Jobs dropped by the bounds or a refused token: delete their outbox copies.
    pub dropped: Vec<u64>,
    /// Export failures since the last poll (the token never appears in them).
    pub warnings: Vec<String>,
    /// Milliseconds until export work is due (0: now), or `None` when there is none.
    pub wake_ms: Option<f64>,
    /// Spilled jobs to read back from the outbox now ([`Core::export_reload`]), oldest first.
    pub load: Vec<u64>,
}

impl Poll {
    /// `{"dropped":[job ids],"warnings":["..."],"wake":ms,"load":[job ids]}`, `wake` -1 for
    /// none (`exportPoll`).
    ///
    /// ```
    /// use agensight_wasm::core::Poll;
    /// let p = Poll { dropped: vec![7, 9], warnings: vec!["a \"b\"".into()], wake_ms: None, load: vec![3] };
    /// assert_eq!(p.to_json(), r#"{"dropped":[7,9],"warnings":["a \"b\""],"wake":-1,"load":[3]}"#);
    /// ```
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"dropped\":");
        push_ids(&mut out, &self.dropped);
        out.push_str(",\"warnings\":[");
        for (i, w) in self.warnings.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_string(&mut out, w);
        }
        out.push_str("],\"wake\":");
        push_f64(&mut out, self.wake_ms.unwrap_or(-1.0));
        out.push_str(",\"load\":");
        push_ids(&mut out, &self.load);
        out.push('}');
        out
    }
}

/// `[id,...]`
fn push_ids(out: &mut String, ids: &[u64]) {
    out.push('[');
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_u64(out, *id);
    }
    out.push(']');
}

/// Local-store bytes waiting in the core past which `end` asks JS to write them now
/// ([`Ended::DrainNow`]): code that never yields to a timer (sync loops, chains of settled
/// promises) still gets its records written, and memory stays bounded.
pub const LOCAL_DRAIN_BYTES: usize = 1 << 20;
/// Local-store bytes the core holds at most; a trace that does not fit is not kept locally
/// (its spans counted in `dropped`), unless the buffer is empty (one trace or part alone is
/// bounded by the part rule and `maxFieldBytes`). Reached only when JS does not take the
/// lines (no store).
pub const LOCAL_MAX_BYTES: usize = 16 << 20;

/// What ending a span handed on ([`Core::end`]; the wasm `end` returns it as a number).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Nothing to take or send (0).
    Nothing = 0,
    /// A trace (or part of one) was handed on: lines to take and/or export work (1).
    Emitted = 1,
    /// As `Emitted`, and the local lines passed [`LOCAL_DRAIN_BYTES`], or a batch of export
    /// traces waits to be spilled to the outbox ([`Queue::wants_spill`]): act now (2).
    DrainNow = 2,
}

impl Ended {
    /// Whether anything was handed on (local lines and/or export work).
    pub fn handed_on(self) -> bool {
        self != Ended::Nothing
    }
}

pub struct Core {
    tracer: Tracer,
    /// Local-store lines not yet taken by the JS store (none in prod mode or without storage).
    local: Option<String>,
    /// Spans not kept locally because the local buffer was full (in `dropped`).
    local_dropped: u64,
    /// The export queue, in dev and prod modes.
    queue: Option<Queue>,
}

impl Core {
    /// `seed`: random bytes for the ids and the hash keys (`Tracer::new`); `now_ms`: the time
    /// `init()` ran.
    pub fn new(config: Config, seed: &[u8], now_ms: f64) -> Core {
        let stores_locally = config.mode != Mode::Prod && config.storage != "none";
        Core {
            local: stores_locally.then(String::new),
            local_dropped: 0,
            queue: config.mode.exports().then(|| Queue::new(&config)),
            tracer: Tracer::new(config, seed, now_ms),
        }
    }

    pub fn config(&self) -> &Config {
        &self.tracer.config
    }

    /// See [`Tracer::define`].
    pub fn define(&mut self, name: &str, kind: &str, metadata: &str) -> u32 {
        self.tracer.define(name, kind, metadata)
    }

    /// See [`Tracer::define_span`].
    pub fn define_span(
        &mut self,
        name: &str,
        kind: &str,
        metadata: &str,
        session: &str,
    ) -> Result<u32> {
        self.tracer.define_span(name, kind, metadata, session)
    }

    /// See [`Tracer::bound_definitions`].
    pub fn bound_definitions(&mut self, max: usize, max_bytes: usize) {
        self.tracer.bound_definitions(max, max_bytes)
    }

    /// See [`Tracer::start`].
    pub fn start(
        &mut self,
        def: u32,
        parent: u32,
        now_ms: f64,
        input: &str,
        session: Option<SessionSpec>,
    ) -> u32 {
        self.tracer.start(def, parent, now_ms, input, session)
    }

    /// See [`Tracer::start_remote`].
    pub fn start_remote(
        &mut self,
        def: u32,
        trace_id: TraceId,
        parent: SpanId,
        now_ms: f64,
        input: &str,
    ) -> u32 {
        self.tracer
            .start_remote(def, trace_id, parent, now_ms, input, None)
    }

    /// See [`Tracer::stream_chunk`].
    pub fn stream_chunk(&mut self, h: u32, chunk: &str) {
        self.tracer.stream_chunk(h, chunk)
    }

    /// See [`Tracer::declare_llm`].
    pub fn declare_llm(&mut self, h: u32, d: Declaration) {
        self.tracer.declare_llm(h, d)
    }

    /// Ends span `h` (see [`Tracer::end`]); a trace ready to go is written to the local
    /// buffer and queued for export. Says whether that happened and whether the local lines
    /// should be taken now.
    pub fn end(&mut self, h: u32, now_ms: f64, output: &str, error: Option<ErrorInfo>) -> Ended {
        match self.tracer.end(h, now_ms, output, error) {
            Some((batch, part)) => {
                self.emit(batch, part, now_ms);
                let spill = self.queue.as_ref().is_some_and(Queue::wants_spill);
                match &self.local {
                    Some(l) if l.len() >= LOCAL_DRAIN_BYTES => Ended::DrainNow,
                    _ if spill => Ended::DrainNow,
                    _ => Ended::Emitted,
                }
            }
            None => Ended::Nothing,
        }
    }

    /// Writes a batch to the local buffer and queues it for export. A `part` of a trace whose
    /// root still runs writes no local `trace_update`: its running total would come before the
    /// trace record, which carries the final one (readers then took the earlier, lower one).
    fn emit(&mut self, batch: Batch, part: bool, now_ms: f64) {
        if let Some(local) = &mut self.local {
            let config = &self.tracer.config;
            let enc = Encoder {
                mode: config.mode,
                project_id: None,
                service: &config.name,
                target: Target::Local,
            };
            let before = local.len();
            if part {
                enc.encode(&batch, |kind, data| {
                    if kind != Kind::TraceUpdate {
                        push_line(local, kind, data);
                    }
                });
            } else {
                enc.encode_lines(&batch, local);
            }
            if before > 0 && local.len() > LOCAL_MAX_BYTES {
                local.truncate(before);
                self.local_dropped += batch.spans.len() as u64;
            }
        }
        if let Some(q) = &mut self.queue {
            q.add(batch, now_ms);
        }
    }

    /// The local-store lines written so far (JSON records, one a line), left in place: the
    /// store appends (or copies) them, then [`Core::local_taken`] drops them. No copy out of
    /// wasm memory and no new buffer per write.
    pub fn local_lines(&self) -> &str {
        self.local.as_deref().unwrap_or("")
    }

    /// The first `n` bytes of [`Core::local_lines`] are stored: drops them. Lines written
    /// meanwhile (a traced call during the store's write) stay; the room stays too, up to the
    /// drain threshold, so the next lines are written without growing the buffer again.
    pub fn local_taken(&mut self, n: usize) {
        if let Some(l) = &mut self.local {
            // `n` is at a line's end (what local_lines gave); anything else drops nothing.
            if n == l.len() {
                l.clear();
            } else if l.is_char_boundary(n) && l[..n].ends_with('\n') {
                l.drain(..n);
            }
            // After a burst (lines held past twice the threshold), the room goes back.
            if l.capacity() > 2 * LOCAL_DRAIN_BYTES {
                l.shrink_to(LOCAL_DRAIN_BYTES);
            }
        }
    }

    /// Takes the local-store lines written so far (JSON records, one a line): what the JS side
    /// does in two calls ([`Core::local_lines`], then [`Core::local_taken`]), in one, for Rust
    /// callers (tests, fuzzers), so they go through the same room policy.
    pub fn take_local(&mut self) -> String {
        let lines = self.local_lines().to_owned();
        self.local_taken(lines.len());
        lines
    }

    /// The W3C `traceparent` of span `h`, to send with an outgoing request.
    pub fn traceparent(&self, h: u32) -> Option<String> {
        self.tracer.traceparent(h)
    }

    /// `(trace id, span id)` of a handle, for `currentTraceId()` and propagation.
    pub fn ids_of(&self, h: u32) -> Option<(TraceId, SpanId)> {
        self.tracer.ids_of(h)
    }

    pub fn queue(&self) -> Option<&Queue> {
        self.queue.as_ref()
    }

    pub fn queue_mut(&mut self) -> Option<&mut Queue> {
        self.queue.as_mut()
    }

    /// The next export job to send now (see [`Queue::next`]); job ids are random.
    pub fn export_next(&mut self, now_ms: f64, force: bool) -> Option<u64> {
        self.export_next_within(now_ms, force, None)
    }

    /// [`Core::export_next`] with a request body budget (see [`Queue::next_within`]).
    pub fn export_next_within(
        &mut self,
        now_ms: f64,
        force: bool,
        max_body: Option<usize>,
    ) -> Option<u64> {
        let tracer = &mut self.tracer;
        self.queue
            .as_mut()?
            .next_within(now_ms, force, max_body, &mut || tracer.random())
    }

    /// Every waiting trace made into jobs now; the ids of the jobs not in the outbox yet
    /// (see [`Queue::unsaved`]).
    pub fn export_unsaved(&mut self, now_ms: f64) -> Vec<u64> {
        let tracer = &mut self.tracer;
        self.queue
            .as_mut()
            .map(|q| q.unsaved(now_ms, &mut || tracer.random()))
            .unwrap_or_default()
    }

    /// Records a response for an export job; true when the job is finished.
    pub fn export_complete(&mut self, id: u64, outcome: Outcome, now_ms: f64) -> bool {
        let jitter = self.tracer.random() as f64 / (1u64 << 53) as f64;
        match &mut self.queue {
            Some(q) => q.complete(id, outcome, now_ms, jitter),
            None => true,
        }
    }

    /// Job `id`'s next request; `None` when it has none (it is finished).
    pub fn export_request(&self, id: u64) -> Option<HttpRequest<'_>> {
        self.queue.as_ref()?.request(id)
    }

    /// Bytes of the body of job `id`'s next request (0 for none).
    pub fn export_body_bytes(&self, id: u64) -> usize {
        self.queue.as_ref().map_or(0, |q| q.body_bytes(id))
    }

    /// The job as JSON for the outbox, the first time only (then "").
    pub fn export_persist(&mut self, id: u64) -> String {
        self.queue
            .as_mut()
            .map(|q| q.persist(id))
            .unwrap_or_default()
    }

    /// Brings back an outbox entry saved by an earlier process; false when it is not ours.
    pub fn export_restore(&mut self, json: &str) -> bool {
        self.queue.as_mut().is_some_and(|q| q.restore(json))
    }

    /// Milliseconds until export work is due (0: now), or `None` when there is none.
    pub fn export_wake(&self, now_ms: f64) -> Option<f64> {
        self.queue.as_ref()?.wake_in(now_ms)
    }

    /// Outbox entries to delete: jobs dropped by the bounds or a refused token.
    pub fn export_dropped(&mut self) -> Vec<u64> {
        self.queue
            .as_mut()
            .map(Queue::take_dropped_jobs)
            .unwrap_or_default()
    }

    /// Export failures since the last call.
    pub fn export_warnings(&mut self) -> Vec<String> {
        self.queue
            .as_mut()
            .map(Queue::take_warnings)
            .unwrap_or_default()
    }

    /// One round's news at once: spilled jobs to read back, dropped jobs, warnings and the
    /// next wake time (0 when jobs are to be read back: they are due once they are).
    pub fn export_poll(&mut self, now_ms: f64) -> Poll {
        let load = self.queue.as_mut().map(Queue::to_load).unwrap_or_default();
        Poll {
            dropped: self.export_dropped(),
            warnings: self.export_warnings(),
            wake_ms: if load.is_empty() {
                self.export_wake(now_ms)
            } else {
                Some(0.0)
            },
            load,
        }
    }

    /// Spill to the outbox past `max_resident` bytes of request bodies in memory (see
    /// [`Queue::spill_at`]): the exporter has an outbox.
    pub fn export_spill_at(&mut self, max_resident: usize) {
        if let Some(q) = &mut self.queue {
            q.spill_at(max_resident);
        }
    }

    /// Jobs to write to the outbox and drop from memory (see [`Queue::spill`]).
    pub fn export_spill(&mut self, now_ms: f64) -> Vec<u64> {
        let tracer = &mut self.tracer;
        self.queue
            .as_mut()
            .map(|q| q.spill(now_ms, &mut || tracer.random()))
            .unwrap_or_default()
    }

    /// Job `id`'s outbox copy is written: its bodies leave memory (see [`Queue::evict`]).
    pub fn export_evict(&mut self, id: u64) -> bool {
        self.queue.as_mut().is_some_and(|q| q.evict(id))
    }

    /// A spilled job's outbox text, read back (see [`Queue::reload`]); false: lost, counted.
    pub fn export_reload(&mut self, id: u64, json: &str) -> bool {
        self.queue.as_mut().is_none_or(|q| q.reload(id, json))
    }

    /// The counters of the tracer and the export queue together.
    pub fn stats(&self) -> Stats {
        let t = &self.tracer.stats;
        let q = self.queue.as_ref();
        let (definitions, evicted) = self.tracer.definitions();
        Stats {
            recorded: t.spans_recorded,
            dropped: t.dropped + self.local_dropped + q.map_or(0, |q| q.counts.dropped),
            unsampled: t.unsampled_traces,
            open: self.tracer.open_spans() as u64,
            pending: q.map_or(0, Queue::pending_spans),
            exported: q.map_or(0, |q| q.counts.exported),
            failed: q.map_or(0, |q| q.counts.failed),
            resident: q.map_or(0, |q| q.resident_bytes() as u64),
            spilled: q.map_or(0, |q| q.spilled_jobs() as u64),
            definitions: definitions as u64,
            definitions_evicted: evicted,
        }
    }
}

/// One local-store line, as [`Encoder::encode_lines`] writes it.
fn push_line(out: &mut String, kind: Kind, data: &str) {
    out.push_str("{\"type\":\"");
    out.push_str(kind.as_str());
    out.push_str("\",\"data\":");
    out.push_str(data);
    out.push_str("}\n");
}
