//! The tracer on the host: exact records for the docs example, parent links, sessions, token
//! counting, sampling and bounds.

use agensight_wasm::config::parse;
use agensight_wasm::core::Core;
use agensight_wasm::model::{ErrorInfo, SessionSpec};
use agensight_wasm::tracer::{NONE, NOOP};
use serde_json::{json, Value};

fn tracer(options: &str) -> Core {
    Core::new(parse(options).unwrap(), &[42; 32], 1_000.0)
}

/// The local-store lines as `(type, data)`, with span attributes and metadata parsed.
fn records(t: &mut Core) -> Vec<(String, Value)> {
    t.take_local()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            let mut data = v["data"].clone();
            for k in ["attributes", "metadata"] {
                if let Some(Value::String(s)) = data.get(k) {
                    data[k] = serde_json::from_str(s).unwrap();
                }
            }
            (v["type"].as_str().unwrap().to_string(), data)
        })
        .collect()
}

fn completion(id: &str, tokens: u64) -> String {
    json!({
        "id": id, "object": "chat.completion", "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": tokens - 4, "completion_tokens": 4, "total_tokens": tokens}
    })
    .to_string()
}

#[test]
fn docs_example_records() {
    let mut t = tracer(r#"{"name":"chat-service","session":"user_456"}"#);
    let main = t.define("multi_agent_chat", "trace", r#"{"plan":"pro"}"#);
    let llm = t.define("llm", "span", "");
    let root = t.start(
        main,
        NONE,
        1_000.0,
        "[]",
        Some(SessionSpec {
            id: "xyz123".into(),
            name: Some("multi agent chat".into()),
            user_id: Some("123".into()),
        }),
    );
    let a = t.start(
        llm,
        root,
        1_010.0,
        r#"[[{"role":"user","content":"Plan a trip"}]]"#,
        None,
    );
    assert!(
        !t.end(a, 1_510.0, &completion("chatcmpl-a", 30), None)
            .handed_on(),
        "nothing is written before the root ends"
    );
    let b = t.start(
        llm,
        root,
        1_520.0,
        r#"[[{"role":"user","content":"And the weather?"}]]"#,
        None,
    );
    assert!(!t
        .end(b, 2_020.0, &completion("chatcmpl-b", 20), None)
        .handed_on());
    assert!(t
        .end(root, 2_500.0, &completion("chatcmpl-b", 20), None)
        .handed_on());

    let r = records(&mut t);
    let types: Vec<&str> = r.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        types,
        [
            "session",
            "trace",
            "span",
            "span",
            "prompt",
            "completion",
            "tool",
            "span",
            "prompt",
            "completion",
            "tool"
        ]
    );
    let (trace_id, root_id) = (
        r[1].1["id"].as_str().unwrap(),
        r[2].1["id"].as_str().unwrap(),
    );
    assert_eq!(
        r[0].1,
        json!({"id": "xyz123", "project_id": null, "started_at": 1, "session_name": "multi agent chat", "user_id": "123", "metadata": {}, "mode": "local"})
    );
    assert_eq!(
        r[1].1,
        json!({"id": trace_id, "project_id": null, "name": "multi_agent_chat", "started_at": 1, "ended_at": 2.5,
        "session_id": "xyz123", "metadata": {"plan": "pro"}, "mode": "local", "total_tokens": 50})
    );
    // Root span: the trace() call itself; it returned the LLM response it got, which is not
    // counted or recorded as a second LLM call.
    let root_span = &r[2].1;
    assert_eq!(
        (
            root_span["parent_id"].clone(),
            root_span["kind"].clone(),
            root_span["name"].clone()
        ),
        (Value::Null, json!("trace"), json!("multi_agent_chat"))
    );
    assert_eq!(
        root_span["attributes"].get("gen_ai.usage.total_tokens"),
        None
    );
    assert_eq!(root_span["duration"], json!(1.5));
    let first = &r[3].1;
    assert_eq!(first["parent_id"], json!(root_id));
    assert_eq!(first["trace_id"], json!(trace_id));
    assert_eq!(
        (
            first["kind"].as_str(),
            first["status"].as_str(),
            first["duration"].as_f64()
        ),
        (Some("llm"), Some("ok"), Some(0.5))
    );
    let a = &first["attributes"];
    assert_eq!(a["service.name"], json!("chat-service"));
    assert_eq!(
        a["input"],
        json!([[{"role": "user", "content": "Plan a trip"}]])
    );
    assert_eq!(
        (
            a["gen_ai.usage.input_tokens"].clone(),
            a["gen_ai.usage.output_tokens"].clone(),
            a["gen_ai.usage.total_tokens"].clone()
        ),
        (json!(26), json!(4), json!(30))
    );
    assert_eq!(a["gen_ai.response.model"], json!("gpt-4o-mini"));
    assert_eq!(
        r[4].1,
        json!({"span_id": first["id"], "role": "user", "content": "Plan a trip", "message_index": 0})
    );
    assert_eq!(
        r[5].1,
        json!({"span_id": first["id"], "role": "assistant", "content": "", "finish_reason": "tool_calls", "total_tokens": 30, "prompt_tokens": 26, "completion_tokens": 4})
    );
    assert_eq!(
        r[6].1,
        json!({"span_id": first["id"], "name": "get_weather", "arguments": "{\"city\":\"Paris\"}"})
    );
    assert_eq!(r[7].1["parent_id"], json!(root_id));
}

#[test]
fn errors_nesting_and_parents() {
    let mut t = tracer("{}");
    let d = t.define("work", "", "");
    let root = t.start(d, NONE, 0.0, "", None);
    let child = t.start(d, root, 1.0, "", None);
    let grandchild = t.start(d, child, 2.0, "", None);
    t.end(
        grandchild,
        3.0,
        "",
        Some(ErrorInfo {
            name: "TypeError".into(),
            message: "boom".into(),
            stack: "TypeError: boom\n    at x".into(),
        }),
    );
    t.end(child, 4.0, "1", None);
    t.end(root, 5.0, "", None);
    let r = records(&mut t);
    let spans: Vec<&Value> = r
        .iter()
        .filter(|(k, _)| k == "span")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(spans.len(), 3);
    assert_eq!(spans[1]["parent_id"], spans[0]["id"]);
    assert_eq!(spans[2]["parent_id"], spans[1]["id"]);
    assert_eq!(spans[2]["status"], json!("error"));
    assert_eq!(spans[2]["attributes"]["error.type"], json!("TypeError"));
    assert_eq!(spans[2]["attributes"]["error.message"], json!("boom"));
    assert_eq!(
        spans[2]["attributes"]["error.stack"],
        json!("TypeError: boom\n    at x")
    );
    assert_eq!(spans[1]["attributes"]["output"], json!(1));
    assert_eq!(
        spans[0]["attributes"].get("output"),
        None,
        "empty output means not captured"
    );
}

#[test]
fn spans_are_recorded_in_start_order_whatever_order_they_end_in() {
    // Every order in which four spans under a root can end (a, b under the root; a1, a2
    // under a), the root last: the records keep start order, root first.
    let names = ["a", "a1", "a2", "b"];
    let mut orders: Vec<Vec<usize>> = vec![vec![]];
    for _ in 0..names.len() {
        let mut next = vec![];
        for o in &orders {
            for i in (0..names.len()).filter(|i| !o.contains(i)) {
                next.push([&o[..], &[i]].concat());
            }
        }
        orders = next;
    }
    assert_eq!(orders.len(), 24);
    for order in orders {
        let mut t = tracer("{}");
        let defs: Vec<u32> = ["root", "a", "a1", "a2", "b"]
            .iter()
            .map(|n| t.define(n, "", ""))
            .collect();
        let root = t.start(defs[0], NONE, 0.0, "", None);
        let a = t.start(defs[1], root, 1.0, "", None);
        let a1 = t.start(defs[2], a, 2.0, "", None);
        let a2 = t.start(defs[3], a, 3.0, "", None);
        let b = t.start(defs[4], root, 4.0, "", None);
        let handles = [a, a1, a2, b];
        for (k, &i) in order.iter().enumerate() {
            t.end(handles[i], 10.0 + k as f64, "", None);
        }
        t.end(root, 20.0, "", None);
        let got: Vec<String> = records(&mut t)
            .iter()
            .filter(|(k, _)| k == "span")
            .map(|(_, v)| v["name"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(got, ["root", "a", "a1", "a2", "b"], "end order {order:?}");
    }
}

#[test]
fn session_override_is_for_that_trace_only() {
    let mut t = tracer(r#"{"session":{"id":"init-s","user_id":"u1"}}"#);
    let d = t.define("t", "trace", "");
    let h = t.start(
        d,
        NONE,
        0.0,
        "",
        Some(SessionSpec {
            id: "own".into(),
            name: None,
            user_id: None,
        }),
    );
    t.end(h, 1.0, "", None);
    let h = t.start(d, NONE, 2.0, "", None);
    t.end(h, 3.0, "", None);
    let h = t.start(d, NONE, 4.0, "", None);
    t.end(h, 5.0, "", None);
    let r = records(&mut t);
    let sessions: Vec<&str> = r
        .iter()
        .filter(|(k, _)| k == "trace")
        .map(|(_, v)| v["session_id"].as_str().unwrap())
        .collect();
    assert_eq!(sessions, ["own", "init-s", "init-s"]);
    let session_records: Vec<&str> = r
        .iter()
        .filter(|(k, _)| k == "session")
        .map(|(_, v)| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        session_records,
        ["own", "init-s"],
        "each session recorded once"
    );
}

#[test]
fn late_child_joins_its_trace() {
    let mut t = tracer("{}");
    let d = t.define("x", "", "");
    let root = t.start(d, NONE, 0.0, "", None);
    let early = t.start(d, root, 1.0, "", None);
    assert!(t.end(root, 2.0, "", None).handed_on());
    let first = records(&mut t);
    let trace_id = first[0].1["id"].clone();
    // `early` is still open; a child started from the ended root after everything ended:
    t.end(early, 3.0, "", None);
    let late = t.start(d, root, 10.0, "", None);
    t.end(late, 11.0, &completion("chatcmpl-late", 7), None);
    let r = records(&mut t);
    let spans: Vec<&Value> = r
        .iter()
        .filter(|(k, _)| k == "span")
        .map(|(_, v)| v)
        .collect();
    assert_eq!(spans.len(), 2);
    assert!(spans
        .iter()
        .all(|s| s["trace_id"] == trace_id && s["parent_id"] == first[1].1["id"]));
    assert!(
        !r.iter().any(|(k, _)| k == "trace"),
        "the trace record is not written twice"
    );
    let update = r.iter().find(|(k, _)| k == "trace_update").unwrap();
    assert_eq!(update.1, json!({"id": trace_id, "total_tokens": 7}));
}

#[test]
fn sampling_and_bounds() {
    let mut t = tracer(r#"{"sampleRate":0}"#);
    let d = t.define("x", "", "");
    assert_eq!(t.start(d, NONE, 0.0, "", None), NOOP);
    assert_eq!(
        t.start(d, NOOP, 0.0, "", None),
        NOOP,
        "children of unsampled traces are not recorded"
    );
    assert_eq!(t.stats().unsampled, 1);

    let mut t = tracer(r#"{"sampleRate":0.5}"#);
    let d = t.define("x", "", "");
    let kept = (0..10_000).filter(|_| {
        let h = t.start(d, NONE, 0.0, "", None);
        t.end(h, 1.0, "", None);
        h != NOOP
    });
    let kept = kept.count();
    assert!((4_500..5_500).contains(&kept), "{kept}");

    let mut t = tracer("{}");
    let d = t.define("x", "", "");
    let root = t.start(d, NONE, 0.0, "", None);
    for _ in 1..agensight_wasm::tracer::MAX_OPEN_SPANS {
        assert_ne!(t.start(d, root, 0.0, "", None), NOOP);
    }
    assert_eq!(t.start(d, root, 0.0, "", None), NOOP);
    assert_eq!(t.stats().dropped, 1);
}

#[test]
fn stale_and_unknown_handles_are_harmless() {
    let mut t = tracer("{}");
    let d = t.define("x", "", "");
    let h = t.start(d, NONE, 0.0, "", None);
    assert!(t.end(h, 1.0, "", None).handed_on());
    assert!(
        !t.end(h, 2.0, "", None).handed_on(),
        "ending twice does nothing"
    );
    assert!(!t.end(12345, 2.0, "", None).handed_on());
    assert_eq!(t.start(999, NONE, 0.0, "", None), NOOP, "unknown def");
    assert_eq!(t.define("x", "", ""), d, "same wrapper facts, same def");
}

#[test]
fn captured_values_are_clamped_and_redacted() {
    let mut t = tracer(r#"{"maxFieldBytes":100,"token":"tok-secret-1234"}"#);
    let d = t.define("x", "", "");
    let big = format!("[\"{}\"]", "a".repeat(1000));
    let h = t.start(d, NONE, 0.0, &big, None);
    t.end(
        h,
        1.0,
        r#"{"headers":{"authorization":"Bearer abcdefghijkl"},"note":"uses tok-secret-1234"}"#,
        None,
    );
    let r = records(&mut t);
    let a = &r[1].1["attributes"];
    let input = serde_json::to_string(&a["input"]).unwrap();
    assert!(
        input.len() <= 100 && input.len() > 90 && input.ends_with("…\"]"),
        "{input}"
    );
    assert_eq!(
        a["output"],
        json!({"headers": {"authorization": "[REDACTED]"}, "note": "uses [REDACTED]"})
    );
    assert_eq!(a["truncated"], json!(true));
}
