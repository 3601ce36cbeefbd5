//! Recognises LLM calls: a response returned by a span's function (an OpenAI chat completion,
//! an OpenAI Responses API result, an OpenAI embeddings list, an Anthropic message), or the
//! chunks of a streamed response fed one by one ([`Stream`]: OpenAI chat completion chunks,
//! OpenAI Responses API stream events, Anthropic message stream events), read together with
//! the request found in the span's input (the arguments).
//!
//! Parsing works on `crate::json::Value`; anything that is not an LLM response shape yields
//! `None` and the span stays an ordinary span. Shapes follow the providers' API references
//! (and the `openai` / `@anthropic-ai/sdk` type definitions); `tests/llm/main.rs` checks each
//! one on fixtures in `tests/fixtures/llm/`.
//!
//! Token conventions, the same for every provider: [`crate::model::Usage::input`] counts all prompt tokens,
//! cached ones included (Anthropic reports cache reads and writes apart from `input_tokens`, so
//! they are added), and [`crate::model::Usage::output`] all generated tokens, reasoning included.

mod anthropic;
mod gemini;
mod openai;
mod request;
mod stream;
mod usage;
mod util;

pub use stream::{Declaration, FinishedStream, Stream, MAX_STREAM_ITEMS, MAX_STREAM_TEXT};

use crate::capture::limits::clamp_json;
use crate::capture::redact::Redactor;
use crate::json::push_string;
use crate::json::Value;
use crate::model::LlmCall;
use util::str_of;

/// Applies the output capture settings to what the call says about its output: completion
/// texts and tool call arguments are cut to `max_bytes` (of JSON) with secrets masked, or
/// emptied when the output is not captured. A call read from a captured output got this
/// from the capture already; one aggregated from stream chunks gets it here.
#[cfg_attr(agensight_size, optimize(size))]
#[inline(never)]
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
#[cfg_attr(agensight_size, optimize(size))]
fn limit_text(s: &str, max: usize, redactor: &Redactor) -> String {
    if s.is_empty() {
        return String::new();
    }
    let mut literal = String::with_capacity(s.len() + 2);
    push_string(&mut literal, s);
    let c = clamp_json(&literal, max, Some(redactor));
    crate::json::parse_string(&c.json).unwrap_or_default()
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
        if b[j - 1] == b'"'
            && (b[j..].starts_with(b"usage\"") || b[j..].starts_with(b"usageMetadata\""))
        {
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
    parse_result(input, output).map(|(call, _)| call)
}

/// [`parse_call`], and also a result that only reports usage (see [`usage`]): then the
/// second member is `true`, and the request is not read (the arguments of an arbitrary
/// function are no LLM request).
#[inline]
pub fn parse_result(input: Option<&str>, output: &str) -> Option<(LlmCall, bool)> {
    if !might_be_llm(output) {
        return None;
    }
    parse_llm_result(input, output)
}

/// [`parse_result`] past the byte scan. Not inlined into the span's end (Core::end): a
/// runtime compiles each wasm function at its first call, and a worker's first traced call
/// would compile the LLM parsers inside it too (HACKING.md, "Cold start").
#[inline(never)]
fn parse_llm_result(input: Option<&str>, output: &str) -> Option<(LlmCall, bool)> {
    let out = crate::json::parse(output)?;
    let Some(mut call) = parse_response(&out) else {
        return usage::report(&out).map(|call| (call, true));
    };
    if let Some(args) = input.and_then(crate::json::parse) {
        request::read(&args, &mut call);
    }
    Some((call, false))
}

/// A whole response as a call (without the request side), or `None` for any other value.
#[cfg_attr(agensight_size, optimize(size))]
fn parse_response(out: &Value) -> Option<LlmCall> {
    let o = out.as_object()?;
    let object = o.get("object").and_then(Value::as_str);
    let is_array = |k: &str| o.get(k).is_some_and(Value::is_array);
    let mut call = if is_array("choices") && object != Some("chat.completion.chunk") {
        openai::chat(out)?
    } else if o.get("type").and_then(Value::as_str) == Some("message") && is_array("content") {
        anthropic::message(out)?
    } else if is_array("candidates") {
        gemini::response(out)?
    } else if object == Some("response") && is_array("output") {
        openai::responses(out)
    } else if object == Some("list")
        && o.get("usage").is_some_and(Value::is_object)
        && o.get("data").and_then(Value::as_array).is_some_and(|d| {
            d.iter()
                .all(|e| e.get("object").and_then(Value::as_str) == Some("embedding"))
        })
    {
        openai::embeddings(out)
    } else {
        return None;
    };
    // Gemini names them `modelVersion` and `responseId`.
    call.response_model = str_of(out, "model").or_else(|| str_of(out, "modelVersion"));
    if call.operation != "embeddings" {
        call.response_id = str_of(out, "id").or_else(|| str_of(out, "responseId"));
    }
    Some(call)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Completion, Message, ToolCall, Usage};

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
