//! Recognises LLM calls in captured values: an OpenAI chat completion or an Anthropic message
//! as a span's output, and the prompt messages in its input (the arguments).
//!
//! Parsing works on `serde_json::Value` of the clamped captures; anything that is not an LLM
//! response shape yields `None` and the span stays an ordinary span.

use serde_json::Value;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Usage {
    pub input: u64,
    pub output: u64,
    pub total: u64,
    pub cache_read: Option<u64>,
    pub cache_creation: Option<u64>,
    pub reasoning: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    pub role: String,
    /// Text, or JSON text when the content is structured (parts, images).
    pub content: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Completion {
    pub role: String,
    pub content: String,
    pub finish_reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ToolCall {
    pub id: Option<String>,
    pub name: String,
    /// JSON text of the arguments.
    pub arguments: String,
}

/// One LLM call as recorded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LlmCall {
    /// "openai" or "anthropic" (the `gen_ai.system` / provider name).
    pub system: String,
    /// "chat" (the `gen_ai.operation.name`).
    pub operation: String,
    pub request_model: Option<String>,
    pub response_model: Option<String>,
    pub response_id: Option<String>,
    pub usage: Usage,
    pub prompts: Vec<Message>,
    pub completions: Vec<Completion>,
    pub tool_calls: Vec<ToolCall>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u64>,
}

/// Cheap pre-check on the output text before any parsing.
fn might_be_llm(output: &str) -> bool {
    output.starts_with('{') && output.contains("\"usage\"")
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
    let mut call = if out.get("choices").is_some_and(Value::is_array) {
        openai_chat(&out)?
    } else if out.get("type").and_then(Value::as_str) == Some("message")
        && out.get("content").is_some_and(Value::is_array)
    {
        anthropic_message(&out)?
    } else {
        return None;
    };
    call.response_model = str_of(&out, "model");
    call.response_id = str_of(&out, "id");
    if let Some(args) = input.and_then(|i| serde_json::from_str::<Value>(i).ok()) {
        read_request(&args, &mut call);
    }
    Some(call)
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

fn u64_of(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

/// Text of a message content: a string as it is, text parts joined, anything else as JSON.
fn content_text(c: Option<&Value>) -> String {
    match c {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts))
            if parts
                .iter()
                .all(|p| p.get("type").and_then(Value::as_str) == Some("text")) =>
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
        let msg = choice.get("message")?;
        call.completions.push(Completion {
            role: str_of(msg, "role").unwrap_or_else(|| "assistant".into()),
            content: content_text(msg.get("content")),
            finish_reason: str_of(choice, "finish_reason"),
        });
        for tc in msg
            .get("tool_calls")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let f = tc.get("function");
            call.tool_calls.push(ToolCall {
                id: str_of(tc, "id"),
                name: f.and_then(|f| str_of(f, "name")).unwrap_or_default(),
                arguments: f
                    .and_then(|f| f.get("arguments"))
                    .map(|a| {
                        a.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| a.to_string())
                    })
                    .unwrap_or_else(|| "{}".into()),
            });
        }
    }
    if let Some(u) = out.get("usage") {
        let input = u64_of(u, "prompt_tokens").unwrap_or(0);
        let output = u64_of(u, "completion_tokens").unwrap_or(0);
        call.usage = Usage {
            input,
            output,
            total: u64_of(u, "total_tokens").unwrap_or(input + output),
            cache_read: u
                .get("prompt_tokens_details")
                .and_then(|d| u64_of(d, "cached_tokens")),
            cache_creation: None,
            reasoning: u
                .get("completion_tokens_details")
                .and_then(|d| u64_of(d, "reasoning_tokens")),
        };
    }
    Some(call)
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
            Some("tool_use") => call.tool_calls.push(ToolCall {
                id: str_of(block, "id"),
                name: str_of(block, "name").unwrap_or_default(),
                arguments: block
                    .get("input")
                    .map(Value::to_string)
                    .unwrap_or_else(|| "{}".into()),
            }),
            _ => {}
        }
    }
    call.completions.push(Completion {
        role: str_of(out, "role").unwrap_or_else(|| "assistant".into()),
        content: text,
        finish_reason: str_of(out, "stop_reason"),
    });
    if let Some(u) = out.get("usage") {
        let input = u64_of(u, "input_tokens").unwrap_or(0);
        let output = u64_of(u, "output_tokens").unwrap_or(0);
        call.usage = Usage {
            input,
            output,
            total: input + output,
            cache_read: u64_of(u, "cache_read_input_tokens"),
            cache_creation: u64_of(u, "cache_creation_input_tokens"),
            reasoning: None,
        };
    }
    Some(call)
}

/// Reads model, parameters and prompt messages from the call's arguments: the first argument
/// is either the request (`{ model, messages, system? }`) or the messages array itself.
fn read_request(args: &Value, call: &mut LlmCall) {
    let Some(first) = args.as_array().and_then(|a| a.first()) else {
        return;
    };
    let messages = if let Some(m) = first.as_array() {
        m
    } else if let Some(m) = first.get("messages").and_then(Value::as_array) {
        call.request_model = str_of(first, "model");
        call.temperature = first.get("temperature").and_then(Value::as_f64);
        call.max_tokens =
            u64_of(first, "max_tokens").or_else(|| u64_of(first, "max_completion_tokens"));
        if let Some(system) = first.get("system") {
            call.prompts.push(Message {
                role: "system".into(),
                content: content_text(Some(system)),
            });
        }
        m
    } else {
        return;
    };
    for m in messages {
        if let Some(role) = str_of(m, "role") {
            call.prompts.push(Message {
                role,
                content: content_text(m.get("content")),
            });
        }
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
        assert_eq!(
            (c.system.as_str(), c.usage.total, c.usage.cache_read),
            ("anthropic", 20, Some(3))
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
    }
}

/// The chunks of a streamed LLM response (OpenAI chat chunks, Anthropic stream events),
/// aggregated as they arrive into one response.
#[derive(Debug, Default)]
pub struct Stream {
    chunks: Vec<Value>,
}

/// A stream at its end: the aggregated response as JSON text (the span's output) and what it
/// says about the call.
pub struct FinishedStream {
    pub output: String,
    call: Option<LlmCall>,
}

impl Stream {
    pub fn push(&mut self, chunk: &str) {
        if let Ok(v) = serde_json::from_str(chunk) {
            self.chunks.push(v);
        }
    }

    pub fn finish(self) -> FinishedStream {
        FinishedStream { output: Value::Array(self.chunks).to_string(), call: None }
    }
}

impl FinishedStream {
    /// The call, with the request read from the span's `input`.
    pub fn call(self, input: Option<&str>) -> Option<LlmCall> {
        let mut call = self.call?;
        if let Some(args) = input.and_then(|i| serde_json::from_str::<Value>(i).ok()) {
            read_request(&args, &mut call);
        }
        Some(call)
    }
}
