//! Usage in any result: each shape of usage object a span's result may carry, read as the
//! span's tokens (docs/records.md, "Usage in any result"), and counted once in the trace.

use super::{of, records, tracer};
use agensight_wasm::llm::parse_result;
use agensight_wasm::model::Usage;
use agensight_wasm::tracer::NONE;
use serde_json::{json, Value};

/// (provider, operation, usage) of a result that only reports usage.
fn report(result: Value) -> (String, String, Usage) {
    let (call, usage_only) = parse_result(Some(r#"["q"]"#), &result.to_string()).unwrap();
    assert!(usage_only, "{result}");
    assert!(call.prompts.is_empty(), "the arguments are no request");
    (call.system, call.operation, call.usage)
}

fn usage(input: u64, output: u64, total: u64) -> Usage {
    Usage {
        input,
        output,
        total,
        ..Default::default()
    }
}

#[test]
fn openai_chat_usage() {
    let r = report(
        json!({"content": "Hi", "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18,
        "prompt_tokens_details": {"cached_tokens": 3}, "completion_tokens_details": {"reasoning_tokens": 2}}}),
    );
    let want = Usage {
        cache_read: Some(3),
        reasoning: Some(2),
        ..usage(11, 7, 18)
    };
    assert_eq!(r, ("openai".into(), "chat".into(), want));
    // Without a total: input + output.
    let r = report(json!({"usage": {"prompt_tokens": 4, "completion_tokens": 1}}));
    assert_eq!(r.2, usage(4, 1, 5));
}

#[test]
fn openai_responses_usage() {
    let r = report(
        json!({"output_text": "Hi", "usage": {"input_tokens": 20, "output_tokens": 5, "total_tokens": 25,
        "input_tokens_details": {"cached_tokens": 8}, "output_tokens_details": {"reasoning_tokens": 1}}}),
    );
    let want = Usage {
        cache_read: Some(8),
        reasoning: Some(1),
        ..usage(20, 5, 25)
    };
    assert_eq!(r, ("openai".into(), "chat".into(), want));
}

#[test]
fn anthropic_usage_adds_cached_prompt_tokens() {
    let r = report(
        json!({"text": "Hi", "usage": {"input_tokens": 10, "output_tokens": 4,
        "cache_read_input_tokens": 100, "cache_creation_input_tokens": 20}}),
    );
    let want = Usage {
        cache_read: Some(100),
        cache_creation: Some(20),
        ..usage(130, 4, 134)
    };
    assert_eq!(r, ("anthropic".into(), "chat".into(), want));
}

#[test]
fn gemini_usage_metadata() {
    let r = report(
        json!({"answer": "Hi", "usageMetadata": {"promptTokenCount": 30, "candidatesTokenCount": 6,
        "thoughtsTokenCount": 9, "toolUsePromptTokenCount": 2, "cachedContentTokenCount": 12, "totalTokenCount": 47}}),
    );
    let want = Usage {
        cache_read: Some(12),
        reasoning: Some(9),
        ..usage(32, 15, 47)
    };
    assert_eq!(r, ("gcp.gemini".into(), "chat".into(), want));
}

#[test]
fn ai_sdk_usages_of_each_version() {
    // v4
    assert_eq!(report(json!({"text": "Hi", "usage": {"promptTokens": 3, "completionTokens": 2, "totalTokens": 5}})).2, usage(3, 2, 5));
    // v5
    let v5 = report(
        json!({"text": "Hi", "usage": {"inputTokens": 40, "outputTokens": 9, "totalTokens": 49,
        "cachedInputTokens": 32, "reasoningTokens": 4}}),
    );
    assert_eq!(
        v5,
        (
            "".into(),
            "chat".into(),
            Usage {
                cache_read: Some(32),
                reasoning: Some(4),
                ..usage(40, 9, 49)
            }
        )
    );
    // v6 and later
    let v6 = report(
        json!({"text": "Hi", "usage": {"inputTokens": 40, "inputTokenDetails": {"noCacheTokens": 5, "cacheReadTokens": 30, "cacheWriteTokens": 5},
        "outputTokens": 9, "outputTokenDetails": {"textTokens": 5, "reasoningTokens": 4}, "totalTokens": 49}}),
    );
    assert_eq!(
        v6.2,
        Usage {
            cache_read: Some(30),
            cache_creation: Some(5),
            reasoning: Some(4),
            ..usage(40, 9, 49)
        }
    );
    // The provider-level form (a model's doGenerate result).
    let v3 = report(
        json!({"content": [], "usage": {"inputTokens": {"total": 40, "noCache": 10, "cacheRead": 30},
        "outputTokens": {"total": 9, "text": 5, "reasoning": 4}}}),
    );
    assert_eq!(
        v3.2,
        Usage {
            cache_read: Some(30),
            reasoning: Some(4),
            ..usage(40, 9, 49)
        }
    );
    // embed()
    let e = report(json!({"embedding": [0.1, 0.2], "usage": {"tokens": 6}}));
    assert_eq!(e, ("".into(), "embeddings".into(), usage(6, 0, 6)));
}

#[test]
fn bedrock_converse_usage_adds_cache_tokens() {
    let r = report(
        json!({"output": {"message": {"role": "assistant", "content": [{"text": "Hi"}]}}, "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 4, "totalTokens": 114, "cacheReadInputTokens": 100}}),
    );
    let want = Usage {
        cache_read: Some(100),
        ..usage(110, 4, 114)
    };
    assert_eq!(r, ("aws.bedrock".into(), "chat".into(), want));
}

#[test]
fn values_without_a_known_usage_are_no_calls() {
    for v in [
        json!({"usage": {}}),
        json!({"usage": {"requests": 3}}),
        json!({"usage": "12 tokens"}),
        json!({"usageMetadata": {"note": 1}}),
        json!({"data": {"usage": {"prompt_tokens": 1}}}),
    ] {
        assert_eq!(parse_result(None, &v.to_string()), None, "{v}");
    }
}

#[test]
fn a_usage_report_counts_in_the_span_and_the_trace() {
    let mut t = tracer(r#"{"storage":"memory"}"#);
    let d = t.define("answer", "span", "");
    let root = t.start(d, NONE, 1_000.0, r#"["q"]"#, None);
    let out = json!({"content": "Paris", "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}});
    t.end(root, 1_001.0, &out.to_string(), None);
    let r = records(&mut t);
    assert_eq!(of(&r, "trace")[0]["total_tokens"], json!(15));
    let span = of(&r, "span")[0];
    assert_eq!(span["kind"], json!("llm"));
    assert_eq!(
        (
            &span["attributes"]["gen_ai.usage.input_tokens"],
            &span["attributes"]["gen_ai.usage.output_tokens"]
        ),
        (&json!(12), &json!(3))
    );
    let completions = of(&r, "completion");
    assert_eq!(completions.len(), 1);
    assert_eq!(completions[0]["content"], json!("Paris"));
}

/// A trace whose root returns `root_out` above a child that returned `child_out`: the total
/// tokens and each span's `gen_ai.usage.total_tokens`, root first.
fn nested(child_out: &Value, root_out: &Value) -> (Value, Vec<Option<Value>>) {
    let mut t = tracer(r#"{"storage":"memory"}"#);
    let (outer, inner) = (t.define("outer", "span", ""), t.define("inner", "span", ""));
    let root = t.start(outer, NONE, 1_000.0, "[]", None);
    let h = t.start(inner, root, 1_001.0, "[]", None);
    t.end(h, 1_002.0, &child_out.to_string(), None);
    t.end(root, 1_003.0, &root_out.to_string(), None);
    let r = records(&mut t);
    let spans = of(&r, "span")
        .iter()
        .map(|s| s["attributes"].get("gen_ai.usage.total_tokens").cloned())
        .collect();
    (of(&r, "trace")[0]["total_tokens"].clone(), spans)
}

#[test]
fn a_parent_reporting_its_childs_usage_counts_nothing() {
    let report = json!({"content": "Paris", "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}});
    // The child's result returned as it is.
    assert_eq!(
        nested(&report, &report),
        (json!(15), vec![None, Some(json!(15))])
    );
    // The child is a real chat completion; the parent reports its text and usage.
    let completion = json!({"id": "chatcmpl-9", "object": "chat.completion", "model": "gpt-4o", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Paris"}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}});
    let mine = json!({"answer": "Paris", "usage": completion["usage"]});
    assert_eq!(
        nested(&completion, &mine),
        (json!(15), vec![None, Some(json!(15))])
    );
    // A sum of its children's usage is no new call either.
    let sum = json!({"usage": {"inputTokens": 24, "outputTokens": 6, "totalTokens": 30}});
    assert_eq!(
        nested(&report, &sum),
        (json!(15), vec![None, Some(json!(15))])
    );
    // Two unrelated reports, neither below the other, both count.
    assert_eq!(
        nested(&json!({"x": 1}), &report),
        (json!(15), vec![Some(json!(15)), None])
    );
}
