//! OpenAI Responses API stream events aggregated into a `response`.

use super::{entry, sort_by_index, Text};
use crate::json::{object, Map, Value};

/// OpenAI Responses API stream events. `response.created` / `response.in_progress` carry the
/// response so far (id, model, request echo); items grow through `response.output_item.added`,
/// `response.output_text.delta`, `response.function_call_arguments.delta`, ... and arrive whole
/// in `response.output_item.done`; `response.completed` / `response.incomplete` /
/// `response.failed` carry the final response with usage, which then replaces the aggregate.
#[derive(Debug, Default)]
pub(super) struct ResponsesAgg {
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
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn push(&mut self, ty: &str, o: &Map) {
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

    /// Bytes of text held.
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn retained_text(&self) -> usize {
        self.items
            .iter()
            .map(|(_, i)| i.text.s.len() + i.refusal.s.len() + i.arguments.s.len())
            .sum()
    }

    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn into_value(self) -> Value {
        if let Some(d) = self.done {
            return d;
        }
        let mut r = match self.base {
            Some(Value::Object(m)) => m,
            _ => Map::new(),
        };
        r.get_or_insert_with("object", || "response".into());
        let mut items = self.items;
        sort_by_index(&mut items, |(i, _)| *i);
        // Loops, not iterator chains: each collect-in-place instance cost ~1.5 KB of .wasm.
        let mut output = Vec::with_capacity(items.len());
        for (_, it) in items {
            let Some(mut item) = it.item else {
                continue;
            };
            if !it.whole {
                if let Some(m) = item.as_object_mut() {
                    match m.get("type").and_then(Value::as_str) {
                        Some("message") => {
                            let mut parts = vec![object([
                                ("type", "output_text".into()),
                                ("text", it.text.s.into()),
                                ("annotations", Value::Array(Vec::new())),
                            ])];
                            if !it.refusal.s.is_empty() {
                                parts.push(object([
                                    ("type", "refusal".into()),
                                    ("refusal", it.refusal.s.into()),
                                ]));
                            }
                            m.insert("content".into(), Value::Array(parts));
                        }
                        Some("custom_tool_call") => {
                            m.insert("input".into(), Value::from(it.arguments.s));
                        }
                        Some("function_call" | "mcp_call") => {
                            m.insert("arguments".into(), Value::from(it.arguments.s));
                        }
                        _ => {}
                    }
                }
            }
            output.push(item);
        }
        r.insert("output".into(), Value::Array(output));
        Value::Object(r)
    }
}
