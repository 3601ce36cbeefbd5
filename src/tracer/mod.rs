//! The tracer: starts and ends spans, keeps each trace's ended spans until its root ends, and
//! then hands the whole trace back as one [`Batch`] (parents first). Where batches go (the
//! local store, the export queue) is [`crate::core`]'s business.

mod registry;
mod tool_link;

pub use registry::{MAX_DEFS, MAX_DEF_BYTES, NONE, NOOP, REDEFINE};

use crate::capture::limits::clamp_json;
use crate::capture::redact::Redactor;
use crate::config::Config;
use crate::error::Result;
use crate::ids::{IdGenerator, SpanId, TraceId};
use crate::llm::{self, Declaration};
use crate::model::{Batch, ErrorInfo, FinishedSpan, Session, SessionSpec, TraceInfo};
use crate::slab::Slab;
use registry::{Def, DefTable, KeyedHash, KeyedTable, LiveTrace, OpenSpan, SpanSlot};
use std::collections::VecDeque;
use std::rc::Rc;

/// Most spans open at once; past it new spans are not recorded (counted in `dropped`).
pub const MAX_OPEN_SPANS: usize = 100_000;
/// Ended spans whose handles stay valid (their slots are not reused) through this many later
/// span starts; about 130 bytes each.
const KEEP_ENDED_SPANS: usize = 4096;
/// Ended traces remembered, so a span started after its whole trace ended still joins it.
const RECENT_TRACES: usize = 256;
/// Ended spans a trace whose root still runs holds at most: at this many they are handed on
/// as a part of the trace (docs/records.md, "Long traces"), so a long-lived root does not keep
/// everything below it in memory until it ends.
pub const TRACE_PART_SPANS: usize = 1000;
/// ... or at this many bytes of captured values (large captures under a long-lived root).
pub const TRACE_PART_BYTES: usize = 4 << 20;
/// Session ids remembered as written (the session record goes once per id); past this many
/// the oldest is forgotten, and its record is written again if it comes back.
pub const SESSIONS_REMEMBERED: usize = 4096;
/// How many of `init()`'s random bytes seed the ids; the rest key the hash tables (JS passes
/// [`ID_SEED_BYTES`] + 16).
pub const ID_SEED_BYTES: usize = 32;

/// The tracer's counters (the core adds the export queue's).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub spans_recorded: u64,
    /// Spans not recorded because a bound was hit (open spans).
    pub dropped: u64,
    pub unsampled_traces: u64,
}

pub struct Tracer {
    pub config: Config,
    ids: IdGenerator,
    redactor: Redactor,
    defs: DefTable,
    spans: Slab<SpanSlot>,
    traces: Slab<LiveTrace>,
    recent: VecDeque<TraceInfo>,
    default_session: Option<Rc<Session>>,
    sessions_seen: KeyedTable<Rc<str>, ()>,
    /// `sessions_seen` in the order first seen, to forget the oldest.
    sessions_order: VecDeque<Rc<str>>,
    seq: u64,
    pub stats: Stats,
}

impl Tracer {
    /// `seed`: random bytes, the first [`ID_SEED_BYTES`] for the id generator and the rest for
    /// the tables' hash keys; `now_ms`: the time `init()` ran.
    pub fn new(config: Config, seed: &[u8], now_ms: f64) -> Tracer {
        let literals = config.token.iter().cloned().collect();
        let redactor = if config.redact {
            Redactor::new(literals)
        } else {
            Redactor::literals_only(literals)
        };
        let default_session = config.session.clone().map(|spec| {
            Rc::new(Session {
                spec: Rc::new(masked_session(spec, &redactor)),
                started_ms: now_ms,
            })
        });
        // Span ids reveal the id generator's state (xoshiro is not a CSPRNG), so keys derived
        // from the same bytes could be recovered by whoever sees enough ids and then flood the
        // tables with colliding names: the keys get bytes of their own when there are any.
        let (id_seed, key_seed) = seed.split_at(seed.len().min(ID_SEED_BYTES));
        let keys = KeyedHash::from_seed(if key_seed.is_empty() { seed } else { key_seed });
        Tracer {
            ids: IdGenerator::new(id_seed),
            redactor,
            defs: DefTable::new(keys.clone()),
            // An ended span's handle keeps reaching its ids (for a late child: fire-and-forget
            // work that outlives its trace) through this many later spans.
            spans: Slab::keeping(KEEP_ENDED_SPANS),
            traces: Slab::default(),
            recent: VecDeque::new(),
            default_session,
            sessions_seen: KeyedTable::new(keys),
            sessions_order: VecDeque::new(),
            seq: 0,
            stats: Stats::default(),
            config,
        }
    }

