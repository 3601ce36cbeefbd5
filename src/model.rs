//! The neutral record model: what a finished trace is, before any wire format. The encoders
//! ([`crate::agensight`], and OTLP) turn a [`Batch`] into bytes.

use crate::ids::{SpanId, TraceId};
use crate::llm::LlmCall;
use serde_json::Value;
use std::rc::Rc;

/// A session as the user names it: `"user_456"` or `{ id, name?, user_id? }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionSpec {
    pub id: String,
    pub name: Option<String>,
    pub user_id: Option<String>,
}

impl SessionSpec {
    /// Reads the user's value; the error says what shape is expected.
    pub fn from_value(v: &Value) -> Result<SessionSpec, String> {
        let text = |v: Option<&Value>, what: &str| -> Result<Option<String>, String> {
            match v {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(_) => Err(format!("session `{what}` must be a string")),
            }
        };
        let spec = match v {
            Value::String(s) => SessionSpec {
                id: s.clone(),
                name: None,
                user_id: None,
            },
            Value::Number(n) => SessionSpec {
                id: n.to_string(),
                name: None,
                user_id: None,
            },
            Value::Object(o) => SessionSpec {
                id: text(o.get("id"), "id")?.unwrap_or_default(),
                name: text(o.get("name"), "name")?,
                user_id: text(o.get("user_id").or_else(|| o.get("userId")), "user_id")?,
            },
            _ => return Err("session must be a string id or { id, name?, user_id? }".into()),
        };
        if spec.id.is_empty() {
            return Err(
                "session needs a non-empty `id`: a string, or { id, name?, user_id? }".into(),
            );
        }
        Ok(spec)
    }
}

/// A session as recorded: the spec plus when it was first seen.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub spec: SessionSpec,
    pub started_ms: f64,
}

/// How a span ended with an error: the thrown value's name, message and stack.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ErrorInfo {
    pub name: String,
    pub message: String,
    pub stack: String,
}

/// One ended span, with everything captured.
#[derive(Clone, Debug, PartialEq)]
pub struct FinishedSpan {
    pub span_id: SpanId,
    pub parent: Option<SpanId>,
    pub name: Rc<str>,
    /// "span", "trace", "llm", "tool", "agent", ... (a user-given kind, or "llm" when the
    /// output was recognised as an LLM response).
    pub kind: Rc<str>,
    pub start_ms: f64,
    pub end_ms: f64,
    /// Clamped, redacted JSON text of the arguments / return value.
    pub input: Option<String>,
    pub output: Option<String>,
    pub error: Option<ErrorInfo>,
    /// JSON object text.
    pub metadata: Option<Rc<str>>,
    /// Whether any captured field was cut to fit `maxFieldBytes`.
    pub truncated: bool,
    pub llm: Option<Box<LlmCall>>,
    /// Start order within the process, to order parents before children.
    pub seq: u64,
}

/// What a trace carries besides its spans.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceInfo {
    pub trace_id: TraceId,
    pub name: Rc<str>,
    pub start_ms: f64,
    pub end_ms: f64,
    pub session: Option<Rc<Session>>,
    pub metadata: Option<Rc<str>>,
    /// Sum of `usage.total` over the trace's LLM spans, each counted once.
    pub total_tokens: u64,
}

/// The unit handed to encoders and exporters: a trace's spans, parents before children.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    pub trace: TraceInfo,
    /// The trace record itself is new (false for spans that ended after their root: the trace
    /// was already sent, and only `total_tokens` may have changed).
    pub trace_is_new: bool,
    /// The session record is new to this process.
    pub session_is_new: bool,
    pub spans: Vec<FinishedSpan>,
}
