//! Google Gemini (`@google/genai`, the Gemini API and Vertex AI): `usageMetadata`.

use super::util::u64_of;
use crate::model::Usage;
use serde_json::Value;

/// A `usageMetadata` as usage (`None` when it has no count): prompt tokens include tool-use
/// prompt tokens (and, as Gemini counts them, cached content), output tokens include thoughts.
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
