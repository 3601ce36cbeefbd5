//! LLM response parsing and stream aggregation on fixtures of the providers' real response
//! shapes (`tests/fixtures/llm/*.json`: the request, and the response or the server-sent events
//! the provider answers with), then the tracer end to end: streamed spans, capture rules on
//! aggregated texts, declared calls that fail, tokens counted once.

use agensight_wasm::config::parse;
use agensight_wasm::core::Core;
use agensight_wasm::llm::{parse_call, Declaration, Stream, MAX_STREAM_TEXT};
use agensight_wasm::model::{Completion, ErrorInfo, LlmCall, Message, ToolCall, Usage};
use agensight_wasm::tracer::NONE;
use serde_json::{json, Value};
#[path = "../common/mod.rs"]
mod common;
use common::{of, records};

mod gemini;
mod usage;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/tests/fixtures/llm/{name}.json",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The span's captured input: the arguments array, the request first.
fn input(f: &Value) -> String {
    json!([f["request"]]).to_string()
}

/// The JSON payloads of a fixture's events, as the SDKs yield them (`[DONE]` is not one).
fn chunks(f: &Value) -> Vec<String> {
    f["sse"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["data"].is_object())
        .map(|e| e["data"].to_string())
        .collect()
}

fn stream_of(chunks: &[String]) -> Stream {
    let mut s = Stream::default();
    for c in chunks {
        s.push(c);
    }
    s
}

fn msg(role: &str, content: &str) -> Message {
    Message {
        role: role.into(),
        content: content.into(),
    }
}

fn done(content: &str, finish_reason: Option<&str>) -> Completion {
    Completion {
        role: "assistant".into(),
        content: content.into(),
        finish_reason: finish_reason.map(Into::into),
    }
}

fn tool(id: &str, name: &str, arguments: &str) -> ToolCall {
    ToolCall {
        id: Some(id.into()),
        name: name.into(),
        arguments: arguments.into(),
    }
}

#[test]
fn openai_chat_completion_with_parallel_tool_calls() {
    let f = fixture("openai-chat-tools");
    let call = parse_call(Some(&input(&f)), &f["response"].to_string()).unwrap();
    assert_eq!(
        call,
        LlmCall {
            system: "openai".into(),
            operation: "chat".into(),
            request_model: Some("gpt-4.1".into()),
            response_model: Some("gpt-4.1-2025-04-14".into()),
            response_id: Some("chatcmpl-BVqQ2m8tW9zY6aKLdE4fG7hJ1kL0m".into()),
            usage: Usage {
                input: 1117,
                output: 46,
                total: 1163,
                cache_read: Some(1024),
                cache_creation: None,
                reasoning: Some(0),
            },
            prompts: vec![
                msg("system", "You are a helpful travel agent."),
                msg("user", "What's the weather and the local time in Paris?"),
            ],
            completions: vec![done("", Some("tool_calls"))],
            tool_calls: vec![
                tool(
                    "call_Qx8cL2mJ0v1kTQyq3Wn9aB7d",
                    "get_weather",
                    r#"{"city":"Paris","unit":"celsius"}"#
                ),
                tool(
                    "call_Rr2nM5pK8w3jUZxs6Vo4cD1e",
                    "get_time",
                    r#"{"timezone":"Europe/Paris"}"#
                ),
            ],
            temperature: Some(0.2),
            max_tokens: Some(300),
        }
    );
    // Fed as one chunk (a wrapped client's plain call), the same call and the same text.
    let text = f["response"].to_string();
    let fin = stream_of(std::slice::from_ref(&text)).finish("");
    assert_eq!(fin.output, text);
    assert_eq!(fin.call(Some(&input(&f))), Some(call));
}

