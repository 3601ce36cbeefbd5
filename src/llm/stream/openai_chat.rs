//! OpenAI chat completion chunks aggregated into a `chat.completion`.

use super::{entry, set_str, sort_by_index, Text, MAX_STREAM_ITEMS};
use crate::json::{object, Map, Value};
use crate::llm::util::u64_of;

/// OpenAI chat completion chunks: deltas per choice `index`; tool call deltas per tool call
/// `index` (the first carries `id`, `type` and `function.name`, the rest argument fragments);
/// `finish_reason` on a choice's last chunk; with `stream_options.include_usage`, `usage` on a
/// last chunk whose `choices` is empty.
#[derive(Debug, Default)]
pub(super) struct ChatAgg {
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
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn push(&mut self, o: &Map) {
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

    /// Bytes of text held.
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn retained_text(&self) -> usize {
        self.choices
            .iter()
            .map(|c| {
                c.content.s.len()
                    + c.refusal.s.len()
                    + c.tool_calls
                        .iter()
                        .map(|(_, t)| t.arguments.s.len() + t.name.len())
                        .sum::<usize>()
            })
            .sum()
    }

    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn into_value(self) -> Value {
        let mut choices = self.choices;
        sort_by_index(&mut choices, |c| c.index);
        let mut values = Vec::with_capacity(choices.len());
        for c in choices {
            let mut msg = Map::new();
            msg.insert(
                "role".into(),
                Value::from(c.role.unwrap_or_else(|| "assistant".into())),
            );
            msg.insert(
                "content".into(),
                if c.has_content {
                    Value::from(c.content.s)
                } else {
                    Value::Null
                },
            );
            if !c.refusal.s.is_empty() {
                msg.insert("refusal".into(), Value::from(c.refusal.s));
            }
            if !c.tool_calls.is_empty() {
                let mut calls = c.tool_calls;
                sort_by_index(&mut calls, |(i, _)| *i);
                let mut values = Vec::with_capacity(calls.len());
                for (_, t) in calls {
                    let function =
                        object([("name", t.name.into()), ("arguments", t.arguments.s.into())]);
                    values.push(object([
                        ("id", t.id.into()),
                        ("type", t.kind.unwrap_or_else(|| "function".into()).into()),
                        ("function", function),
                    ]));
                }
                msg.insert("tool_calls".into(), Value::Array(values));
            }
            values.push(object([
                ("index", c.index.into()),
                ("message", msg.into()),
                ("finish_reason", c.finish_reason.into()),
            ]));
        }
        let mut out = Map::new();
        out.insert("id".into(), Value::from(self.id));
        out.insert("object".into(), Value::from("chat.completion"));
        if let Some(c) = self.created {
            out.insert("created".into(), c);
        }
        out.insert("model".into(), Value::from(self.model));
        if let Some(f) = self.system_fingerprint {
            out.insert("system_fingerprint".into(), Value::from(f));
        }
        if let Some(t) = self.service_tier {
            out.insert("service_tier".into(), Value::from(t));
        }
        out.insert("choices".into(), Value::Array(values));
        if let Some(u) = self.usage {
            out.insert("usage".into(), u);
        }
        Value::Object(out)
    }
}
