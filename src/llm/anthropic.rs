//! Anthropic whole responses: a Messages API `message`.

use super::util::{as_text, str_of, u64_of};
use crate::json::Value;
use crate::model::{Completion, LlmCall, ToolCall, Usage};

#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn message(out: &Value) -> Option<LlmCall> {
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
        call.usage = usage(u);
    }
    Some(call)
}

/// Anthropic usage: `input_tokens` leaves out the cached prompt tokens, which are added.
#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn usage(u: &Value) -> Usage {
    let cache_read = u64_of(u, "cache_read_input_tokens");
    let cache_creation = u64_of(u, "cache_creation_input_tokens");
    let input = u64_of(u, "input_tokens").unwrap_or(0)
        + cache_read.unwrap_or(0)
        + cache_creation.unwrap_or(0);
    let output = u64_of(u, "output_tokens").unwrap_or(0);
    Usage {
        input,
        output,
        total: input.saturating_add(output),
        cache_read,
        cache_creation,
        reasoning: u
            .get("output_tokens_details")
            .and_then(|d| u64_of(d, "thinking_tokens")),
    }
}
