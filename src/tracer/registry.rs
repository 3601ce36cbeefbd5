//! The open-span registry's entries: a span handle's slot (the span while it runs, then its
//! ids) and a trace with spans still to come.

use crate::ids::{SpanId, TraceId};
use crate::llm::Stream;
use crate::model::{FinishedSpan, TraceInfo};
use crate::slab::Slab;

/// "No parent": start a new trace.
pub const NONE: u32 = 0;
/// The context of an unsampled (or dropped) trace: its children are not recorded either.
pub const NOOP: u32 = u32::MAX;

/// A trace with spans still to come.
pub struct LiveTrace {
    pub info: TraceInfo,
    /// Spans started and not yet ended.
    pub open: u32,
    /// The root span has ended (or this is a continuation of an already-sent trace).
    pub root_done: bool,
    /// The trace record has been handed on.
    pub sent: bool,
    pub spans: Vec<FinishedSpan>,
    /// Captured bytes of `spans` (input, output), for the part rule's byte bound.
    pub held_bytes: usize,
}

/// A span handle's slot: the span while it runs, then (retired) its ids.
pub enum SpanSlot {
    Open(OpenSpan),
    Ended {
        trace: u32,
        trace_id: TraceId,
        span_id: SpanId,
    },
}

pub struct OpenSpan {
    /// Handle of the trace in the trace slab.
    pub trace: u32,
    pub span_id: SpanId,
    pub parent: Option<SpanId>,
    pub def: u32,
    pub start_ms: f64,
    pub input: Option<String>,
    pub truncated: bool,
    pub seq: u64,
    pub is_root: bool,
    /// Chunks of a streamed LLM response, when the span is one.
    pub stream: Option<Box<Stream>>,
}

impl SpanSlot {
    pub fn ids(&self, traces: &Slab<LiveTrace>) -> Option<(u32, TraceId, SpanId)> {
        match self {
            SpanSlot::Open(s) => Some((s.trace, traces.get(s.trace)?.info.trace_id, s.span_id)),
            SpanSlot::Ended {
                trace,
                trace_id,
                span_id,
            } => Some((*trace, *trace_id, *span_id)),
        }
    }
}
