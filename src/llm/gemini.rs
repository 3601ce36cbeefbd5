//! Google Gemini (`@google/genai`, the Gemini API and Vertex AI): whole
//! `GenerateContentResponse`s and their `usageMetadata` (stream chunks: `stream/gemini.rs`).

use super::util::{as_text, str_of, u64_of};
use crate::json::Value;
use crate::model::{Completion, LlmCall, ToolCall, Usage};

/// A `usageMetadata` as usage (`None` when it has no count): prompt tokens include tool-use
/// prompt tokens (and, as Gemini counts them, cached content), output tokens include thoughts.
#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn usage(m: &Value) -> Option<Usage> {
    let count = |k: &str| u64_of(m, k);
    let keys = [
        "promptTokenCount",
        "candidatesTokenCount",
        "totalTokenCount",
        "toolUsePromptTokenCount",
        "thoughtsTokenCount",
        "cachedContentTokenCount",
    ];
    if !keys.iter().any(|k| count(k).is_some()) {
        return None;
    }
    let thoughts = count("thoughtsTokenCount");
    let input =
        count("promptTokenCount").unwrap_or(0) + count("toolUsePromptTokenCount").unwrap_or(0);
    let output = count("candidatesTokenCount").unwrap_or(0) + thoughts.unwrap_or(0);
    Some(Usage {
        input,
        output,
        total: count("totalTokenCount").unwrap_or(input.saturating_add(output)),
        cache_read: count("cachedContentTokenCount"),
        cache_creation: None,
        reasoning: thoughts,
    })
}

/// A `GenerateContentResponse` (`generateContent`, or the aggregate of a
/// `generateContentStream`): one completion per candidate, its text parts joined (`thought`
/// parts left out), its `functionCall` parts as tool calls (`args` as JSON), `finishReason` in
/// Gemini's words (`STOP`, `MAX_TOKENS`, `SAFETY`). `responseId` and `modelVersion` are read by
/// the caller as id and model.
#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn response(out: &Value) -> Option<LlmCall> {
    let mut call = LlmCall {
        system: "gcp.gemini".into(),
        operation: "chat".into(),
        ..Default::default()
    };
    for candidate in out.get("candidates")?.as_array()? {
        let mut text = String::new();
        for part in parts(candidate) {
            match part {
                Part::Text(t) => text.push_str(t),
                Part::Call(f) => call.tool_calls.push(ToolCall {
                    id: str_of(f, "id"),
                    name: str_of(f, "name").unwrap_or_default(),
                    arguments: f.get("args").map(as_text).unwrap_or_else(|| "{}".into()),
                }),
            }
        }
        call.completions.push(Completion {
            role: "assistant".into(),
            content: text,
            finish_reason: str_of(candidate, "finishReason"),
        });
    }
    if let Some(u) = out.get("usageMetadata").and_then(usage) {
        call.usage = u;
    }
    Some(call)
}

/// A part of a candidate that the call records.
pub(super) enum Part<'a> {
    /// Answer text (`thought` parts are not).
    Text(&'a str),
    /// A `functionCall` part's object.
    Call(&'a Value),
}

/// The recorded parts of a candidate's `content.parts`, in order.
#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn parts(candidate: &Value) -> impl Iterator<Item = Part<'_>> {
    candidate
        .get("content")
        .and_then(|c| c.get("parts"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|p| match p.get("text").and_then(Value::as_str) {
            Some(_) if p.get("thought").and_then(Value::as_bool) == Some(true) => None,
            Some(t) => Some(Part::Text(t)),
            None => p
                .get("functionCall")
                .filter(|f| f.is_object())
                .map(Part::Call),
        })
}
