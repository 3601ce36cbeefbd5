//! Recognises LLM calls: a response returned by a span's function (an OpenAI chat completion,
//! an OpenAI Responses API result, an OpenAI embeddings list, an Anthropic message), or the
//! chunks of a streamed response fed one by one ([`Stream`]: OpenAI chat completion chunks,
//! OpenAI Responses API stream events, Anthropic message stream events), read together with
//! the request found in the span's input (the arguments).
//!
//! Parsing works on `serde_json::Value`; anything that is not an LLM response shape yields
//! `None` and the span stays an ordinary span. Shapes follow the providers' API references
//! (and the `openai` / `@anthropic-ai/sdk` type definitions); `tests/llm/main.rs` checks each
//! one on fixtures in `tests/fixtures/llm/`.
//!
//! Token conventions, the same for every provider: [`Usage::input`] counts all prompt tokens,
//! cached ones included (Anthropic reports cache reads and writes apart from `input_tokens`, so
//! they are added), and [`Usage::output`] all generated tokens, reasoning included.

use crate::json::push_string;
use crate::capture::limits::clamp_json;
use crate::capture::redact::Redactor;
use crate::model::{Completion, LlmCall, Message, ToolCall, Usage};
use serde_json::{json, Map, Value};

/// Applies the output capture settings to what the call says about its output: completion
/// texts and tool call arguments are cut to `max_bytes` (of JSON) with secrets masked, or
/// emptied when the output is not captured. A call read from a captured output got this
/// from the capture already; one aggregated from stream chunks gets it here.
pub fn limit_output(call: &mut LlmCall, max_bytes: usize, redactor: &Redactor, capture: bool) {
    let limit = |s: &mut String| {
        *s = if capture {
            limit_text(s, max_bytes, redactor)
        } else {
            String::new()
        };
    };
    for c in &mut call.completions {
        limit(&mut c.content);
    }
    for t in &mut call.tool_calls {
        limit(&mut t.arguments);
    }
}

/// `s` cut to fit `max` bytes as a JSON string, secrets masked (the capture rules).
fn limit_text(s: &str, max: usize, redactor: &Redactor) -> String {
    if s.is_empty() {
        return String::new();
    }
    let mut literal = String::with_capacity(s.len() + 2);
    push_string(&mut literal, s);
    let c = clamp_json(&literal, max, Some(redactor));
    serde_json::from_str(&c.json).unwrap_or_default()
}

/// Cheap pre-check on the output text before any parsing.
fn might_be_llm(output: &str) -> bool {
    // Runs on every span's output: a byte scan for `u` instead of a substring searcher, whose
    // set-up alone cost more than the scan for the short outputs most spans have.
    let b = output.as_bytes();
    if b.first() != Some(&b'{') {
        return false;
    }
    let mut i = 1;
    while let Some(off) = b[i..].iter().position(|&c| c == b'u') {
        let j = i + off;
        if b[j - 1] == b'"' && b[j..].starts_with(b"usage\"") {
            return true;
        }
        i = j + 1;
    }
    false
}

/// Recognises `output` (the span's return value) as an LLM response, reading the request from
/// `input` (the JSON array of arguments).
///
/// ```
/// use agensight_wasm::llm::parse_call;
/// let out = r#"{"object":"chat.completion","model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":"Hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}"#;
/// let call = parse_call(Some(r#"[{"model":"gpt-4o","messages":[{"role":"user","content":"Hello"}]}]"#), out).unwrap();
/// assert_eq!((call.usage.total, call.completions[0].content.as_str()), (6, "Hi"));
/// assert_eq!(call.prompts[0].content, "Hello");
/// ```
pub fn parse_call(input: Option<&str>, output: &str) -> Option<LlmCall> {
    if !might_be_llm(output) {
        return None;
    }
    let out: Value = serde_json::from_str(output).ok()?;
    let mut call = parse_response(&out)?;
    if let Some(args) = input.and_then(|i| serde_json::from_str::<Value>(i).ok()) {
        read_request(&args, &mut call);
    }
    Some(call)
}

/// A whole response as a call (without the request side), or `None` for any other value.
/// OpenAI usage: chat completions name its fields `prompt`/`completion`, the Responses API
/// `input`/`output` (`{in}_tokens`, `{in}_tokens_details.cached_tokens`, ...).
fn openai_usage(u: &Value, inp: &str, out: &str) -> Usage {
    let input = u64_of(u, &format!("{inp}_tokens")).unwrap_or(0);
    let output = u64_of(u, &format!("{out}_tokens")).unwrap_or(0);
    let details = u.get(format!("{inp}_tokens_details"));
    Usage {
        input,
        output,
        total: u64_of(u, "total_tokens").unwrap_or(input.saturating_add(output)),
        cache_read: details.and_then(|d| u64_of(d, "cached_tokens")),
        cache_creation: details.and_then(|d| u64_of(d, "cache_write_tokens")),
        reasoning: u
            .get(format!("{out}_tokens_details"))
            .and_then(|d| u64_of(d, "reasoning_tokens")),
    }
}

