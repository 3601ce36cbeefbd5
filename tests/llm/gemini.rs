//! Gemini `GenerateContentResponse`s (the shapes `@google/genai` returns and the REST API
//! sends): a whole response, and the chunks of a stream aggregated into the same call.

use super::{done, tool};
use agensight_wasm::llm::{parse_call, Stream};
use agensight_wasm::model::Usage;
use serde_json::json;

fn usage() -> serde_json::Value {
    json!({"promptTokenCount": 30, "candidatesTokenCount": 12, "thoughtsTokenCount": 5, "cachedContentTokenCount": 8, "totalTokenCount": 47})
}

const WANT_USAGE: Usage = Usage {
    input: 30,
    output: 17,
    total: 47,
    cache_read: Some(8),
    cache_creation: None,
    reasoning: Some(5),
};

#[test]
fn gemini_whole_response_with_thoughts_and_function_calls() {
    let out = json!({"candidates": [{"content": {"role": "model", "parts": [
            {"text": "Planning the lookup.", "thought": true},
            {"text": "Let me check "}, {"text": "Paris."},
            {"functionCall": {"id": "fc-1", "name": "get_weather", "args": {"city": "Paris"}}},
            {"functionCall": {"name": "get_time", "args": {"tz": "Europe/Paris"}}}]},
        "finishReason": "STOP", "index": 0}],
        "usageMetadata": usage(), "modelVersion": "gemini-2.5-flash-001", "responseId": "resp-g1"});
    let c = parse_call(
        Some(r#"[{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Weather?"}]}]"#),
        &out.to_string(),
    )
    .unwrap();
    assert_eq!(
        (c.system.as_str(), c.operation.as_str()),
        ("gcp.gemini", "chat")
    );
    assert_eq!(
        (
            c.response_id.as_deref(),
            c.response_model.as_deref(),
            c.request_model.as_deref()
        ),
        (
            Some("resp-g1"),
            Some("gemini-2.5-flash-001"),
            Some("gemini-2.5-flash")
        )
    );
    assert_eq!(
        c.completions,
        vec![done("Let me check Paris.", Some("STOP"))]
    );
    let mut no_id = tool("", "get_time", r#"{"tz":"Europe/Paris"}"#);
    no_id.id = None;
    assert_eq!(
        c.tool_calls,
        vec![tool("fc-1", "get_weather", r#"{"city":"Paris"}"#), no_id]
    );
    assert_eq!(c.usage, WANT_USAGE);
    assert_eq!(c.prompts.len(), 1);
}

#[test]
fn gemini_stream_chunks_aggregate_into_the_whole_response() {
    let chunk = |parts: serde_json::Value, finish: Option<&str>, u: serde_json::Value| {
        let mut cand = json!({"content": {"role": "model", "parts": parts}, "index": 0});
        if let Some(f) = finish {
            cand["finishReason"] = json!(f);
        }
        json!({"candidates": [cand], "usageMetadata": u, "modelVersion": "gemini-2.5-flash-001", "responseId": "resp-s1"}).to_string()
    };
    let partial = json!({"promptTokenCount": 30, "trafficType": "ON_DEMAND"});
    let mut s = Stream::default();
    s.push(&chunk(
        json!([{"text": "Thinking…", "thought": true}]),
        None,
        partial.clone(),
    ));
    s.push(&chunk(json!([{"text": "Sunny, "}]), None, partial.clone()));
    s.push(&chunk(json!([{"text": "21 °C."}]), None, partial));
    s.push(&chunk(
        json!([{"functionCall": {"name": "log", "args": {"n": 1}}}]),
        Some("STOP"),
        usage(),
    ));
    let finished = s.finish("");
    let aggregated: serde_json::Value = serde_json::from_str(&finished.output).unwrap();
    assert_eq!(
        aggregated["candidates"][0]["content"]["parts"],
        json!([{"text": "Sunny, 21 °C."}, {"functionCall": {"name": "log", "args": {"n": 1}}}])
    );
    assert!(finished.output.starts_with(
        r#"{"responseId":"resp-s1","modelVersion":"gemini-2.5-flash-001","usageMetadata":"#
    ));
    let c = finished.call(None).unwrap();
    assert_eq!(c.completions, vec![done("Sunny, 21 °C.", Some("STOP"))]);
    assert_eq!(
        (
            c.tool_calls[0].name.as_str(),
            c.tool_calls[0].arguments.as_str()
        ),
        ("log", r#"{"n":1}"#)
    );
    assert_eq!(
        (c.usage, c.response_id.as_deref()),
        (WANT_USAGE, Some("resp-s1"))
    );
}
