//! OpenAI whole responses: chat completions (and legacy completions), the Responses API, and
//! embeddings.

use super::util::{as_text, content_text, str_of, u64_of};
use crate::json::Value;
use crate::model::{Completion, LlmCall, ToolCall, Usage};

/// OpenAI usage: chat completions name its fields `prompt`/`completion`, the Responses API
/// `input`/`output` (`{in}_tokens`, `{in}_tokens_details.cached_tokens`, ...).
#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn usage(u: &Value, inp: &str, out: &str) -> Usage {
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

#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn chat(out: &Value) -> Option<LlmCall> {
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
        call.usage = usage(u, "prompt", "completion");
    }
    Some(call)
}

/// An OpenAI Responses API result: `output` items (`message` with `output_text` parts,
/// `function_call`, `custom_tool_call`, `mcp_call`, reasoning and built-in tool items).
#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn responses(out: &Value) -> LlmCall {
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
        call.usage = usage(u, "input", "output");
    }
    call
}

/// An OpenAI embeddings result: `{object: "list", data: [{object: "embedding", ...}], model,
/// usage: {prompt_tokens, total_tokens}}`.
#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn embeddings(out: &Value) -> LlmCall {
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
