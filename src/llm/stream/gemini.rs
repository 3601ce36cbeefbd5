//! Gemini `generateContentStream` chunks (each a `GenerateContentResponse` with the new part
//! of each candidate) aggregated into one response.

use super::{entry, set_str, Text, MAX_STREAM_ITEMS};
use crate::json::{object, Map, Value};
use crate::llm::gemini::{parts, Part};

#[derive(Debug, Default)]
pub(super) struct GeminiAgg {
    response_id: Option<String>,
    model_version: Option<String>,
    usage: Option<Value>,
    candidates: Vec<(u64, CandidateAgg)>,
}

#[derive(Debug, Default)]
struct CandidateAgg {
    text: Text,
    /// `functionCall` parts come whole, one chunk each.
    calls: Vec<Value>,
    finish_reason: Option<Value>,
}

impl GeminiAgg {
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn push(&mut self, o: &Map) {
        set_str(&mut self.response_id, o, "responseId");
        set_str(&mut self.model_version, o, "modelVersion");
        if let Some(u) = o.get("usageMetadata").filter(|u| u.is_object()) {
            self.usage = Some(u.clone());
        }
        for (i, c) in o
            .get("candidates")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let index = c.get("index").and_then(Value::as_u64).unwrap_or(i as u64);
            let Some(agg) = entry(&mut self.candidates, index) else {
                continue;
            };
            for part in parts(c) {
                match part {
                    Part::Text(t) => agg.text.push(t),
                    Part::Call(f) if agg.calls.len() < MAX_STREAM_ITEMS => {
                        agg.calls.push(object([("functionCall", f.clone())]))
                    }
                    Part::Call(_) => {}
                }
            }
            if let Some(r) = c.get("finishReason").filter(|r| r.is_string()) {
                agg.finish_reason = Some(r.clone());
            }
        }
    }

    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn retained_text(&self) -> usize {
        self.candidates.iter().map(|(_, c)| c.text.s.len()).sum()
    }

    /// The aggregate as a `GenerateContentResponse`: per candidate one text part, then its
    /// function calls.
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn into_value(self) -> Value {
        let candidates: Vec<Value> = self
            .candidates
            .into_iter()
            .map(|(index, c)| {
                let mut parts = Vec::with_capacity(c.calls.len() + 1);
                if !c.text.s.is_empty() {
                    parts.push(object([("text", c.text.s.into())]));
                }
                parts.extend(c.calls);
                let content = object([("role", "model".into()), ("parts", parts.into())]);
                let mut v = Map::new();
                v.insert("index".into(), index.into());
                v.insert("content".into(), content);
                if let Some(r) = c.finish_reason {
                    v.insert("finishReason".into(), r);
                }
                Value::Object(v)
            })
            .collect();
        let mut out = Map::new();
        if let Some(id) = self.response_id {
            out.insert("responseId".into(), id.into());
        }
        if let Some(m) = self.model_version {
            out.insert("modelVersion".into(), m.into());
        }
        out.insert("candidates".into(), candidates.into());
        if let Some(u) = self.usage {
            out.insert("usageMetadata".into(), u);
        }
        Value::Object(out)
    }
}