fn parse_response(out: &Value) -> Option<LlmCall> {
    let o = out.as_object()?;
    let object = o.get("object").and_then(Value::as_str);
    let is_array = |k: &str| o.get(k).is_some_and(Value::is_array);
    let mut call = if is_array("choices") && object != Some("chat.completion.chunk") {
        openai_chat(out)?
    } else if o.get("type").and_then(Value::as_str) == Some("message") && is_array("content") {
        anthropic_message(out)?
    } else if object == Some("response") && is_array("output") {
        openai_responses(out)
    } else if object == Some("list")
        && o.get("usage").is_some_and(Value::is_object)
        && o.get("data").and_then(Value::as_array).is_some_and(|d| {
            d.iter()
                .all(|e| e.get("object").and_then(Value::as_str) == Some("embedding"))
        })
    {
        openai_embeddings(out)
    } else {
        return None;
    };
    call.response_model = str_of(out, "model");
    if call.operation != "embeddings" {
        call.response_id = str_of(out, "id");
    }
    Some(call)
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn u64_of(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

/// A value as text: a string as it is, anything else as JSON.
fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Text of a message content: a string as it is, text parts joined, anything else as JSON.
fn content_text(c: Option<&Value>) -> String {
    const TEXT_PARTS: [&str; 3] = ["text", "input_text", "output_text"];
    match c {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts))
            if parts.iter().all(|p| {
                p.get("type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| TEXT_PARTS.contains(&t))
            }) =>
        {
            parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
                .collect::<Vec<_>>()
                .join("")
        }
        Some(other) => other.to_string(),
    }
}

fn openai_chat(out: &Value) -> Option<LlmCall> {
    let mut call = LlmCall {
        system: "openai".into(),
        operation: "chat".into(),
        ..Default::default()
    };
    for choice in out.get("choices")?.as_array()? {
        let finish_reason = str_of(choice, "finish_reason");
        let Some(msg) = choice.get("message") else {
            // Legacy completions: `{ text, finish_reason }`.
            let text = choice.get("text").and_then(Value::as_str)?;
            call.operation = "text_completion".into();
            call.completions.push(Completion {
                role: "assistant".into(),
                content: text.into(),
                finish_reason,
            });
            continue;
        };
        let mut content = content_text(msg.get("content"));
        if content.is_empty() {
            if let Some(r) = msg.get("refusal").and_then(Value::as_str) {
                content = r.into();
            }
        }
        call.completions.push(Completion {
            role: str_of(msg, "role").unwrap_or_else(|| "assistant".into()),
            content,
            finish_reason,
        });
        for tc in msg
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            // `type: "function"` carries `function: {name, arguments}`; `type: "custom"`
            // carries `custom: {name, input}`.
            let (f, args_key) = match tc.get("custom") {
                Some(c) => (Some(c), "input"),
                None => (tc.get("function"), "arguments"),
            };
            call.tool_calls.push(ToolCall {
                id: str_of(tc, "id"),
                name: f.and_then(|f| str_of(f, "name")).unwrap_or_default(),
                arguments: f
                    .and_then(|f| f.get(args_key))
                    .map(as_text)
                    .unwrap_or_else(|| "{}".into()),
            });
        }
        if let Some(f) = msg.get("function_call").filter(|f| f.is_object()) {
            call.tool_calls.push(ToolCall {
                id: None,
                name: str_of(f, "name").unwrap_or_default(),
                arguments: f
                    .get("arguments")
                    .map(as_text)
                    .unwrap_or_else(|| "{}".into()),
            });
        }
    }
    if let Some(u) = out.get("usage").filter(|u| u.is_object()) {
        call.usage = openai_usage(u, "prompt", "completion");
    }
    Some(call)
}

/// An OpenAI Responses API result: `output` items (`message` with `output_text` parts,
/// `function_call`, `custom_tool_call`, `mcp_call`, reasoning and built-in tool items).
fn openai_responses(out: &Value) -> LlmCall {
    let mut call = LlmCall {
        system: "openai".into(),
        operation: "chat".into(),
        ..Default::default()
    };
    let mut text = String::new();
    for item in out
        .get("output")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        match item.get("type").and_then(Value::as_str) {
            Some("message") => {
                for part in item
                    .get("content")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    match part.get("type").and_then(Value::as_str) {
                        Some("output_text") => {
                            text.push_str(part.get("text").and_then(Value::as_str).unwrap_or(""))
                        }
                        Some("refusal") => {
                            text.push_str(part.get("refusal").and_then(Value::as_str).unwrap_or(""))
                        }
                        _ => {}
                    }
                }
            }
            Some(kind @ ("function_call" | "custom_tool_call" | "mcp_call")) => {
                let args = if kind == "custom_tool_call" {
                    "input"
                } else {
                    "arguments"
                };
                call.tool_calls.push(ToolCall {
                    id: str_of(item, "call_id").or_else(|| str_of(item, "id")),
                    name: str_of(item, "name").unwrap_or_default(),
                    arguments: item.get(args).map(as_text).unwrap_or_else(|| "{}".into()),
                });
            }
            _ => {}
        }
    }
    let finish_reason = match out.get("status").and_then(Value::as_str) {
        Some("completed") if call.tool_calls.is_empty() => Some("stop".to_string()),
        Some("completed") => Some("tool_calls".into()),
        Some("incomplete") => Some(
            out.get("incomplete_details")
                .and_then(|d| str_of(d, "reason"))
                .unwrap_or_else(|| "incomplete".into()),
        ),
        Some("failed") => Some("error".into()),
        Some("cancelled") => Some("cancelled".into()),
        _ => None,
    };
    call.completions.push(Completion {
        role: "assistant".into(),
        content: text,
        finish_reason,
    });
    if let Some(u) = out.get("usage").filter(|u| u.is_object()) {
        call.usage = openai_usage(u, "input", "output");
    }
    call
}

/// An OpenAI embeddings result: `{object: "list", data: [{object: "embedding", ...}], model,
/// usage: {prompt_tokens, total_tokens}}`.
fn openai_embeddings(out: &Value) -> LlmCall {
    let u = out.get("usage");
    let input = u.and_then(|u| u64_of(u, "prompt_tokens")).unwrap_or(0);
    LlmCall {
        system: "openai".into(),
        operation: "embeddings".into(),
        usage: Usage {
            input,
            output: 0,
            total: u.and_then(|u| u64_of(u, "total_tokens")).unwrap_or(input),
            ..Default::default()
        },
        ..Default::default()
    }
}

