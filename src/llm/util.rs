//! Reading JSON values the way every provider's parser needs them.

use crate::json::Value;

#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn u64_of(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

/// A value as text: a string as it is, anything else as JSON.
#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn as_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Text of a message content: a string as it is, text parts joined, anything else as JSON.
#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn content_text(c: Option<&Value>) -> String {
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
            // Pushed, not collected and joined: `join` is a generic copy loop of its own
            // (0.9 KB of .wasm) for what `String::push_str` does.
            let mut text = String::new();
            for t in parts
                .iter()
                .filter_map(|p| p.get("text").and_then(Value::as_str))
            {
                text.push_str(t);
            }
            text
        }
        Some(other) => other.to_string(),
    }
}
