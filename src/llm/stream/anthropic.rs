//! Anthropic message stream events aggregated into a `message`.

use super::{sort_by_index, Text, MAX_STREAM_ITEMS};
use crate::json::{Map, Value};
use crate::llm::util::str_of;

/// Anthropic message stream events: `message_start` (the message with empty content and the
/// prompt's usage), per block `content_block_start` / `content_block_delta` (`text_delta`,
/// `input_json_delta` with `partial_json` fragments of a `tool_use` input, `thinking_delta`,
/// `signature_delta`) / `content_block_stop`, then `message_delta` (`stop_reason`, cumulative
/// `usage`) and `message_stop`.
#[derive(Debug, Default)]
pub(super) struct MessagesAgg {
    message: Option<Map>,
    usage: Map,
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
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn push(&mut self, ty: &str, o: &Map) {
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

    /// Bytes of text held.
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn retained_text(&self) -> usize {
        self.blocks
            .iter()
            .map(|b| b.text.s.len() + b.json.s.len())
            .sum()
    }

    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn into_value(self) -> Value {
        let mut m = self.message.unwrap_or_default();
        m.get_or_insert_with("type", || "message".into());
        m.get_or_insert_with("role", || "assistant".into());
        let mut blocks = self.blocks;
        sort_by_index(&mut blocks, |b| b.index);
        let mut content = Vec::with_capacity(blocks.len());
        for b in blocks {
            let mut block = match b.start {
                Value::Object(o) => o,
                _ => Map::new(),
            };
            match block.get("type").and_then(Value::as_str) {
                Some("text") => {
                    block.insert("text".into(), Value::from(b.text.s));
                }
                Some("thinking") => {
                    block.insert("thinking".into(), Value::from(b.text.s));
                    if let Some(sig) = b.signature {
                        block.insert("signature".into(), Value::from(sig));
                    }
                }
                Some("tool_use" | "server_tool_use" | "mcp_tool_use") if !b.json.s.is_empty() => {
                    // The input's JSON arrives in fragments; a stream cut short leaves text
                    // that does not parse, kept as it is.
                    let input = crate::json::parse(&b.json.s).unwrap_or(Value::String(b.json.s));
                    block.insert("input".into(), input);
                }
                _ => {}
            }
            content.push(Value::Object(block));
        }
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