fn anthropic_message(out: &Value) -> Option<LlmCall> {
    let mut call = LlmCall {
        system: "anthropic".into(),
        operation: "chat".into(),
        ..Default::default()
    };
    let mut text = String::new();
    for block in out.get("content")?.as_array()? {
        match block.get("type").and_then(Value::as_str) {
            Some("text") => text.push_str(block.get("text").and_then(Value::as_str).unwrap_or("")),
            Some("tool_use" | "server_tool_use" | "mcp_tool_use") => {
                call.tool_calls.push(ToolCall {
                    id: str_of(block, "id"),
                    name: str_of(block, "name").unwrap_or_default(),
                    arguments: block
                        .get("input")
                        .map(as_text)
                        .unwrap_or_else(|| "{}".into()),
                })
            }
            _ => {}
        }
    }
    call.completions.push(Completion {
        role: str_of(out, "role").unwrap_or_else(|| "assistant".into()),
        content: text,
        finish_reason: str_of(out, "stop_reason"),
    });
    if let Some(u) = out.get("usage").filter(|u| u.is_object()) {
        let cache_read = u64_of(u, "cache_read_input_tokens");
        let cache_creation = u64_of(u, "cache_creation_input_tokens");
        // Anthropic's `input_tokens` leaves out the cached prompt tokens.
        let input = u64_of(u, "input_tokens").unwrap_or(0)
            + cache_read.unwrap_or(0)
            + cache_creation.unwrap_or(0);
        let output = u64_of(u, "output_tokens").unwrap_or(0);
        call.usage = Usage {
            input,
            output,
            total: input.saturating_add(output),
            cache_read,
            cache_creation,
            reasoning: u
                .get("output_tokens_details")
                .and_then(|d| u64_of(d, "thinking_tokens")),
        };
    }
    Some(call)
}

/// Reads model, parameters and prompt messages from the call's arguments: the first argument
/// is the request (`{ model, messages, system? }` for chats, `{ model, input, instructions? }`
/// for the Responses API and embeddings), or the messages array itself.
fn read_request(args: &Value, call: &mut LlmCall) {
    let Some(first) = args.as_array().and_then(|a| a.first()) else {
        return;
    };
    if let Some(m) = first.as_array() {
        push_messages(m, call);
        return;
    }
    let Some(req) = first.as_object() else {
        return;
    };
    if let Some(m) = req.get("model").and_then(Value::as_str) {
        call.request_model = Some(m.into());
    }
    if let Some(t) = req.get("temperature").and_then(Value::as_f64) {
        call.temperature = Some(t);
    }
    if let Some(n) = ["max_tokens", "max_completion_tokens", "max_output_tokens"]
        .iter()
        .find_map(|k| req.get(*k).and_then(Value::as_u64))
    {
        call.max_tokens = Some(n);
    }
    for key in ["system", "instructions"] {
        if let Some(s) = req.get(key).filter(|s| !s.is_null()) {
            call.prompts.push(Message {
                role: "system".into(),
                content: content_text(Some(s)),
            });
        }
    }
    if let Some(m) = req.get("messages").and_then(Value::as_array) {
        push_messages(m, call);
    } else if let Some(input) = req.get("input") {
        if call.operation == "embeddings" {
            // One prompt per input text (token arrays as JSON).
            match input {
                Value::Array(items) if !items.iter().all(Value::is_number) => {
                    for i in items {
                        call.prompts.push(Message {
                            role: "user".into(),
                            content: as_text(i),
                        });
                    }
                }
                other => call.prompts.push(Message {
                    role: "user".into(),
                    content: as_text(other),
                }),
            }
        } else {
            push_response_input(input, call);
        }
    } else if let Some(p) = req.get("prompt") {
        call.prompts.push(Message {
            role: "user".into(),
            content: as_text(p),
        });
    }
}

/// Chat messages (OpenAI, Anthropic): an assistant message that only calls tools gets its
/// `tool_calls` as content.
fn push_messages(messages: &[Value], call: &mut LlmCall) {
    for m in messages {
        if let Some(role) = str_of(m, "role") {
            let mut content = content_text(m.get("content"));
            if content.is_empty() {
                if let Some(tc) = m.get("tool_calls").filter(|t| !t.is_null()) {
                    content = tc.to_string();
                }
            }
            call.prompts.push(Message { role, content });
        }
    }
}