    /// Registers a wrapper's name, kind and metadata (JSON object text, or empty); returns its
    /// def id. The same triple gets the same id while the bounded table holds it (see
    /// [`MAX_DEFS`]), so wrappers made in a loop cost nothing.
    pub fn define(&mut self, name: &str, kind: &str, metadata: &str) -> u32 {
        self.define_span(name, kind, metadata, "")
            .expect("no session, nothing to fail")
    }

    /// [`Tracer::define`] with the session of the traces this wrapper starts, as the JSON text
    /// of a `trace()` session option ("": the configured one). It is read here, once per
    /// distinct definition; an invalid one is an error (see [`SessionSpec::from_json`]).
    pub fn define_span(
        &mut self,
        name: &str,
        kind: &str,
        metadata: &str,
        session: &str,
    ) -> Result<u32> {
        let name = self.redactor.mask_text(name);
        let name = name.as_str();
        let metadata: Option<Rc<str>> = if metadata.is_empty() {
            None
        } else {
            Some(
                clamp_json(metadata, self.config.max_field_bytes, Some(&self.redactor))
                    .json
                    .into(),
            )
        };
        let key = (
            Rc::<str>::from(name),
            Rc::<str>::from(if kind.is_empty() { "span" } else { kind }),
            metadata,
            (!session.is_empty()).then(|| session.into()),
        );
        let redactor = &self.redactor;
        self.defs.define(key, |key| {
            let session = match &key.3 {
                Some(text) => Some(Rc::new(masked_session(
                    SessionSpec::from_json(text)?,
                    redactor,
                ))),
                None => None,
            };
            Ok(Def {
                name: key.0.clone(),
                kind: key.1.clone(),
                metadata: key.2.clone(),
                session,
            })
        })
    }

    /// The definition table's bound (see [`MAX_DEFS`]), smaller for tests and the fuzzer;
    /// forgets every definition held.
    pub fn bound_definitions(&mut self, max: usize, max_bytes: usize) {
        self.defs = DefTable::bounded(max, max_bytes, self.defs.keys().clone());
    }

    /// Definitions held now, and evicted so far.
    pub fn definitions(&self) -> (usize, u64) {
        (self.defs.len(), self.defs.evicted)
    }

    /// Starts a span of wrapper `def` under `parent` (a handle, `NONE` for a new trace) with
    /// the arguments as JSON text (empty when not captured). For a new trace only, `session`
    /// overrides the def's session, which overrides the configured one. Returns the span's handle, or `NOOP` when it is not
    /// recorded (unsampled, bounds, unknown def), or [`REDEFINE`] when `def` was evicted from
    /// the bounded definition table: define it again, then start.
    pub fn start(
        &mut self,
        def: u32,
        parent: u32,
        now_ms: f64,
        input: &str,
        session: Option<SessionSpec>,
    ) -> u32 {
        if parent == NOOP {
            return NOOP;
        }
        let def = match self.can_start(def) {
            Ok(d) => d,
            Err(answer) => return answer,
        };
        let joined = if parent == NONE {
            None
        } else {
            self.spans.get(parent).and_then(|s| s.ids(&self.traces))
        };
        let placed = match joined {
            Some((trace, trace_id, span_id)) => {
                let trace = match self.traces.get(trace) {
                    Some(t) if t.info.trace_id == trace_id => Some(trace),
                    _ => self.continue_trace(trace_id, now_ms),
                };
                trace.map(|t| (t, Some(span_id), false))
            }
            None => {
                if self.config.sample_rate < 1.0
                    && (self.ids.next_u64() >> 11) as f64 / (1u64 << 53) as f64
                        >= self.config.sample_rate
                {
                    self.stats.unsampled_traces += 1;
                    return NOOP;
                }
                let trace_id = self.ids.trace_id();
                self.new_trace(&def, trace_id, now_ms, session)
                    .map(|t| (t, None, true))
            }
        };
        match placed {
            Some((trace, parent_id, is_root)) => {
                self.open_span(def, trace, parent_id, is_root, now_ms, input)
            }
            None => NOOP,
        }
    }

