//! A tool span is linked to the model's tool call that invoked it: the tracer finds the call
//! among the tool calls of the latest earlier LLM span under the tool's parent (by name, and
//! by arguments when the model called the tool more than once) and the OTLP span carries its
//! id as `gen_ai.tool.call.id` and OpenInference's `tool.id`.

use agensight_wasm::config::parse;
use agensight_wasm::encode::otlp_json;
use agensight_wasm::model::Batch;
use agensight_wasm::tracer::{Tracer, NONE};
use serde_json::{json, Value};

/// An OpenAI chat completion asking for `calls` as `(id, name, arguments)`.
fn completion(calls: &[(&str, &str, &str)]) -> String {
    let calls: Vec<Value> = calls
        .iter()
        .map(|(id, name, args)| {
            json!({"id": id, "type": "function", "function": {"name": name, "arguments": args}})
        })
        .collect();
    json!({
        "id": "chatcmpl-1", "object": "chat.completion", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
            "tool_calls": calls}, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14}
    })
    .to_string()
}

/// Runs one trace: an LLM span answering `calls`, then one tool span per `(name, input)`
/// (all under the root), and returns the tool spans' `(name, tool_call_id)` and the batch.
fn run(
    calls: &[(&str, &str, &str)],
    tools: &[(&str, &str)],
) -> (Vec<(String, Option<String>)>, Batch) {
    let mut t = Tracer::new(parse("{}").unwrap(), &[7; 32], 0.0);
    let main = t.define("main", "trace", "");
    let llm = t.define("llm", "span", "");
    let root = t.start(main, NONE, 1.0, "[]", None);
    let l = t.start(llm, root, 2.0, "[]", None);
    assert!(t.end(l, 3.0, &completion(calls), None).is_none());
    for (i, (name, input)) in tools.iter().enumerate() {
        let def = t.define(name, "tool", "");
        let h = t.start(def, root, 4.0 + i as f64, input, None);
        assert!(t.end(h, 4.5 + i as f64, "\"ok\"", None).is_none());
    }
    let (batch, part) = t
        .end(root, 10.0, "", None)
        .expect("the root hands on the trace");
    assert!(!part);
    let linked = batch
        .spans
        .iter()
        .filter(|s| &*s.kind == "tool")
        .map(|s| {
            (
                s.name.to_string(),
                s.tool_call_id.as_deref().map(String::from),
            )
        })
        .collect();
    (linked, batch)
}

fn ids(v: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
    v.iter()
        .map(|(n, id)| (n.to_string(), id.map(String::from)))
        .collect()
}

#[test]
fn one_call_links_its_tool_span() {
    let (linked, batch) = run(
        &[("call_w", "get_weather", r#"{"city":"Paris"}"#)],
        &[("get_weather", r#"[{"city":"Paris"}]"#)],
    );
    assert_eq!(linked, ids(&[("get_weather", Some("call_w"))]));
    // Over OTLP: the GenAI name and OpenInference's, on the tool span only.
    let body: Value = serde_json::from_str(&otlp_json::encode(&[batch], "svc", "dev")).unwrap();
    let spans = body["resourceSpans"][0]["scopeSpans"][0]["spans"]
        .as_array()
        .unwrap();
    let with_id: Vec<(&str, Vec<(&str, &str)>)> = spans
        .iter()
        .map(|s| {
            let attrs = s["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|a| a["key"] == "gen_ai.tool.call.id" || a["key"] == "tool.id")
                .map(|a| {
                    (
                        a["key"].as_str().unwrap(),
                        a["value"]["stringValue"].as_str().unwrap(),
                    )
                })
                .collect();
            (s["name"].as_str().unwrap(), attrs)
        })
        .collect();
    assert_eq!(
        with_id,
        [
            ("main", vec![]),
            ("llm", vec![]),
            (
                "get_weather",
                vec![("gen_ai.tool.call.id", "call_w"), ("tool.id", "call_w")]
            ),
        ]
    );
}

#[test]
fn two_calls_of_one_tool_are_told_apart_by_their_arguments() {
    // The tools run in the other order than the model listed the calls; the arguments are
    // compared as values (key order and spacing differ).
    let (linked, _) = run(
        &[
            ("call_p", "get_weather", r#"{"city":"Paris","unit":"c"}"#),
            ("call_r", "get_weather", r#"{"city": "Rome", "unit": "c"}"#),
        ],
        &[
            ("get_weather", r#"[{"unit":"c","city":"Rome"}]"#),
            ("get_weather", r#"[{"city":"Paris","unit":"c"}]"#),
        ],
    );
    assert_eq!(
        linked,
        ids(&[
            ("get_weather", Some("call_r")),
            ("get_weather", Some("call_p"))
        ])
    );
}

#[test]
fn a_tool_span_without_a_matching_call_gets_no_id() {
    let (linked, _) = run(
        &[("call_w", "get_weather", r#"{"city":"Paris"}"#)],
        &[
            // Another tool's name: no call of it.
            ("get_time", r#"[{"city":"Paris"}]"#),
            // Two calls asked for get_weather once: the second span finds its call taken.
            ("get_weather", r#"[{"city":"Paris"}]"#),
            ("get_weather", r#"[{"city":"Paris"}]"#),
        ],
    );
    assert_eq!(
        linked,
        ids(&[
            ("get_time", None),
            ("get_weather", Some("call_w")),
            ("get_weather", None),
        ])
    );
}

#[test]
fn several_calls_and_arguments_matching_none_give_no_id() {
    let (linked, _) = run(
        &[
            ("call_p", "get_weather", r#"{"city":"Paris"}"#),
            ("call_r", "get_weather", r#"{"city":"Rome"}"#),
        ],
        &[("get_weather", r#"[{"city":"Oslo"}]"#)],
    );
    assert_eq!(linked, ids(&[("get_weather", None)]));
}
