//! The request side of a call, read from the span's input (the arguments): model, parameters
//! and prompt messages, for every provider.

use super::util::{as_text, content_text, str_of};
use crate::json::Value;
use crate::model::{LlmCall, Message};

/// Reads model, parameters and prompt messages from the call's arguments: the first argument
/// is the request (`{ model, messages, system? }` for chats, `{ model, input, instructions? }`
/// for the Responses API and embeddings), or the messages array itself.
#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn read(args: &Value, call: &mut LlmCall) {
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
        .find_map(|&k| req.get(k).and_then(Value::as_u64))
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
#[cfg_attr(agensight_size, optimize(size))]
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
#[cfg_attr(agensight_size, optimize(size))]
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