    /// Starts the local root of a trace that began in another process (an incoming W3C
    /// `traceparent`): the trace keeps its id, the span's parent is the remote span, and the
    /// remote side's sampling decision stands.
    pub fn start_remote(
        &mut self,
        def: u32,
        trace_id: TraceId,
        parent: SpanId,
        now_ms: f64,
        input: &str,
        session: Option<SessionSpec>,
    ) -> u32 {
        let def = match self.can_start(def) {
            Ok(d) => d,
            Err(answer) => return answer,
        };
        match self.new_trace(&def, trace_id, now_ms, session) {
            Some(trace) => self.open_span(def, trace, Some(parent), true, now_ms, input),
            None => NOOP,
        }
    }

    /// Definition `def` for a new span, or what `start` answers instead.
    fn can_start(&mut self, def: u32) -> std::result::Result<Rc<Def>, u32> {
        let def = self.defs.start(def)?;
        if self.spans.len() >= MAX_OPEN_SPANS {
            self.stats.dropped += 1;
            return Err(NOOP);
        }
        Ok(def)
    }

    fn new_trace(
        &mut self,
        d: &Def,
        trace_id: TraceId,
        now_ms: f64,
        session: Option<SessionSpec>,
    ) -> Option<u32> {
        let session = match session
            .map(|spec| Rc::new(masked_session(spec, &self.redactor)))
            .or_else(|| d.session.clone())
        {
            Some(spec) => Some(Rc::new(Session {
                spec,
                started_ms: now_ms,
            })),
            None => self.default_session.clone(),
        };
        let info = TraceInfo {
            trace_id,
            name: d.name.clone(),
            start_ms: now_ms,
            end_ms: now_ms,
            session,
            metadata: d.metadata.clone(),
            total_tokens: 0,
        };
        self.traces.insert(LiveTrace {
            info,
            open: 0,
            root_done: false,
            sent: false,
            spans: Vec::new(),
            held_bytes: 0,
        })
    }

    fn open_span(
        &mut self,
        def: Rc<Def>,
        trace: u32,
        parent: Option<SpanId>,
        is_root: bool,
        now_ms: f64,
        input: &str,
    ) -> u32 {
        let (input, truncated) = if self.config.capture_input && !input.is_empty() {
            let c = clamp_json(input, self.config.max_field_bytes, Some(&self.redactor));
            (Some(c.json), c.truncated)
        } else {
            (None, false)
        };
        self.seq += 1;
        let span = OpenSpan {
            trace,
            span_id: self.ids.span_id(),
            parent,
            def,
            start_ms: now_ms,
            input,
            truncated,
            seq: self.seq,
            is_root,
            stream: None,
        };
        match self.spans.insert(SpanSlot::Open(span)) {
            Some(h) => {
                if let Some(t) = self.traces.get_mut(trace) {
                    t.open += 1;
                }
                h
            }
            None => {
                if is_root {
                    self.traces.remove(trace);
                }
                self.stats.dropped += 1;
                NOOP
            }
        }
    }

    /// Feeds one chunk (JSON text) of a streamed LLM response to span `h`; at its end the span
    /// records the whole response aggregated from its chunks (see [`llm::Stream`]).
    pub fn stream_chunk(&mut self, h: u32, chunk: &str) {
        if let Some(SpanSlot::Open(open)) = self.spans.get_mut(h) {
            open.stream.get_or_insert_with(Default::default).push(chunk);
        }
    }