/// The Responses API's `input`: a string (one user message) or a list of items: messages
/// (`{role, content}`), tool results (`function_call_output`: role "tool"), earlier tool calls
/// and other items (as JSON, under the item's type as role, "assistant" for tool calls).
fn push_response_input(input: &Value, call: &mut LlmCall) {
    let Value::Array(items) = input else {
        call.prompts.push(Message {
            role: "user".into(),
            content: as_text(input),
        });
        return;
    };
    for item in items {
        if let Some(role) = str_of(item, "role") {
            call.prompts.push(Message {
                role,
                content: content_text(item.get("content")),
            });
            continue;
        }
        let kind = item.get("type").and_then(Value::as_str).unwrap_or("input");
        let (role, content) = match kind {
            "function_call_output" | "custom_tool_call_output" => {
                ("tool", item.get("output").map(as_text).unwrap_or_default())
            }
            "function_call" | "custom_tool_call" => ("assistant", item.to_string()),
            other => (other, item.to_string()),
        };
        call.prompts.push(Message {
            role: role.into(),
            content,
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Streams
// ---------------------------------------------------------------------------------------------

/// Longest text kept per aggregated field of a stream (a choice's content, a tool call's
/// arguments, a thinking block); the rest is dropped and the text ends in `…`. Captures are
/// cut much shorter anyway (`maxFieldBytes`); this only bounds memory.
pub const MAX_STREAM_TEXT: usize = 1 << 20;
/// Most choices, content blocks, output items and tool calls (per choice) kept per stream.
pub const MAX_STREAM_ITEMS: usize = 256;

/// Text aggregated from deltas, bounded by [`MAX_STREAM_TEXT`].
#[derive(Debug, Default)]
struct Text {
    s: String,
    cut: bool,
}

impl Text {
    fn push(&mut self, add: &str) {
        if self.cut {
            return;
        }
        if self.s.len() + add.len() <= MAX_STREAM_TEXT {
            self.s.push_str(add);
            return;
        }
        let mut end = MAX_STREAM_TEXT - self.s.len();
        while !add.is_char_boundary(end) {
            end -= 1;
        }
        self.s.push_str(&add[..end]);
        self.s.push('\u{2026}');
        self.cut = true;
    }
}

/// A call declared by a client wrapper before any response: `{"$llm": {"system", "operation",
/// "model"?, "temperature"?, "max_tokens"?}}` as the first chunk. It makes the span an LLM call
/// even when no response comes (an API error, a raw response read with `asResponse()`), and
/// names the provider and operation for certain.
#[derive(Debug, Default)]
struct Declared {
    system: String,
    operation: String,
    model: Option<String>,
    temperature: Option<f64>,
    max_tokens: Option<u64>,
}

/// What a [`Stream`] has aggregated so far.
#[derive(Debug, Default)]
enum Agg {
    #[default]
    Empty,
    /// A whole response fed as one chunk (a non-streamed call through a client wrapper).
    Whole {
        text: String,
        call: Box<LlmCall>,
    },
    Chat(Box<ChatAgg>),
    Responses(Box<ResponsesAgg>),
    Messages(Box<MessagesAgg>),
}

/// The chunks of a streamed LLM response, aggregated as they arrive into one response of the
/// non-streamed shape: OpenAI `chat.completion.chunk`s into a `chat.completion`, OpenAI
/// Responses API events (`response.*`) into a `response`, Anthropic message stream events into
/// a `message`. Chunks are not kept: memory stays bounded by the aggregate (texts up to
/// [`MAX_STREAM_TEXT`], up to [`MAX_STREAM_ITEMS`] items), however many chunks come. A chunk
/// that is a whole response is taken as the response; one that is not JSON or of another
/// provider than the first is ignored.
///
/// ```
/// use agensight_wasm::llm::Stream;
/// let mut s = Stream::default();
/// s.push(r#"{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}"#);
/// s.push(r#"{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}"#);
/// let done = s.finish();
/// assert!(done.output.contains(r#""content":"Hello""#));
/// let call = done.call(Some(r#"[{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}]"#)).unwrap();
/// assert_eq!((call.completions[0].content.as_str(), call.prompts.len()), ("Hello", 1));
/// ```
#[derive(Debug, Default)]
pub struct Stream {
    declared: Option<Declared>,
    agg: Agg,
}

/// A stream at its end: the aggregated response as JSON text (the span's output when the
/// wrapper ends the span without one; "" when nothing was aggregated) and what it says about
/// the call.
pub struct FinishedStream {
    pub output: String,
    call: Option<LlmCall>,
    declared: Option<Declared>,
}

impl Stream {
    /// Feeds one chunk (JSON text).
    pub fn push(&mut self, chunk: &str) {
        let Ok(v) = serde_json::from_str::<Value>(chunk) else {
            return;
        };
        let Some(o) = v.as_object() else {
            return;
        };
        if let Some(d) = o.get("$llm") {
            self.declared = Some(Declared {
                system: str_of(d, "system").unwrap_or_default(),
                operation: str_of(d, "operation").unwrap_or_default(),
                model: str_of(d, "model"),
                temperature: d.get("temperature").and_then(Value::as_f64),
                max_tokens: u64_of(d, "max_tokens"),
            });
            return;
        }
        let ty = o.get("type").and_then(Value::as_str).unwrap_or("");
        if o.get("object").and_then(Value::as_str) == Some("chat.completion.chunk") {
            if let Agg::Empty = self.agg {
                self.agg = Agg::Chat(Default::default());
            }
            if let Agg::Chat(a) = &mut self.agg {
                a.push(o);
            }
        } else if ty.starts_with("response.") {
            if let Agg::Empty = self.agg {
                self.agg = Agg::Responses(Default::default());
            }
            if let Agg::Responses(a) = &mut self.agg {
                a.push(ty, o);
            }
        } else if matches!(
            ty,
            "message_start"
                | "content_block_start"
                | "content_block_delta"
                | "content_block_stop"
                | "message_delta"
                | "message_stop"
        ) {
            if let Agg::Empty = self.agg {
                self.agg = Agg::Messages(Default::default());
            }
            if let Agg::Messages(a) = &mut self.agg {
                a.push(ty, o);
            }
        } else if let Some(call) = parse_response(&v) {
            self.agg = Agg::Whole {
                text: chunk.to_string(),
                call: Box::new(call),
            };
        }
    }

    /// Bytes of text the aggregate holds (for the memory-bound tests).
    pub fn retained_text(&self) -> usize {
        match &self.agg {
            Agg::Empty => 0,
            Agg::Whole { text, .. } => text.len(),
            Agg::Chat(a) => a
                .choices
                .iter()
                .map(|c| {
                    c.content.s.len()
                        + c.refusal.s.len()
                        + c.tool_calls
                            .iter()
                            .map(|(_, t)| t.arguments.s.len() + t.name.len())
                            .sum::<usize>()
                })
                .sum(),
            Agg::Responses(a) => a
                .items
                .iter()
                .map(|(_, i)| i.text.s.len() + i.refusal.s.len() + i.arguments.s.len())
                .sum(),
            Agg::Messages(a) => a
                .blocks
                .iter()
                .map(|b| b.text.s.len() + b.json.s.len())
                .sum(),
        }
    }

    /// Ends the stream: the aggregated response and the call it describes.
    pub fn finish(self) -> FinishedStream {
        let response = match self.agg {
            Agg::Empty => None,
            Agg::Whole { text, call } => {
                return FinishedStream {
                    output: text,
                    call: Some(*call),
                    declared: self.declared,
                }
            }
            Agg::Chat(a) => Some(a.into_value()),
            Agg::Responses(a) => Some(a.into_value()),
            Agg::Messages(a) => Some(a.into_value()),
        };
        match response {
            Some(v) => FinishedStream {
                output: ordered_json(&v),
                call: parse_response(&v),
                declared: self.declared,
            },
            None => FinishedStream {
                output: String::new(),
                call: None,
                declared: self.declared,
            },
        }
    }
}

impl FinishedStream {
    /// The call, with the request read from the span's `input` (the captured arguments), or
    /// `None` when the chunks said nothing about an LLM call.
    pub fn call(self, input: Option<&str>) -> Option<LlmCall> {
        let mut call = match (self.call, &self.declared) {
            (Some(c), _) => c,
            (None, Some(_)) => LlmCall::default(),
            (None, None) => return None,
        };
        if let Some(d) = &self.declared {
            if !d.system.is_empty() {
                call.system = d.system.clone();
            }
            if !d.operation.is_empty() {
                call.operation = d.operation.clone();
            }
            call.request_model = d.model.clone();
            call.temperature = d.temperature;
            call.max_tokens = d.max_tokens;
        }
        if let Some(args) = input.and_then(|i| serde_json::from_str::<Value>(i).ok()) {
            read_request(&args, &mut call);
        }
        Some(call)
    }
}

/// Top-level members written first, in this order, so that a clamped output keeps them.
const FIRST_KEYS: [&str; 10] = [
    "id",
    "object",
    "type",
    "role",
    "created",
    "created_at",
    "model",
    "status",
    "stop_reason",
    "usage",
];

/// JSON text of an aggregated response with its identifying members and usage first.
fn ordered_json(v: &Value) -> String {
    let Some(o) = v.as_object() else {
        return v.to_string();
    };
    let mut out = String::with_capacity(256);
    out.push('{');
    let keys = FIRST_KEYS
        .iter()
        .filter(|k| o.contains_key(**k))
        .copied()
        .chain(
            o.keys()
                .map(String::as_str)
                .filter(|k| !FIRST_KEYS.contains(k)),
        );
    for (i, k) in keys.enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_string(&mut out, k);
        out.push(':');
        out.push_str(&o[k].to_string());
    }
    out.push('}');
    out
}

/// The entry of `items` for `index`, added when new (up to [`MAX_STREAM_ITEMS`]).
fn entry<T: Default>(items: &mut Vec<(u64, T)>, index: u64) -> Option<&mut T> {
    match items.iter().position(|(i, _)| *i == index) {
        Some(p) => Some(&mut items[p].1),
        None if items.len() < MAX_STREAM_ITEMS => {
            items.push((index, T::default()));
            items.last_mut().map(|(_, t)| t)
        }
        None => None,
    }
}

fn set_str(slot: &mut Option<String>, o: &Map<String, Value>, key: &str) {
    if let Some(s) = o.get(key).and_then(Value::as_str) {
        if slot.as_deref() != Some(s) {
            *slot = Some(s.into());
        }
    }
}

/// OpenAI chat completion chunks: deltas per choice `index`; tool call deltas per tool call
/// `index` (the first carries `id`, `type` and `function.name`, the rest argument fragments);
/// `finish_reason` on a choice's last chunk; with `stream_options.include_usage`, `usage` on a
/// last chunk whose `choices` is empty.
#[derive(Debug, Default)]
struct ChatAgg {
    id: Option<String>,
    model: Option<String>,
    created: Option<Value>,
    system_fingerprint: Option<String>,
    service_tier: Option<String>,
    choices: Vec<ChoiceAgg>,
    usage: Option<Value>,
}

#[derive(Debug, Default)]
struct ChoiceAgg {
    index: u64,
    role: Option<String>,
    content: Text,
    has_content: bool,
    refusal: Text,
    tool_calls: Vec<(u64, ToolAgg)>,
    finish_reason: Option<String>,
}

#[derive(Debug, Default)]
struct ToolAgg {
    id: Option<String>,
    kind: Option<String>,
    name: String,
    arguments: Text,
}

impl ChatAgg {
    fn push(&mut self, o: &Map<String, Value>) {
        set_str(&mut self.id, o, "id");
        set_str(&mut self.model, o, "model");
        set_str(&mut self.system_fingerprint, o, "system_fingerprint");
        set_str(&mut self.service_tier, o, "service_tier");
        if self.created.is_none() {
            self.created = o.get("created").filter(|c| c.is_number()).cloned();
        }
        if let Some(u) = o.get("usage").filter(|u| u.is_object()) {
            self.usage = Some(u.clone());
        }
        for ch in o
            .get("choices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let index = u64_of(ch, "index").unwrap_or(0);
            let c = match self.choices.iter().position(|c| c.index == index) {
                Some(p) => &mut self.choices[p],
                None if self.choices.len() < MAX_STREAM_ITEMS => {
                    self.choices.push(ChoiceAgg {
                        index,
                        ..Default::default()
                    });
                    self.choices.last_mut().expect("just pushed")
                }
                None => continue,
            };
            if let Some(d) = ch.get("delta") {
                if let Some(r) = d.get("role").and_then(Value::as_str) {
                    c.role = Some(r.into());
                }
                if let Some(t) = d.get("content").and_then(Value::as_str) {
                    c.content.push(t);
                    c.has_content = true;
                }
                if let Some(t) = d.get("refusal").and_then(Value::as_str) {
                    c.refusal.push(t);
                }
                for tc in d
                    .get("tool_calls")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    // Servers that leave out `index` send one tool call per delta run: a new
                    // `id` starts the next one.
                    let ti = match u64_of(tc, "index") {
                        Some(i) => i,
                        None => match (tc.get("id").and_then(Value::as_str), c.tool_calls.last()) {
                            (Some(id), Some((i, last))) if last.id.as_deref() == Some(id) => *i,
                            (Some(_), _) => c.tool_calls.len() as u64,
                            (None, Some((i, _))) => *i,
                            (None, None) => 0,
                        },
                    };
                    let Some(t) = entry(&mut c.tool_calls, ti) else {
                        continue;
                    };
                    if let Some(id) = tc.get("id").and_then(Value::as_str) {
                        t.id = Some(id.into());
                    }
                    if let Some(k) = tc.get("type").and_then(Value::as_str) {
                        t.kind = Some(k.into());
                    }
                    if let Some(f) = tc.get("function") {
                        if let Some(n) = f.get("name").and_then(Value::as_str) {
                            n.clone_into(&mut t.name);
                        }
                        if let Some(a) = f.get("arguments").and_then(Value::as_str) {
                            t.arguments.push(a);
                        }
                    }
                }
            }
            if let Some(fr) = ch.get("finish_reason").and_then(Value::as_str) {
                c.finish_reason = Some(fr.into());
            }
        }
    }

    fn into_value(self) -> Value {
        let mut choices = self.choices;
        choices.sort_by_key(|c| c.index);
        let choices: Vec<Value> = choices
            .into_iter()
            .map(|c| {
                let mut msg = Map::new();
                msg.insert(
                    "role".into(),
                    json!(c.role.unwrap_or_else(|| "assistant".into())),
                );
                msg.insert(
                    "content".into(),
                    if c.has_content {
                        json!(c.content.s)
                    } else {
                        Value::Null
                    },
                );
                if !c.refusal.s.is_empty() {
                    msg.insert("refusal".into(), json!(c.refusal.s));
                }
                if !c.tool_calls.is_empty() {
                    let mut calls = c.tool_calls;
                    calls.sort_by_key(|(i, _)| *i);
                    let calls: Vec<Value> = calls
                        .into_iter()
                        .map(|(_, t)| {
                            json!({
                                "id": t.id,
                                "type": t.kind.unwrap_or_else(|| "function".into()),
                                "function": { "name": t.name, "arguments": t.arguments.s },
                            })
                        })
                        .collect();
                    msg.insert("tool_calls".into(), Value::Array(calls));
                }
                json!({ "index": c.index, "message": msg, "finish_reason": c.finish_reason })
            })
            .collect();
        let mut out = Map::new();
        out.insert("id".into(), json!(self.id));
        out.insert("object".into(), json!("chat.completion"));
        if let Some(c) = self.created {
            out.insert("created".into(), c);
        }
        out.insert("model".into(), json!(self.model));
        if let Some(f) = self.system_fingerprint {
            out.insert("system_fingerprint".into(), json!(f));
        }
        if let Some(t) = self.service_tier {
            out.insert("service_tier".into(), json!(t));
        }
        out.insert("choices".into(), Value::Array(choices));
        if let Some(u) = self.usage {
            out.insert("usage".into(), u);
        }
        Value::Object(out)
    }
}

/// OpenAI Responses API stream events. `response.created` / `response.in_progress` carry the
/// response so far (id, model, request echo); items grow through `response.output_item.added`,
/// `response.output_text.delta`, `response.function_call_arguments.delta`, ... and arrive whole
/// in `response.output_item.done`; `response.completed` / `response.incomplete` /
/// `response.failed` carry the final response with usage, which then replaces the aggregate.
#[derive(Debug, Default)]
struct ResponsesAgg {
    base: Option<Value>,
    items: Vec<(u64, ItemAgg)>,
    done: Option<Value>,
}

#[derive(Debug, Default)]
struct ItemAgg {
    item: Option<Value>,
    /// The item arrived whole (`response.output_item.done`): deltas are no longer needed.
    whole: bool,
    text: Text,
    refusal: Text,
    arguments: Text,
}

impl ResponsesAgg {
    fn push(&mut self, ty: &str, o: &Map<String, Value>) {
        if self.done.is_some() {
            return;
        }
        match ty {
            "response.created" | "response.in_progress" | "response.queued" => {
                if let Some(mut r) = o.get("response").filter(|r| r.is_object()).cloned() {
                    if let Some(m) = r.as_object_mut() {
                        m.remove("output");
                    }
                    self.base = Some(r);
                }
            }
            "response.completed" | "response.incomplete" | "response.failed" => {
                if let Some(r) = o.get("response").filter(|r| r.is_object()) {
                    self.done = Some(r.clone());
                    self.items = Vec::new();
                    self.base = None;
                }
            }
            _ => {
                let Some(index) = o.get("output_index").and_then(Value::as_u64) else {
                    return;
                };
                let Some(it) = entry(&mut self.items, index) else {
                    return;
                };
                let delta = o.get("delta").and_then(Value::as_str);
                match ty {
                    "response.output_item.added" if !it.whole => it.item = o.get("item").cloned(),
                    "response.output_item.done" => {
                        it.item = o.get("item").cloned();
                        it.whole = true;
                        it.text = Text::default();
                        it.refusal = Text::default();
                        it.arguments = Text::default();
                    }
                    _ if it.whole => {}
                    "response.output_text.delta" => it.text.push(delta.unwrap_or("")),
                    "response.refusal.delta" => it.refusal.push(delta.unwrap_or("")),
                    "response.function_call_arguments.delta"
                    | "response.custom_tool_call_input.delta"
                    | "response.mcp_call_arguments.delta" => it.arguments.push(delta.unwrap_or("")),
                    _ => {}
                }
            }
        }
    }

    fn into_value(self) -> Value {
        if let Some(d) = self.done {
            return d;
        }
        let mut r = match self.base {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        r.entry("object").or_insert_with(|| json!("response"));
        let mut items = self.items;
        items.sort_by_key(|(i, _)| *i);
        let output: Vec<Value> = items
            .into_iter()
            .filter_map(|(_, it)| {
                let mut item = it.item?;
                if !it.whole {
                    if let Some(m) = item.as_object_mut() {
                        match m.get("type").and_then(Value::as_str) {
                            Some("message") => {
                                let mut parts = vec![json!({"type": "output_text", "text": it.text.s, "annotations": []})];
                                if !it.refusal.s.is_empty() {
                                    parts.push(json!({"type": "refusal", "refusal": it.refusal.s}));
                                }
                                m.insert("content".into(), Value::Array(parts));
                            }
                            Some("custom_tool_call") => {
                                m.insert("input".into(), json!(it.arguments.s));
                            }
                            Some("function_call" | "mcp_call") => {
                                m.insert("arguments".into(), json!(it.arguments.s));
                            }
                            _ => {}
                        }
                    }
                }
                Some(item)
            })
            .collect();
        r.insert("output".into(), Value::Array(output));
        Value::Object(r)
    }
}

/// Anthropic message stream events: `message_start` (the message with empty content and the
/// prompt's usage), per block `content_block_start` / `content_block_delta` (`text_delta`,
/// `input_json_delta` with `partial_json` fragments of a `tool_use` input, `thinking_delta`,
/// `signature_delta`) / `content_block_stop`, then `message_delta` (`stop_reason`, cumulative
/// `usage`) and `message_stop`.
#[derive(Debug, Default)]
struct MessagesAgg {
    message: Option<Map<String, Value>>,
    usage: Map<String, Value>,
    blocks: Vec<BlockAgg>,
    stop_reason: Option<Value>,
    stop_sequence: Option<Value>,
}

#[derive(Debug, Default)]
struct BlockAgg {
    index: u64,
    start: Value,
    text: Text,
    json: Text,
    signature: Option<String>,
}

impl MessagesAgg {
    fn push(&mut self, ty: &str, o: &Map<String, Value>) {
        match ty {
            "message_start" => {
                if let Some(Value::Object(mut m)) = o.get("message").cloned() {
                    if let Some(Value::Object(u)) = m.remove("usage") {
                        self.usage = u;
                    }
                    m.remove("content");
                    self.message = Some(m);
                }
            }
            "content_block_start" => {
                let index = o.get("index").and_then(Value::as_u64).unwrap_or(0);
                if self.blocks.iter().any(|b| b.index == index)
                    || self.blocks.len() >= MAX_STREAM_ITEMS
                {
                    return;
                }
                let start = o.get("content_block").cloned().unwrap_or(Value::Null);
                let mut b = BlockAgg {
                    index,
                    ..Default::default()
                };
                for k in ["text", "thinking"] {
                    if let Some(t) = start.get(k).and_then(Value::as_str) {
                        b.text.push(t);
                    }
                }
                b.signature = str_of(&start, "signature");
                b.start = start;
                self.blocks.push(b);
            }
            "content_block_delta" => {
                let index = o.get("index").and_then(Value::as_u64).unwrap_or(0);
                let Some(b) = self.blocks.iter_mut().find(|b| b.index == index) else {
                    return;
                };
                let Some(d) = o.get("delta") else {
                    return;
                };
                let s = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("");
                match d.get("type").and_then(Value::as_str) {
                    Some("text_delta") => b.text.push(s("text")),
                    Some("thinking_delta") => b.text.push(s("thinking")),
                    Some("input_json_delta") => b.json.push(s("partial_json")),
                    Some("signature_delta") => b.signature = Some(s("signature").into()),
                    _ => {}
                }
            }
            "message_delta" => {
                if let Some(d) = o.get("delta") {
                    if let Some(r) = d.get("stop_reason").filter(|r| !r.is_null()) {
                        self.stop_reason = Some(r.clone());
                    }
                    if let Some(r) = d.get("stop_sequence").filter(|r| !r.is_null()) {
                        self.stop_sequence = Some(r.clone());
                    }
                }
                // Cumulative counts: each given one replaces the earlier.
                if let Some(Value::Object(u)) = o.get("usage") {
                    for (k, v) in u {
                        if !v.is_null() {
                            self.usage.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
            _ => {}
        }
    }

    fn into_value(self) -> Value {
        let mut m = self.message.unwrap_or_default();
        m.entry("type").or_insert_with(|| json!("message"));
        m.entry("role").or_insert_with(|| json!("assistant"));
        let mut blocks = self.blocks;
        blocks.sort_by_key(|b| b.index);
        let content: Vec<Value> = blocks
            .into_iter()
            .map(|b| {
                let mut block = match b.start {
                    Value::Object(o) => o,
                    _ => Map::new(),
                };
                match block.get("type").and_then(Value::as_str) {
                    Some("text") => {
                        block.insert("text".into(), json!(b.text.s));
                    }
                    Some("thinking") => {
                        block.insert("thinking".into(), json!(b.text.s));
                        if let Some(sig) = b.signature {
                            block.insert("signature".into(), json!(sig));
                        }
                    }
                    Some("tool_use" | "server_tool_use" | "mcp_tool_use")
                        if !b.json.s.is_empty() =>
                    {
                        // The input's JSON arrives in fragments; a stream cut short leaves text
                        // that does not parse, kept as it is.
                        let input =
                            serde_json::from_str(&b.json.s).unwrap_or(Value::String(b.json.s));
                        block.insert("input".into(), input);
                    }
                    _ => {}
                }
                Value::Object(block)
            })
            .collect();
        m.insert("content".into(), Value::Array(content));
        if let Some(r) = self.stop_reason {
            m.insert("stop_reason".into(), r);
        }
        if let Some(s) = self.stop_sequence {
            m.insert("stop_sequence".into(), s);
        }
        m.insert("usage".into(), Value::Object(self.usage));
        Value::Object(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPENAI_TOOL: &str = r#"{"id":"chatcmpl-1","object":"chat.completion","created":1,"model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":20,"completion_tokens":10,"total_tokens":30,"prompt_tokens_details":{"cached_tokens":4},"completion_tokens_details":{"reasoning_tokens":2}}}"#;

    #[test]
    fn openai_chat_with_tool_call() {
        let c = parse_call(Some(r#"[[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"weather?"}]}]]"#), OPENAI_TOOL).unwrap();
        assert_eq!(c.system, "openai");
        assert_eq!(c.response_model.as_deref(), Some("gpt-4o-2024-08-06"));
        assert_eq!(
            c.usage,
            Usage {
                input: 20,
                output: 10,
                total: 30,
                cache_read: Some(4),
                cache_creation: None,
                reasoning: Some(2)
            }
        );
        assert_eq!(
            c.prompts,
            vec![
                Message {
                    role: "system".into(),
                    content: "be brief".into()
                },
                Message {
                    role: "user".into(),
                    content: "weather?".into()
                }
            ]
        );
        assert_eq!(
            c.completions,
            vec![Completion {
                role: "assistant".into(),
                content: "".into(),
                finish_reason: Some("tool_calls".into())
            }]
        );
        assert_eq!(
            c.tool_calls,
            vec![ToolCall {
                id: Some("call_1".into()),
                name: "get_weather".into(),
                arguments: r#"{"city":"Paris"}"#.into()
            }]
        );
    }

    #[test]
    fn anthropic_message() {
        let out = r#"{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[{"type":"text","text":"Let me check."},{"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"Paris"}}],"stop_reason":"tool_use","usage":{"input_tokens":12,"output_tokens":8,"cache_read_input_tokens":3}}"#;
        let c = parse_call(Some(r#"[{"model":"claude-sonnet-4-5","max_tokens":100,"system":"be brief","messages":[{"role":"user","content":"weather?"}]}]"#), out).unwrap();
        // Cached prompt tokens count as input tokens, as OpenAI counts them.
        assert_eq!(
            (
                c.system.as_str(),
                c.usage.input,
                c.usage.total,
                c.usage.cache_read
            ),
            ("anthropic", 15, 23, Some(3))
        );
        assert_eq!(
            (c.request_model.as_deref(), c.max_tokens),
            (Some("claude-sonnet-4-5"), Some(100))
        );
        assert_eq!(c.prompts.len(), 2);
        assert_eq!(c.completions[0].content, "Let me check.");
        assert_eq!(c.tool_calls[0].arguments, r#"{"city":"Paris"}"#);
    }

    #[test]
    fn ordinary_values_are_not_llm_calls() {
        assert_eq!(parse_call(None, r#"{"usage":5}"#), None);
        assert_eq!(parse_call(None, r#"[1,2]"#), None);
        assert_eq!(parse_call(None, r#""usage""#), None);
        assert_eq!(parse_call(None, r#"{"choices":"x","usage":{}}"#), None);
        assert_eq!(
            parse_call(None, r#"{"object":"list","data":[{"id":1}],"usage":{}}"#),
            None
        );
        assert_eq!(
            parse_call(None, r#"{"object":"response","usage":{}}"#),
            None
        );
    }

    #[test]
    fn text_is_bounded() {
        let mut t = Text::default();
        let piece = "é".repeat(1000);
        for _ in 0..1000 {
            t.push(&piece);
        }
        assert!(t.cut);
        assert!(t.s.len() <= MAX_STREAM_TEXT + 3);
        assert!(t.s.ends_with('\u{2026}'));
    }

    #[test]
    fn limit_output_masks_cuts_and_empties() {
        let mut c = LlmCall {
            completions: vec![Completion {
                role: "assistant".into(),
                content: format!("key sk-abcdefghijklmnopqrstuvwxyz and {}", "x".repeat(100)),
                finish_reason: None,
            }],
            tool_calls: vec![ToolCall {
                id: None,
                name: "f".into(),
                arguments: r#"{"q":"\"quoted\""}"#.into(),
            }],
            ..Default::default()
        };
        let mut kept = c.clone();
        limit_output(&mut kept, 1000, &Redactor::default(), true);
        assert!(kept.completions[0]
            .content
            .starts_with("key [REDACTED] and xxx"));
        assert_eq!(kept.tool_calls[0].arguments, r#"{"q":"\"quoted\""}"#);
        let mut cut = c.clone();
        limit_output(&mut cut, 40, &Redactor::default(), true);
        assert!(cut.completions[0].content.ends_with('\u{2026}'));
        assert!(cut.completions[0].content.len() < 45);
        limit_output(&mut c, 1000, &Redactor::default(), false);
        assert_eq!(
            (
                c.completions[0].content.as_str(),
                c.tool_calls[0].arguments.as_str()
            ),
            ("", "")
        );
        assert_eq!(c.tool_calls[0].name, "f");
    }
}