#[test]
fn openai_chat_stream_with_tool_call_deltas_and_usage_chunk() {
    let f = fixture("openai-chat-stream-tools");
    let fin = stream_of(&chunks(&f)).finish("");
    let out: Value = serde_json::from_str(&fin.output).unwrap();
    assert_eq!(
        out,
        json!({
            "id": "chatcmpl-BVqR7nXc3pL0aQe5sT2uV8wY4zA6b", "object": "chat.completion", "created": 1746789100,
            "model": "gpt-4.1-2025-04-14", "system_fingerprint": "fp_b3f1157249", "service_tier": "default",
            "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_7hQ2xP9kLm3nB5vC1dF8gJ0t", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\",\"unit\":\"celsius\"}"}},
                {"id": "call_2wE4rT6yU8iO0pA3sD5fG7hJ", "type": "function", "function": {"name": "get_time", "arguments": "{\"timezone\":\"Europe/Paris\"}"}}
            ]}}],
            "usage": f["sse"][21]["data"]["usage"],
        })
    );
    assert!(
        fin.output.starts_with(r#"{"id":"chatcmpl-BVqR7nXc3pL0aQe5sT2uV8wY4zA6b","object":"chat.completion","created":1746789100,"model":"gpt-4.1-2025-04-14","usage":{"#),
        "identity and usage first: {}",
        &fin.output[..120]
    );
    let call = fin.call(Some(&input(&f))).unwrap();
    assert_eq!(
        call.usage,
        Usage {
            input: 1130,
            output: 52,
            total: 1182,
            cache_read: Some(1024),
            cache_creation: None,
            reasoning: Some(0)
        }
    );
    assert_eq!(call.completions, vec![done("", Some("tool_calls"))]);
    assert_eq!(
        call.tool_calls,
        vec![
            tool(
                "call_7hQ2xP9kLm3nB5vC1dF8gJ0t",
                "get_weather",
                r#"{"city":"Paris","unit":"celsius"}"#
            ),
            tool(
                "call_2wE4rT6yU8iO0pA3sD5fG7hJ",
                "get_time",
                r#"{"timezone":"Europe/Paris"}"#
            ),
        ]
    );
    assert_eq!(
        (call.request_model.as_deref(), call.response_id.as_deref()),
        (
            Some("gpt-4.1"),
            Some("chatcmpl-BVqR7nXc3pL0aQe5sT2uV8wY4zA6b")
        )
    );
}