    /// Declares span `h` an LLM call before any response (see [`Declaration`]): it is
    /// recorded as one even when no response comes, and a whole response it ends with as its
    /// output is read as the call's.
    pub fn declare_llm(&mut self, h: u32, d: Declaration) {
        if let Some(SpanSlot::Open(open)) = self.spans.get_mut(h) {
            open.stream.get_or_insert_with(Default::default).declare(d);
        }
    }

    /// A trace whose every span has ended gets a late child: bring it back, already sent.
    fn continue_trace(&mut self, trace_id: TraceId, now_ms: f64) -> Option<u32> {
        let info = match self.recent.iter().find(|t| t.trace_id == trace_id) {
            Some(t) => t.clone(),
            None => TraceInfo {
                trace_id,
                name: "".into(),
                start_ms: now_ms,
                end_ms: now_ms,
                session: None,
                metadata: None,
                total_tokens: 0,
            },
        };
        self.traces.insert(LiveTrace {
            info,
            open: 0,
            root_done: true,
            sent: true,
            spans: Vec::new(),
            held_bytes: 0,
        })
    }

    /// Ends span `h` with its return value as JSON text (empty when not captured) or an error.
    /// Returns the trace as a batch when it is ready to go: its root ended now, or this span
    /// ended after its root; or a part of it ([`TRACE_PART_SPANS`]), with `true`.
    pub fn end(
        &mut self,
        h: u32,
        now_ms: f64,
        output: &str,
        error: Option<ErrorInfo>,
    ) -> Option<(Batch, bool)> {
        let Some(SpanSlot::Open(open)) = self.spans.get(h) else {
            return None;
        };
        let (trace_h, span_id) = (open.trace, open.span_id);
        let trace_id = self.traces.get(trace_h)?.info.trace_id;
        let Some(SpanSlot::Open(open)) = self.spans.retire(
            h,
            SpanSlot::Ended {
                trace: trace_h,
                trace_id,
                span_id,
            },
        ) else {
            return None;
        };
        let def = &open.def;
        let mut truncated = open.truncated;
        // The error's texts are captures too: secrets masked, each cut to maxFieldBytes.
        let error = error.map(|e| {
            let (e, cut) = limit_error(e, self.config.max_field_bytes, &self.redactor);
            truncated |= cut;
            e
        });
        // A streamed response: the call and the output come from the aggregated chunks. A
        // declared call that ended with a whole response as its output takes that response.
        let streamed = open.stream.map(|s| s.finish(output));
        let output = match &streamed {
            Some(s) if output.is_empty() || s.replaces_output => s.output.as_str(),
            _ => output,
        };
        let output = if self.config.capture_output && error.is_none() && !output.is_empty() {
            let c = clamp_json(output, self.config.max_field_bytes, Some(&self.redactor));
            truncated |= c.truncated;
            Some(c.json)
        } else {
            None
        };
        // A result that only reports usage is counted unless a span below recorded a call.
        let mut usage_report = false;
        let mut llm = match streamed {
            // Aggregated from raw chunks: the capture rules (size, secrets, output off) apply
            // to its texts here, as they did to a parsed output.
            Some(s) => s.call(open.input.as_deref()).map(|mut c| {
                llm::limit_output(
                    &mut c,
                    self.config.max_field_bytes,
                    &self.redactor,
                    self.config.capture_output,
                );
                c
            }),
            None => output.as_deref().and_then(|o| {
                let (call, report) = llm::parse_result(open.input.as_deref(), o)?;
                usage_report = report;
                Some(call)
            }),
        }
        .map(Box::new);
        if let (Some(l), Some(t)) = (&llm, self.traces.get(trace_h)) {
            // A function that returns what its traced LLM call returned (`return await llm()`)
            // is not a second LLM call: its tokens are counted once, on the call itself.
            if t.spans.iter().any(|s| {
                s.llm
                    .as_ref()
                    .is_some_and(|c| usage_report || c.same_response(l))
                    && is_descendant(&t.spans, s.span_id, open.span_id)
            }) {
                llm = None;
            }
        }
        let kind = if llm.is_some() && &*def.kind == "span" {
            "llm".into()
        } else {
            def.kind.clone()
        };
        // A tool span gets the id of the model's call it answers, when one is found.
        let tool_call_id = match (&*kind, &llm, self.traces.get(trace_h)) {
            ("tool", None, Some(t)) => tool_link::find_call(
                &t.spans,
                open.parent,
                open.seq,
                &def.name,
                open.input.as_deref(),
            ),
            _ => None,
        };
        let span = FinishedSpan {
            span_id: open.span_id,
            parent: open.parent,
            name: def.name.clone(),
            kind,
            start_ms: open.start_ms,
            end_ms: now_ms,
            input: open.input,
            output,
            error,
            metadata: if open.is_root {
                None
            } else {
                def.metadata.clone()
            },
            truncated,
            llm,
            tool_call_id,
            seq: open.seq,
        };
        self.stats.spans_recorded += 1;
        let t = self
            .traces
            .get_mut(trace_h)
            .expect("an open span's trace is live");
        if let Some(l) = &span.llm {
            t.info.total_tokens = t.info.total_tokens.saturating_add(l.usage.total);
        }
        t.open -= 1;
        if open.is_root {
            t.root_done = true;
            t.info.end_ms = now_ms;
        }
        t.held_bytes += span.input.as_ref().map_or(0, String::len)
            + span.output.as_ref().map_or(0, String::len);
        t.spans.push(span);
        if !t.root_done {
            if t.spans.len() < TRACE_PART_SPANS && t.held_bytes < TRACE_PART_BYTES {
                return None;
            }
            t.held_bytes = 0;
            // A part: these spans now, the trace record later with the root's part.
            let mut spans = std::mem::take(&mut t.spans);
            in_start_order(&mut spans);
            let part = Batch {
                trace: t.info.clone(),
                trace_is_new: false,
                session_is_new: false,
                spans,
            };
            return Some((part, true));
        }
        t.held_bytes = 0;
        let mut spans = std::mem::take(&mut t.spans);
        in_start_order(&mut spans);
        let trace_is_new = !t.sent;
        t.sent = true;
        let info = t.info.clone();
        if t.open == 0 {
            self.traces.remove(trace_h);
            if self.recent.len() == RECENT_TRACES {
                self.recent.pop_front();
            }
            self.recent.push_back(info.clone());
        }
        let session_is_new = trace_is_new
            && info
                .session
                .as_ref()
                .is_some_and(|s| self.remember_session(&s.spec.id));
        let batch = Batch {
            trace: info,
            trace_is_new,
            session_is_new,
            spans,
        };
        Some((batch, false))
    }

