//! Usage reports: a result that is no provider response the other parsers know but carries a
//! recognisable usage object at its top level (`{ content, usage: {...} }`, an AI SDK result,
//! a Bedrock Converse answer, a Gemini `usageMetadata`). The span records those tokens as an
//! LLM call; the tracer counts them only when no span below it recorded an LLM call already
//! (the report then repeats or sums their tokens).
//!
//! The shapes, told apart by their keys (docs/records.md, "Usage in any result"):
//! - OpenAI chat completions: `prompt_tokens`, `completion_tokens`, `total_tokens`, details.
//! - OpenAI Responses API: `input_tokens`, `output_tokens` with `total_tokens` or
//!   `input_tokens_details`/`output_tokens_details`.
//! - Anthropic: `input_tokens`, `output_tokens` otherwise, cache reads/writes added to input.
//! - Gemini: `usageMetadata` (see [`super::gemini::usage`]).
//! - AI SDK v4: `promptTokens`, `completionTokens`, `totalTokens`.
//! - AI SDK v5 and later: `inputTokens`, `outputTokens`, `totalTokens`, with v5's
//!   `cachedInputTokens`/`reasoningTokens` or v6's `inputTokenDetails`/`outputTokenDetails`;
//!   the provider-level form where `inputTokens`/`outputTokens` are `{ total, cacheRead, ... }`.
//! - AI SDK embeddings: `{ tokens }`.
//! - Bedrock Converse: `inputTokens`, `outputTokens`, `totalTokens` with
//!   `cacheReadInputTokens`/`cacheWriteInputTokens`, which `inputTokens` leaves out (added).

use super::util::{str_of, u64_of};
use super::{anthropic, gemini, openai};
use crate::json::Value;
use crate::model::{Completion, LlmCall, Usage};

/// The usage report a result carries at its top level, as a call; `None` when there is no
/// usage object or none of its counts is known.
#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn report(out: &Value) -> Option<LlmCall> {
    let (system, operation, usage) = if let Some(m) = out.get("usageMetadata") {
        ("gcp.gemini", "chat", gemini::usage(m)?)
    } else {
        let u = out.get("usage")?;
        u.as_object()?;
        shape(u)?
    };
    let mut call = LlmCall {
        system: system.into(),
        operation: operation.into(),
        usage,
        response_model: str_of(out, "model").or_else(|| str_of(out, "modelVersion")),
        ..Default::default()
    };
    if operation != "embeddings" {
        // One completion, so that the Agensight records carry the usage (on its first choice).
        let text = ["content", "text", "output_text"]
            .iter()
            .find_map(|k| str_of(out, k))
            .unwrap_or_default();
        let finish_reason = ["finish_reason", "finishReason", "stop_reason", "stopReason"]
            .iter()
            .find_map(|k| str_of(out, k));
        call.completions.push(Completion {
            role: "assistant".into(),
            content: text,
            finish_reason,
        });
    }
    Some(call)
}

/// Provider, operation and usage of a `usage` object by its keys.
#[cfg_attr(agensight_size, optimize(size))]
fn shape(u: &Value) -> Option<(&'static str, &'static str, Usage)> {
    let has = |k: &str| u.get(k).is_some_and(|v| v.is_number() || v.is_object());
    if has("prompt_tokens") || has("completion_tokens") {
        return Some(("openai", "chat", openai::usage(u, "prompt", "completion")));
    }
    if has("input_tokens") || has("output_tokens") {
        let responses_api = [
            "total_tokens",
            "input_tokens_details",
            "output_tokens_details",
        ]
        .iter()
        .any(|k| u.get(*k).is_some());
        return Some(if responses_api {
            ("openai", "chat", openai::usage(u, "input", "output"))
        } else {
            ("anthropic", "chat", anthropic::usage(u))
        });
    }
    if has("promptTokens") || has("completionTokens") {
        let (input, output) = (num(u, "promptTokens"), num(u, "completionTokens"));
        return Some(("", "chat", totals(u, input, output, "totalTokens")));
    }
    if has("inputTokens") || has("outputTokens") {
        return Some(camel(u));
    }
    if has("tokens") {
        let n = num(u, "tokens");
        return Some(("", "embeddings", totals(u, n, 0, "totalTokens")));
    }
    None
}

/// `inputTokens`/`outputTokens`: the AI SDK's forms or Bedrock's.
#[cfg_attr(agensight_size, optimize(size))]
fn camel(u: &Value) -> (&'static str, &'static str, Usage) {
    let (inp, out) = (u.get("inputTokens"), u.get("outputTokens"));
    if inp.is_some_and(Value::is_object) || out.is_some_and(Value::is_object) {
        // The provider-level form (LanguageModelV3Usage): `{ total, noCache, cacheRead,
        // cacheWrite }` and `{ total, text, reasoning }`.
        let field = |v: Option<&Value>, k: &str| v.and_then(|v| u64_of(v, k));
        let (input, output) = (
            field(inp, "total").unwrap_or(0),
            field(out, "total").unwrap_or(0),
        );
        let mut usage = totals(u, input, output, "totalTokens");
        usage.cache_read = field(inp, "cacheRead");
        usage.cache_creation = field(inp, "cacheWrite");
        usage.reasoning = field(out, "reasoning");
        return ("", "chat", usage);
    }
    let (read, write) = (
        u64_of(u, "cacheReadInputTokens"),
        u64_of(u, "cacheWriteInputTokens"),
    );
    if read.is_some() || write.is_some() {
        let input = num(u, "inputTokens") + read.unwrap_or(0) + write.unwrap_or(0);
        let mut usage = totals(u, input, num(u, "outputTokens"), "totalTokens");
        (usage.cache_read, usage.cache_creation) = (read, write);
        return ("aws.bedrock", "chat", usage);
    }
    let mut usage = totals(
        u,
        num(u, "inputTokens"),
        num(u, "outputTokens"),
        "totalTokens",
    );
    let details = |d: &str, k: &str| u.get(d).and_then(|d| u64_of(d, k));
    usage.cache_read =
        u64_of(u, "cachedInputTokens").or(details("inputTokenDetails", "cacheReadTokens"));
    usage.cache_creation = details("inputTokenDetails", "cacheWriteTokens");
    usage.reasoning =
        u64_of(u, "reasoningTokens").or(details("outputTokenDetails", "reasoningTokens"));
    ("", "chat", usage)
}

#[cfg_attr(agensight_size, optimize(size))]
fn num(u: &Value, k: &str) -> u64 {
    u64_of(u, k).unwrap_or(0)
}

/// A usage of `input` and `output` tokens, with the report's own total when it has one.
#[cfg_attr(agensight_size, optimize(size))]
fn totals(u: &Value, input: u64, output: u64, total_key: &str) -> Usage {
    Usage {
        input,
        output,
        total: u64_of(u, total_key).unwrap_or(input.saturating_add(output)),
        ..Default::default()
    }
}