#[test]
fn openai_chat_stream_of_text_from_a_reasoning_model() {
    let f = fixture("openai-chat-stream-text");
    let call = stream_of(&chunks(&f))
        .finish("")
        .call(Some(&input(&f)))
        .unwrap();
    assert_eq!(
        call.completions,
        vec![done("It is 21°C and sunny in Paris.", Some("stop"))]
    );
    assert_eq!(
        (call.usage.total, call.usage.reasoning, call.max_tokens),
        (307, Some(192), Some(1000))
    );
    // The assistant turn that only called a tool keeps its tool calls as content.
    assert_eq!(call.prompts.len(), 3);
    assert_eq!(call.prompts[1].role.as_str(), "assistant",);
    let tc: Value = serde_json::from_str(&call.prompts[1].content).unwrap();
    assert_eq!(tc[0]["function"]["name"], "get_weather");
    assert_eq!(
        call.prompts[2],
        msg("tool", r#"{"celsius":21,"sky":"sunny"}"#)
    );
}

#[test]
fn openai_chat_stream_cut_short_keeps_what_came() {
    let f = fixture("openai-chat-stream-tools");
    let all = chunks(&f);
    // Up to the middle of the first tool call's arguments: no finish reason, no usage.
    let call = stream_of(&all[..5]).finish("").call(None).unwrap();
    assert_eq!(call.completions, vec![done("", None)]);
    assert_eq!(
        call.tool_calls,
        vec![tool(
            "call_7hQ2xP9kLm3nB5vC1dF8gJ0t",
            "get_weather",
            r#"{"city":"Par"#
        )]
    );
    assert_eq!(call.usage, Usage::default());
}

#[test]
fn openai_responses_result() {
    let f = fixture("openai-responses");
    let call = parse_call(Some(&input(&f)), &f["response"].to_string()).unwrap();
    assert_eq!(
        call,
        LlmCall {
            system: "openai".into(),
            operation: "chat".into(),
            request_model: Some("o4-mini".into()),
            response_model: Some("o4-mini-2025-04-16".into()),
            response_id: Some("resp_68a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5".into()),
            usage: Usage {
                input: 412,
                output: 87,
                total: 499,
                cache_read: Some(256),
                cache_creation: None,
                reasoning: Some(64),
            },
            prompts: vec![
                msg("system", "You are a helpful travel agent."),
                msg("user", "What's the weather in Paris?"),
                msg("assistant", &f["request"]["input"][1].to_string()),
                msg("tool", r#"{"celsius":21,"sky":"sunny"}"#),
            ],
            completions: vec![done(
                "It is 21°C and sunny in Paris: a good day for a walk.",
                Some("stop")
            )],
            tool_calls: vec![],
            temperature: None,
            max_tokens: Some(500),
        }
    );
    // An incomplete response says why.
    let mut r = f["response"].clone();
    r["status"] = json!("incomplete");
    r["incomplete_details"] = json!({"reason": "max_output_tokens"});
    let c = parse_call(None, &r.to_string()).unwrap();
    assert_eq!(
        c.completions[0].finish_reason.as_deref(),
        Some("max_output_tokens")
    );
}

#[test]
fn openai_responses_stream_events() {
    let f = fixture("openai-responses-stream");
    let all = chunks(&f);
    let fin = stream_of(&all).finish("");
    // The final response of `response.completed` is the output.
    let out: Value = serde_json::from_str(&fin.output).unwrap();
    assert_eq!(out, f["sse"][all.len() - 1]["data"]["response"]);
    assert!(fin.output.starts_with(r#"{"id":"resp_68b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6","object":"response","created_at":1746789400,"model":"gpt-4.1-2025-04-14","status":"completed","usage":{"#));
    let call = fin.call(Some(&input(&f))).unwrap();
    assert_eq!(
        (
            call.request_model.as_deref(),
            call.temperature,
            call.usage.total,
            call.usage.input
        ),
        (Some("gpt-4.1"), Some(0.5), 326, 301)
    );
    assert_eq!(
        call.prompts,
        vec![msg("user", "What's the weather in Paris?")]
    );
    assert_eq!(
        call.completions,
        vec![done("Let me check the weather.", Some("tool_calls"))]
    );
    assert_eq!(
        call.tool_calls,
        vec![tool(
            "call_Vb7nM2qW9eR4tY6u",
            "get_weather",
            r#"{"city":"Paris"}"#
        )]
    );

    // Cut short before `response.completed`: rebuilt from the deltas, still in progress.
    let partial = stream_of(&all[..all.len() - 4]).finish("");
    let out: Value = serde_json::from_str(&partial.output).unwrap();
    assert_eq!(
        (
            out["status"].as_str(),
            out["output"][0]["content"][0]["text"].as_str()
        ),
        (Some("in_progress"), Some("Let me check the weather."))
    );
    assert_eq!(out["output"][1]["arguments"], json!(r#"{"city":"Paris"#));
    let call = partial.call(None).unwrap();
    assert_eq!(
        call.completions,
        vec![done("Let me check the weather.", None)]
    );
    assert_eq!(call.tool_calls[0].arguments, r#"{"city":"Paris"#);
    assert_eq!(
        call.response_id.as_deref(),
        Some("resp_68b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6")
    );
}

#[test]
fn openai_embeddings() {
    let f = fixture("openai-embeddings");
    let call = parse_call(Some(&input(&f)), &f["response"].to_string()).unwrap();
    assert_eq!(
        call,
        LlmCall {
            system: "openai".into(),
            operation: "embeddings".into(),
            request_model: Some("text-embedding-3-small".into()),
            response_model: Some("text-embedding-3-small".into()),
            response_id: None,
            usage: Usage {
                input: 4,
                output: 0,
                total: 4,
                ..Default::default()
            },
            prompts: vec![msg("user", "Paris weather"), msg("user", "Lyon weather")],
            completions: vec![],
            tool_calls: vec![],
            temperature: None,
            max_tokens: None,
        }
    );
}

#[test]
fn anthropic_message_with_tool_use_and_cache_read() {
    let f = fixture("anthropic-message-tools");
    let call = parse_call(Some(&input(&f)), &f["response"].to_string()).unwrap();
    assert_eq!(
        call,
        LlmCall {
            system: "anthropic".into(),
            operation: "chat".into(),
            request_model: Some("claude-sonnet-4-5".into()),
            response_model: Some("claude-sonnet-4-5-20250929".into()),
            response_id: Some("msg_01Aq9w938a90dw8qXYZabcde".into()),
            usage: Usage {
                input: 472 + 2048,
                output: 89,
                total: 472 + 2048 + 89,
                cache_read: Some(2048),
                cache_creation: Some(0),
                reasoning: None,
            },
            prompts: vec![
                msg("system", "You are a helpful travel agent."),
                msg("user", "What's the weather in Paris?"),
            ],
            completions: vec![done(
                "I'll check the weather in Paris for you.",
                Some("tool_use")
            )],
            tool_calls: vec![tool(
                "toolu_01A09q90qw90lq917835lq9",
                "get_weather",
                r#"{"city":"Paris","unit":"celsius"}"#
            )],
            temperature: Some(0.3),
            max_tokens: Some(1024),
        }
    );
}

#[test]
fn anthropic_stream_with_thinking_text_and_tool_use() {
    let f = fixture("anthropic-stream-tools");
    let fin = stream_of(&chunks(&f)).finish("");
    let out: Value = serde_json::from_str(&fin.output).unwrap();
    assert_eq!(
        out,
        json!({
            "id": "msg_01XFDUDYJgAACzvnptvVoYEL", "type": "message", "role": "assistant", "model": "claude-sonnet-4-5-20250929",
            "content": [
                {"type": "thinking", "thinking": "The user wants the weather in Paris; I should call get_weather.", "signature": "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"},
                {"type": "text", "text": "Let me look that up."},
                {"type": "tool_use", "id": "toolu_01T1x1fJ34qAmk2tNTrN7Up6", "name": "get_weather", "input": {"city": "Paris", "unit": "celsius"}}
            ],
            "stop_reason": "tool_use", "stop_sequence": null,
            "usage": {"input_tokens": 512, "cache_creation_input_tokens": 1024, "cache_read_input_tokens": 0, "output_tokens": 156,
                      "service_tier": "standard", "output_tokens_details": {"thinking_tokens": 60}}
        })
    );
    let call = fin.call(Some(&input(&f))).unwrap();
    assert_eq!(
        call.usage,
        Usage {
            input: 512 + 1024,
            output: 156,
            total: 512 + 1024 + 156,
            cache_read: Some(0),
            cache_creation: Some(1024),
            reasoning: Some(60)
        }
    );
    assert_eq!(
        call.completions,
        vec![done("Let me look that up.", Some("tool_use"))]
    );
    assert_eq!(
        call.tool_calls,
        vec![tool(
            "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
            "get_weather",
            r#"{"city":"Paris","unit":"celsius"}"#
        )]
    );
    assert_eq!(
        (call.prompts.clone(), call.max_tokens),
        (
            vec![msg("user", "What's the weather in Paris?")],
            Some(2048)
        )
    );
    // Cut short inside the tool input: the fragment is kept as text.
    let all = chunks(&f);
    let cut = stream_of(&all[..all.len() - 5]).finish("");
    let out: Value = serde_json::from_str(&cut.output).unwrap();
    assert_eq!(out["content"][2]["input"], json!(r#"{"city": "Par"#));
    assert_eq!(out["stop_reason"], Value::Null);
    assert_eq!(cut.call(None).unwrap().usage.output, 3);
}

#[test]
fn an_llm_chunk_is_no_declaration() {
    // The `{"$llm": {...}}` first chunk was the declaration before `declareLlm`; nothing
    // sends it now, and the core no longer reads it.
    let mut s = Stream::default();
    s.push(r#"{"$llm":{"system":"openai","operation":"chat","model":"gpt-4o"}}"#);
    let fin = s.finish("");
    assert_eq!(fin.output, "");
    assert_eq!(fin.call(None), None);
}

#[test]
fn a_declared_call_without_a_response_keeps_its_request() {
    let mut s = Stream::default();
    s.declare(declared(
        "anthropic",
        "chat",
        Some("claude-haiku-4-5"),
        Some(0.5),
        Some(64),
    ));
    let fin = s.finish("");
    assert_eq!(fin.output, "");
    let call = fin
        .call(Some(
            r#"[{"model":"claude-haiku-4-5","max_tokens":64,"messages":[{"role":"user","content":"Hi"}]}]"#,
        ))
        .unwrap();
    assert_eq!(
        call,
        LlmCall {
            system: "anthropic".into(),
            operation: "chat".into(),
            request_model: Some("claude-haiku-4-5".into()),
            prompts: vec![msg("user", "Hi")],
            temperature: Some(0.5),
            max_tokens: Some(64),
            ..Default::default()
        }
    );
    // Without a declaration, chunks that are no LLM response say nothing.
    let mut s = Stream::default();
    s.push("not json");
    s.push(r#"{"hello":"world"}"#);
    s.push("[1,2]");
    assert_eq!(s.finish("").call(None), None);
}

#[test]
fn chunks_of_another_provider_are_ignored() {
    let openai = chunks(&fixture("openai-chat-stream-text"));
    let anthropic = chunks(&fixture("anthropic-stream-tools"));
    let mut s = Stream::default();
    for (a, b) in openai.iter().zip(anthropic.iter()) {
        s.push(a);
        s.push(b);
    }
    let call = s.finish("").call(None).unwrap();
    assert_eq!(call.system, "openai");
}

#[test]
fn a_hundred_thousand_chunks_aggregate_in_bounded_memory() {
    let chunk = |text: &str, i: usize| {
        json!({"id": "chatcmpl-big", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
               "choices": [{"index": 0, "delta": {"content": text, "tool_calls": [{"index": 0, "function": {"arguments": if i.is_multiple_of(2) { "a" } else { "b" }}}]}, "finish_reason": null}]})
        .to_string()
    };
    let two = [chunk("tok ", 0), chunk("tok ", 1)];
    let mut s = Stream::default();
    for i in 0..100_000 {
        s.push(&two[i % 2]);
    }
    // Four bytes of content and one of arguments per chunk: only the aggregate is held.
    assert_eq!(s.retained_text(), 100_000 * 5);
    let call = s.finish("").call(None).unwrap();
    assert_eq!(call.completions[0].content.len(), 400_000);

    // Past the bound, text is cut and the aggregate stops growing.
    let text_chunk = |text: &str| {
        json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": text}}]}).to_string()
    };
    let mut s = Stream::default();
    let big = "x".repeat(10_000);
    for _ in 0..120 {
        s.push(&text_chunk(&big));
    }
    let held = s.retained_text();
    assert!(held <= MAX_STREAM_TEXT + 3, "{held}");
    for _ in 0..120 {
        s.push(&text_chunk(&big));
    }
    assert_eq!(s.retained_text(), held);
    let call = s.finish("").call(None).unwrap();
    assert!(call.completions[0].content.ends_with('\u{2026}'));

    // Items are bounded too: tool call indexes past the limit are dropped.
    let mut s = Stream::default();
    for i in 0..10_000u64 {
        s.push(&json!({"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"tool_calls": [{"index": i, "id": format!("call_{i}"), "function": {"name": "f", "arguments": "{}"}}]}}]}).to_string());
    }
    let call = s.finish("").call(None).unwrap();
    assert_eq!(call.tool_calls.len(), agensight_wasm::llm::MAX_STREAM_ITEMS);
}

// ---- the tracer, end to end ----------------------------------------------------------------

/// What a client wrapper declares before the response (`declareLlm`).
fn declared(
    system: &str,
    operation: &str,
    model: Option<&str>,
    temperature: Option<f64>,
    max_tokens: Option<u64>,
) -> Declaration {
    Declaration {
        system: system.into(),
        operation: operation.into(),
        model: model.map(str::to_string),
        temperature,
        max_tokens,
    }
}

fn tracer(options: &str) -> Core {
    Core::new(parse(options).unwrap(), &[7; 32], 1_000.0)
}

#[test]
fn tracer_records_a_streamed_call() {
    let f = fixture("anthropic-stream-tools");
    let mut t = tracer(r#"{"storage":"memory"}"#);
    let def = t.define("anthropic.messages.create", "llm", "");
    let h = t.start(def, NONE, 1_000.0, &input(&f), None);
    t.declare_llm(
        h,
        declared(
            "anthropic",
            "chat",
            Some("claude-sonnet-4-5"),
            None,
            Some(2048),
        ),
    );
    for c in chunks(&f) {
        t.stream_chunk(h, &c);
    }
    t.end(h, 1_500.0, "", None);
    let r = records(&mut t);
    assert_eq!(of(&r, "trace")[0]["total_tokens"], json!(1692));
    let span = of(&r, "span")[0];
    assert_eq!(span["kind"], json!("llm"));
    let a = &span["attributes"];
    assert_eq!(
        a["output"]["content"][1]["text"],
        json!("Let me look that up.")
    );
    assert_eq!(
        (
            &a["gen_ai.system"],
            &a["gen_ai.request.model"],
            &a["gen_ai.response.model"],
            &a["gen_ai.request.max_tokens"]
        ),
        (
            &json!("anthropic"),
            &json!("claude-sonnet-4-5"),
            &json!("claude-sonnet-4-5-20250929"),
            &json!(2048)
        )
    );
    assert_eq!(
        (
            &a["gen_ai.usage.input_tokens"],
            &a["gen_ai.usage.output_tokens"],
            &a["gen_ai.usage.cache_creation_input_tokens"],
            &a["gen_ai.usage.reasoning_tokens"],
            &a["gen_ai.response.finish_reasons"]
        ),
        (
            &json!(1536),
            &json!(156),
            &json!(1024),
            &json!(60),
            &json!(["tool_use"])
        )
    );
    let id = span["id"].clone();
    assert_eq!(
        of(&r, "completion"),
        vec![
            &json!({"span_id": id, "role": "assistant", "content": "Let me look that up.", "finish_reason": "tool_use", "total_tokens": 1692, "prompt_tokens": 1536, "completion_tokens": 156})
        ]
    );
    assert_eq!(
        of(&r, "tool"),
        vec![
            &json!({"span_id": id, "name": "get_weather", "arguments": "{\"city\":\"Paris\",\"unit\":\"celsius\"}"})
        ]
    );
    assert_eq!(of(&r, "prompt").len(), 1);
}

#[test]
fn tracer_applies_capture_rules_to_streamed_texts() {
    let secret_chunk = |text: &str| {
        json!({"id": "chatcmpl-s", "object": "chat.completion.chunk", "model": "gpt-4o", "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": "stop"}]}).to_string()
    };
    // Secrets masked, texts cut to maxFieldBytes.
    let mut t = tracer(r#"{"storage":"memory","maxFieldBytes":64}"#);
    let def = t.define("openai.chat.completions.create", "llm", "");
    let h = t.start(def, NONE, 1_000.0, "", None);
    t.stream_chunk(
        h,
        &secret_chunk("the key is sk-abcdefghijklmnopqrstuvwxyz0123 "),
    );
    t.stream_chunk(h, &secret_chunk(&"long ".repeat(100)));
    t.end(h, 1_001.0, "", None);
    let r = records(&mut t);
    let c = of(&r, "completion")[0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(c.starts_with("the key is [REDACTED] long"), "{c}");
    assert!(c.len() <= 64 && c.ends_with('\u{2026}'), "{c}");
    // Output capture off: usage and finish reasons, no texts.
    let mut t = tracer(r#"{"storage":"memory","capture":{"output":false}}"#);
    let def = t.define("openai.chat.completions.create", "llm", "");
    let h = t.start(def, NONE, 1_000.0, "", None);
    for c in chunks(&fixture("openai-chat-stream-tools")) {
        t.stream_chunk(h, &c);
    }
    t.end(h, 1_001.0, "", None);
    let r = records(&mut t);
    let span = of(&r, "span")[0];
    assert_eq!(span["attributes"].get("output"), None);
    assert_eq!(span["attributes"]["gen_ai.usage.total_tokens"], json!(1182));
    assert_eq!(
        of(&r, "tool")
            .iter()
            .map(|t| (t["name"].clone(), t["arguments"].clone()))
            .collect::<Vec<_>>(),
        vec![
            (json!("get_weather"), json!("")),
            (json!("get_time"), json!(""))
        ]
    );
}

#[test]
fn tracer_records_a_declared_call_that_failed() {
    let mut t = tracer(r#"{"storage":"memory"}"#);
    let def = t.define("openai.chat.completions.create", "llm", "");
    let h = t.start(
        def,
        NONE,
        1_000.0,
        r#"[{"model":"gpt-4o","temperature":0.7,"messages":[{"role":"user","content":"Hi"}]}]"#,
        None,
    );
    t.declare_llm(h, declared("openai", "chat", Some("gpt-4o"), None, None));
    t.end(
        h,
        1_010.0,
        "",
        Some(ErrorInfo {
            name: "RateLimitError".into(),
            message: "429 Rate limit reached (status 429, type requests)".into(),
            stack: String::new(),
        }),
    );
    let r = records(&mut t);
    let span = of(&r, "span")[0];
    assert_eq!(
        (&span["status"], &span["kind"]),
        (&json!("error"), &json!("llm"))
    );
    let a = &span["attributes"];
    assert_eq!(
        (
            &a["error.type"],
            &a["gen_ai.system"],
            &a["gen_ai.request.model"],
            &a["gen_ai.request.temperature"],
            &a["gen_ai.usage.total_tokens"]
        ),
        (
            &json!("RateLimitError"),
            &json!("openai"),
            &json!("gpt-4o"),
            &json!(0.7),
            &json!(0)
        )
    );
    assert_eq!(of(&r, "prompt").len(), 1);
    assert_eq!(of(&r, "completion").len(), 0);
    assert_eq!(of(&r, "trace")[0]["total_tokens"], json!(0));
}

#[test]
fn tracer_counts_an_embeddings_call_once_when_a_parent_returns_it() {
    let f = fixture("openai-embeddings");
    let response = f["response"].to_string();
    let mut t = tracer(r#"{"storage":"memory"}"#);
    let outer = t.define("embed", "span", "");
    let inner = t.define("openai.embeddings.create", "llm", "");
    let root = t.start(outer, NONE, 1_000.0, r#"["Paris weather"]"#, None);
    let h = t.start(inner, root, 1_001.0, &input(&f), None);
    t.declare_llm(h, declared("openai", "embeddings", None, None, None));
    t.stream_chunk(h, &response);
    t.end(h, 1_002.0, &response, None);
    t.end(root, 1_003.0, &response, None);
    let r = records(&mut t);
    assert_eq!(of(&r, "trace")[0]["total_tokens"], json!(4));
    let spans = of(&r, "span");
    assert_eq!(
        spans
            .iter()
            .map(|s| (
                s["kind"].clone(),
                s["attributes"].get("gen_ai.usage.total_tokens").cloned()
            ))
            .collect::<Vec<_>>(),
        vec![(json!("span"), None), (json!("llm"), Some(json!(4)))]
    );
    assert_eq!(
        spans[1]["attributes"]["gen_ai.operation.name"],
        json!("embeddings")
    );
    assert_eq!(of(&r, "prompt").len(), 2);
}

#[test]
fn openai_chat_stream_with_two_choices() {
    let chunk = |index: u64, content: Option<&str>, finish: Option<&str>| {
        json!({"id": "chatcmpl-n2", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4.1-mini",
               "choices": [{"index": index, "delta": content.map(|c| json!({"content": c})).unwrap_or(json!({})), "finish_reason": finish}]})
        .to_string()
    };
    let chunks = [
        chunk(1, Some("Oui"), None),
        chunk(0, Some("Yes"), None),
        chunk(0, Some("."), Some("stop")),
        chunk(1, Some(" !"), Some("length")),
        json!({"id": "chatcmpl-n2", "object": "chat.completion.chunk", "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}}).to_string(),
    ];
    let call = stream_of(&chunks).finish("").call(None).unwrap();
    assert_eq!(
        call.completions,
        vec![done("Yes.", Some("stop")), done("Oui !", Some("length"))]
    );
    assert_eq!(call.usage.total, 9);
    // The same response, not streamed, reads the same.
    let whole = json!({"id": "chatcmpl-n2", "object": "chat.completion", "model": "gpt-4.1-mini", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "Yes."}, "finish_reason": "stop"},
        {"index": 1, "message": {"role": "assistant", "content": "Oui !"}, "finish_reason": "length"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}});
    let parsed = parse_call(None, &whole.to_string()).unwrap();
    assert_eq!(
        (parsed.completions, parsed.usage),
        (call.completions, call.usage)
    );
}