    /// Whether session `id` is new (then remembered, forgetting the oldest past
    /// [`SESSIONS_REMEMBERED`]).
    fn remember_session(&mut self, id: &str) -> bool {
        if self.sessions_seen.contains(id) {
            return false;
        }
        if self.sessions_order.len() >= SESSIONS_REMEMBERED {
            if let Some(old) = self.sessions_order.pop_front() {
                self.sessions_seen.remove(&old);
            }
        }
        let id: Rc<str> = id.into();
        self.sessions_seen.insert(id.clone(), ());
        self.sessions_order.push_back(id);
        true
    }

    /// A random number below 2^53 from the id generator (export job ids, retry jitter).
    pub fn random(&mut self) -> u64 {
        self.ids.next_u64() >> 11
    }

    /// The W3C `traceparent` of span `h`, to send with an outgoing request.
    pub fn traceparent(&self, h: u32) -> Option<String> {
        self.ids_of(h)
            .map(|(t, s)| format!("00-{}-{}-01", t.hex(), s.hex()))
    }

    /// `(trace id, span id)` of a handle, for `currentTraceId()` and propagation.
    pub fn ids_of(&self, h: u32) -> Option<(TraceId, SpanId)> {
        let (_, t, s) = self.spans.get(h)?.ids(&self.traces)?;
        Some((t, s))
    }

