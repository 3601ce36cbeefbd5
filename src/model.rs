//! The neutral record model: what a finished trace is, before any wire format. The encoders
//! (`crate::encode`) turn a [`Batch`] into bytes; `crate::llm` fills in [`LlmCall`] from a
//! provider's response.

use crate::error::{Error, Result};
use crate::ids::{SpanId, TraceId};
use crate::json::Obj;
use crate::json::Value;
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
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn from_value(v: &Value) -> std::result::Result<SessionSpec, String> {
        let text = |v: Option<&Value>, what: &str| -> std::result::Result<Option<String>, String> {
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

impl SessionSpec {
    /// Reads a `trace()` session option given as JSON text; the error is what `checkSession`
    /// throws.
    ///
    /// ```
    /// use agensight_wasm::model::SessionSpec;
    /// assert_eq!(SessionSpec::from_json(r#""user_456""#).unwrap().to_json(), r#"{"id":"user_456","name":null,"user_id":null}"#);
    /// assert_eq!(SessionSpec::from_json("{}").unwrap_err().code, "invalid_option");
    /// ```
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn from_json(json: &str) -> Result<SessionSpec> {
        let v = crate::json::parse(json)
            .ok_or_else(|| Error::new("invalid_option", "trace(): session is not valid JSON"))?;
        SessionSpec::from_value(&v)
            .map_err(|m| Error::new("invalid_option", format!("trace(): {m}")))
    }

    /// `{"id","name","user_id"}`, absent ones null (`checkSession`).
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(64);
        let mut o = Obj::new(&mut out);
        o.str("id", &self.id)
            .opt_str("name", self.name.as_deref())
            .opt_str("user_id", self.user_id.as_deref());
        o.finish();
        out
    }
}

/// A session as recorded: the spec plus when it was first seen.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    /// Shared by every trace of a wrapper that names it (parsed once, at its definition).
    pub spec: Rc<SessionSpec>,
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
    /// A tool span's link to the model's request that invoked it: the id of the matching
    /// [`ToolCall`] of an earlier LLM span (see `crate::tracer::tool_link`).
    pub tool_call_id: Option<Rc<str>>,
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

/// Token counts of one call.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Usage {
    /// Prompt tokens, cached ones included (`gen_ai.usage.input_tokens`).
    pub input: u64,
    /// Generated tokens, reasoning included (`gen_ai.usage.output_tokens`).
    pub output: u64,
    /// The provider's total, else `input + output`.
    pub total: u64,
    /// Prompt tokens read from the provider's prompt cache (a part of `input`).
    pub cache_read: Option<u64>,
    /// Prompt tokens written to the prompt cache (a part of `input`).
    pub cache_creation: Option<u64>,
    /// Reasoning / thinking tokens (a part of `output`).
    pub reasoning: Option<u64>,
}

/// One prompt message of the request.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// "system", "user", "assistant", "tool", ... (the Responses API's `instructions` and
    /// Anthropic's `system` become a "system" message).
    pub role: String,
    /// Text, or JSON text when the content is structured (parts, images, tool calls).
    pub content: String,
}

/// One answer: a choice of a chat completion, or the whole message / response.
#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub role: String,
    /// The answer's text (text parts joined; "" when it only calls tools).
    pub content: String,
    /// The provider's words: OpenAI chat `stop`, `length`, `tool_calls`...; Anthropic
    /// `end_turn`, `tool_use`, `max_tokens`...; for the Responses API, which has none, `stop`
    /// or `tool_calls` for a completed response, the `incomplete_details.reason` (such as
    /// `max_output_tokens`) for an incomplete one, `error` for a failed one.
    pub finish_reason: Option<String>,
}

/// A tool call the model asked for.
#[derive(Clone, Debug, PartialEq)]
pub struct ToolCall {
    /// The id the tool's result refers to (OpenAI chat `id`, Responses API `call_id`,
    /// Anthropic `tool_use` block `id`).
    pub id: Option<String>,
    pub name: String,
    /// JSON text of the arguments (as the model wrote them: possibly not valid JSON).
    pub arguments: String,
}

/// One LLM call as recorded: what the encoders (Agensight records, OTLP GenAI attributes)
/// read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LlmCall {
    /// The provider (`gen_ai.system`, `gen_ai.provider.name`): "openai" or "anthropic".
    pub system: String,
    /// `gen_ai.operation.name`: "chat" (chat completions, the Responses API, Anthropic
    /// messages), "text_completion" (legacy completions) or "embeddings".
    pub operation: String,
    /// The request's `model`.
    pub request_model: Option<String>,
    /// The response's `model` (the exact version that answered).
    pub response_model: Option<String>,
    /// The provider's id of the response (`chatcmpl-…`, `resp_…`, `msg_…`); none for
    /// embeddings, which have no id.
    pub response_id: Option<String>,
    pub usage: Usage,
    /// The prompt messages of the request, in order.
    pub prompts: Vec<Message>,
    /// One per choice (OpenAI `n`), else one; none for embeddings.
    pub completions: Vec<Completion>,
    /// Every tool call of every choice, in order.
    pub tool_calls: Vec<ToolCall>,
    /// The request's `temperature`.
    pub temperature: Option<f64>,
    /// The request's token limit: `max_tokens`, `max_completion_tokens` or `max_output_tokens`.
    pub max_tokens: Option<u64>,
}

impl LlmCall {
    /// Whether `other` records the same response: the same id, or, for responses without one
    /// (embeddings), the same provider, model, usage and answers. Used so that a function
    /// returning what its traced LLM call returned is not counted as a second call.
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn same_response(&self, other: &LlmCall) -> bool {
        match (&self.response_id, &other.response_id) {
            (Some(a), Some(b)) => a == b,
            (None, None) => {
                self.system == other.system
                    && self.operation == other.operation
                    && self.response_model == other.response_model
                    && self.usage == other.usage
                    && self.completions == other.completions
                    && self.tool_calls == other.tool_calls
            }
            _ => false,
        }
    }
}