    /// Spans currently open (for tests and the benchmarks).
    pub fn open_spans(&self) -> usize {
        self.spans.len()
    }
}

/// A session's id, name and user id, masked like captured text (they are written as given).
fn masked_session(spec: SessionSpec, r: &Redactor) -> SessionSpec {
    SessionSpec {
        id: r.mask_text(&spec.id),
        name: spec.name.map(|n| r.mask_text(&n)),
        user_id: spec.user_id.map(|u| r.mask_text(&u)),
    }
}

/// An error's name, message and stack as captured: secrets masked as in captured values (the
/// token whatever the `redact` setting), each cut to `max` bytes at a character boundary,
/// ending in `…`. Also returns whether anything was cut.
fn limit_error(e: ErrorInfo, max: usize, redactor: &Redactor) -> (ErrorInfo, bool) {
    let mut cut = false;
    let mut text = |mut s: String| {
        // Cut early (a secret starting before `max` still has 256 bytes to be recognised),
        // so a 10 MB message costs no 10 MB masking pass.
        let mut at = s.len().min(max + 256);
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        s.truncate(at);
        s = redactor.mask_text(&s);
        if s.len() > max {
            let mut at = max.saturating_sub('\u{2026}'.len_utf8());
            while !s.is_char_boundary(at) {
                at -= 1;
            }
            s.truncate(at);
            s.push('\u{2026}');
            cut = true;
        }
        s
    };
    let e = ErrorInfo {
        name: text(e.name),
        message: text(e.message),
        stack: text(e.stack),
    };
    (e, cut)
}

/// Puts a trace's ended spans in start order (`seq`, unique). They were pushed as they ended,
/// which is start order except for parents, which end after their children: most often only
/// the root, last, is out of place, and moves to the front in one copy.
fn in_start_order(spans: &mut [FinishedSpan]) {
    let n = spans.len();
    if n > 1 && spans[n - 1].seq < spans[0].seq && spans[..n - 1].is_sorted_by_key(|s| s.seq) {
        spans.rotate_right(1);
    } else if !spans.is_sorted_by_key(|s| s.seq) {
        spans.sort_unstable_by_key(|s| s.seq);
    }
}

/// Whether the ended span `id` sits below `ancestor` (walking the parent links of the trace's
/// ended spans).
fn is_descendant(spans: &[FinishedSpan], mut id: SpanId, ancestor: SpanId) -> bool {
    for _ in 0..spans.len() {
        match spans
            .iter()
            .find(|s| s.span_id == id)
            .and_then(|s| s.parent)
        {
            Some(p) if p == ancestor => return true,
            Some(p) => id = p,
            None => return false,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    fn tracer(seed: &[u8]) -> Tracer {
        Tracer::new(crate::config::parse("{}").unwrap(), seed, 0.0)
    }

    /// (the first trace id, the hash of a span name under the definition table's keys)
    fn id_and_hash(seed: &[u8]) -> (String, u64) {
        let mut t = tracer(seed);
        let id = t.ids.trace_id().hex().to_string();
        (id, t.defs.keys().hash_one("chat"))
    }

    #[test]
    fn the_hash_keys_take_bytes_the_ids_do_not_see() {
        let mut seed = [7u8; ID_SEED_BYTES + 16];
        let base = id_and_hash(&seed);
        seed[ID_SEED_BYTES] ^= 1;
        let other_keys = id_and_hash(&seed);
        assert_eq!(
            other_keys.0, base.0,
            "the ids come from the first 32 bytes only"
        );
        assert_ne!(other_keys.1, base.1, "the keys come from the rest");
        seed[ID_SEED_BYTES] ^= 1;
        seed[0] ^= 1;
        let other_ids = id_and_hash(&seed);
        assert_ne!(other_ids.0, base.0);
        assert_eq!(
            other_ids.1, base.1,
            "the keys do not depend on the ids' bytes"
        );
        // Callers with no bytes to spare (32 or fewer) still get keys from what there is.
        assert_ne!(id_and_hash(&[7; 32]).1, id_and_hash(&[8; 32]).1);
    }
}
