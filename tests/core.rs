//! The core behind the new boundary calls, on the host: a definition's session (`defineSpan`),
//! a typed LLM declaration (`declareLlm`) and a declared call ended with its whole response,
//! one poll per export round (`exportPoll`), and a request as head plus body bytes
//! (`exportHead`, `exportBody`). Each is checked against what the older calls give.

use agensight_wasm::config::parse;
use agensight_wasm::core::{Core, Ended, Poll};
use agensight_wasm::export::policy::Outcome;
use agensight_wasm::llm::Declaration;
use agensight_wasm::model::SessionSpec;
use agensight_wasm::tracer::NONE;
use serde_json::{json, Value};
mod common;
use common::{of, records};

fn core(options: &str) -> Core {
    Core::new(parse(options).unwrap(), &[5; 32], 1_000.0)
}

#[test]
fn a_definitions_session_goes_to_each_trace_it_starts_and_no_other() {
    let mut c = core(r#"{"session":"from-init"}"#);
    let session = r#"{"id":"xyz123","name":"multi agent chat","user_id":"123"}"#;
    let chat = c.define_span("chat", "trace", "", session).unwrap();
    assert_eq!(
        c.define_span("chat", "trace", "", session).unwrap(),
        chat,
        "the same definition twice is one def"
    );
    let plain = c.define_span("chat", "trace", "", "").unwrap();
    assert_ne!(plain, chat, "a session makes another definition");
    let child = c.define("step", "span", "");
    for (i, def) in [chat, plain, chat].into_iter().enumerate() {
        let t = i as f64 * 10.0;
        let root = c.start(def, NONE, 1_000.0 + t, "[]", None);
        let h = c.start(child, root, 1_001.0 + t, "[]", None);
        c.end(h, 1_002.0 + t, "null", None);
        c.end(root, 1_003.0 + t, "null", None);
    }
    // An explicit session (startWithSession) still wins over the definition's.
    let root = c.start(
        chat,
        NONE,
        1_100.0,
        "[]",
        Some(SessionSpec::from_json(r#""explicit""#).unwrap()),
    );
    c.end(root, 1_101.0, "null", None);
    let r = records(&mut c);
    let traces: Vec<&Value> = of(&r, "trace")
        .into_iter()
        .map(|t| &t["session_id"])
        .collect();
    assert_eq!(
        traces,
        [
            &json!("xyz123"),
            &json!("from-init"),
            &json!("xyz123"),
            &json!("explicit")
        ]
    );
    let sessions = of(&r, "session");
    assert_eq!(
        sessions.len(),
        3,
        "each session recorded once: {sessions:?}"
    );
    assert_eq!(
        (
            &sessions[0]["id"],
            &sessions[0]["session_name"],
            &sessions[0]["user_id"]
        ),
        (&json!("xyz123"), &json!("multi agent chat"), &json!("123"))
    );
    assert_eq!(sessions[1]["id"], json!("from-init"));
}

#[test]
fn a_bad_session_is_refused_with_the_check_session_error() {
    let mut c = core("{}");
    for bad in [r#"{"name":"no id"}"#, "[1]", "{torn"] {
        let want = SessionSpec::from_json(bad).unwrap_err();
        let got = c.define_span("chat", "trace", "", bad).unwrap_err();
        assert_eq!(got, want, "{bad}");
        assert_eq!(got.code, "invalid_option");
    }
    assert_eq!(
        SessionSpec::from_json(r#"{"name":"no id"}"#)
            .unwrap_err()
            .message,
        "trace(): session needs a non-empty `id`: a string, or { id, name?, user_id? }"
    );
}

const RESPONSE: &str = r#"{"id":"chatcmpl-9","object":"chat.completion","model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10}}"#;
const REQUEST: &str =
    r#"[{"model":"gpt-4o","temperature":0.2,"messages":[{"role":"user","content":"Hi"}]}]"#;

/// What wrapOpenAI declares for [`REQUEST`].
fn gpt4o_chat() -> Declaration {
    Declaration {
        system: "openai".into(),
        operation: "chat".into(),
        model: Some("gpt-4o".into()),
        temperature: Some(0.2),
        max_tokens: None,
    }
}

/// A core after one declared OpenAI chat call ended with `output` as its result.
fn declared_core(options: &str, output: &str) -> Core {
    let mut c = core(options);
    let def = c.define("openai.chat.completions.create", "llm", "");
    let h = c.start(def, NONE, 1_000.0, REQUEST, None);
    c.declare_llm(h, gpt4o_chat());
    assert_eq!(c.end(h, 1_500.0, output, None), Ended::Emitted);
    c
}

fn declared_call(options: &str, output: &str) -> Vec<(String, Value)> {
    records(&mut declared_core(options, output))
}

#[test]
fn a_declared_call_ended_with_its_whole_response_records_it_once() {
    let typed = declared_call("{}", RESPONSE);
    // The same call with the response also given as a chunk, and as the output.
    let mut c = core("{}");
    let def = c.define("openai.chat.completions.create", "llm", "");
    let h = c.start(def, NONE, 1_000.0, REQUEST, None);
    c.declare_llm(h, gpt4o_chat());
    c.stream_chunk(h, RESPONSE);
    c.end(h, 1_500.0, RESPONSE, None);
    let old = records(&mut c);
    let strip_ids = |r: &[(String, Value)]| -> Vec<(String, Value)> {
        r.iter()
            .map(|(k, v)| {
                let mut v = v.clone();
                for id in ["id", "trace_id", "span_id"] {
                    if v.get(id).is_some() {
                        v[id] = json!("-");
                    }
                }
                (k.clone(), v)
            })
            .collect()
    };
    assert_eq!(
        strip_ids(&typed),
        strip_ids(&old),
        "the same records either way"
    );
    let span = of(&typed, "span")[0];
    let a = &span["attributes"];
    assert_eq!(
        (
            &span["kind"],
            &a["gen_ai.usage.total_tokens"],
            &a["gen_ai.response.id"],
            &a["gen_ai.request.temperature"]
        ),
        (&json!("llm"), &json!(10), &json!("chatcmpl-9"), &json!(0.2))
    );
    assert_eq!(of(&typed, "completion")[0]["content"], json!("Hello there"));
    assert_eq!(of(&typed, "trace")[0]["total_tokens"], json!(10));
}

#[test]
fn with_output_capture_off_a_declared_call_still_counts_its_tokens() {
    let r = declared_call(r#"{"capture":{"output":false}}"#, RESPONSE);
    let span = of(&r, "span")[0];
    assert_eq!(
        span["attributes"].get("output"),
        None,
        "the output is not kept"
    );
    assert_eq!(span["attributes"]["gen_ai.usage.total_tokens"], json!(10));
    assert_eq!(
        of(&r, "completion")[0]["content"],
        json!(""),
        "texts follow the capture rules"
    );
}

#[test]
fn a_declared_call_ended_with_something_else_is_a_call_without_a_response() {
    let r = declared_call(
        "{}",
        r#"{"status":500,"body":"[read by the caller: asResponse()]"}"#,
    );
    let a = &of(&r, "span")[0]["attributes"];
    assert_eq!(
        (
            &a["gen_ai.system"],
            &a["gen_ai.request.model"],
            &a["gen_ai.usage.total_tokens"],
            &a["output"]["status"]
        ),
        (&json!("openai"), &json!("gpt-4o"), &json!(0), &json!(500))
    );
    assert_eq!(of(&r, "completion").len(), 0);
}

/// A prod OTLP core with `n` one-span traces waiting.
fn exporting(options: &str, n: usize) -> Core {
    let mut c = core(options);
    let d = c.define("job", "", "");
    for i in 0..n {
        let h = c.start(d, NONE, i as f64, "", None);
        c.end(h, i as f64 + 1.0, "", None);
    }
    c
}

#[test]
fn one_poll_gives_what_dropped_warnings_and_wake_gave() {
    let opts = r#"{"mode":"prod","exporter":"otlp","queue":{"maxJobs":1,"maxBatchSpans":1}}"#;
    let (mut a, mut b) = (exporting(opts, 3), exporting(opts, 3));
    let (ida, idb) = (
        a.export_next(0.0, true).unwrap(),
        b.export_next(0.0, true).unwrap(),
    );
    assert_eq!(ida, idb, "same seed, same ids");
    for c in [&mut a, &mut b] {
        assert!(!c.export_complete(ida, Outcome::Network("connection refused".into()), 10.0));
    }
    let poll = a.export_poll(10.0);
    let (dropped, warnings, wake) = (b.export_dropped(), b.export_warnings(), b.export_wake(10.0));
    assert_eq!(
        poll,
        Poll {
            dropped,
            warnings,
            wake_ms: wake,
            load: vec![]
        }
    );
    assert_eq!(poll.dropped.len(), 2, "two of three jobs over maxJobs");
    assert!(poll.warnings[0].contains("could not be reached: connection refused; retrying in"));
    let v: Value = serde_json::from_str(&poll.to_json()).unwrap();
    assert_eq!(v["dropped"], json!(poll.dropped));
    assert_eq!(v["warnings"], json!(poll.warnings));
    assert_eq!(v["wake"].as_f64(), poll.wake_ms);
    let empty = a.export_poll(10.0);
    assert_eq!(
        (empty.dropped.len(), empty.warnings.len()),
        (0, 0),
        "taken once"
    );
    assert_eq!(
        core("{}").export_poll(0.0).to_json(),
        r#"{"dropped":[],"warnings":[],"wake":-1,"load":[]}"#
    );
}

#[test]
fn a_request_is_its_head_and_its_body_bytes() {
    let mut c = exporting(
        r#"{"mode":"prod","exporter":"otlp","protocol":"http/json","headers":{"x-tenant":"a\"b"},"queue":{"timeoutMs":1234}}"#,
        2,
    );
    let id = c.export_next(0.0, true).unwrap();
    let req = c.export_request(id).unwrap();
    let head: Value = serde_json::from_str(&req.head_json()).unwrap();
    assert_eq!(
        head,
        json!({"url": "http://localhost:4318/v1/traces", "method": "POST",
               "headers": [["content-type", "application/json"], ["x-tenant", "a\"b"]], "timeoutMs": 1234})
    );
    // The old envelope carried the same request with the body inside.
    let old: Value = serde_json::from_str(&req.to_json()).unwrap();
    assert_eq!(
        (&old["url"], &old["headers"], &old["timeoutMs"]),
        (&head["url"], &head["headers"], &head["timeoutMs"])
    );
    let body: Value = serde_json::from_slice(req.body).unwrap();
    assert_eq!(
        old["body"].as_str().unwrap().as_bytes(),
        req.body,
        "the body bytes are the wire bytes"
    );
    assert_eq!(
        body["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert!(c.export_complete(
        id,
        Outcome::Status {
            code: 200,
            retry_after_ms: None,
            body: String::new()
        },
        1.0
    ));
    assert!(
        c.export_request(id).is_none(),
        "a finished job has no request"
    );
}

#[test]
fn a_declared_whole_response_keeps_its_identifying_members_and_usage_first() {
    // The response as an SDK may build it: usage and id last. A clamped output keeps what
    // comes first, so the core orders them (the JS no longer does).
    let late = r#"{"choices":[{"index":0,"message":{"role":"assistant","content":"Hello there"},"finish_reason":"stop"}],"usage":{"prompt_tokens":7,"completion_tokens":3,"total_tokens":10},"model":"gpt-4o-2024-08-06","object":"chat.completion","id":"chatcmpl-9"}"#;
    let mut c = declared_core("{}", late);
    let text = c.take_local();
    let span = text
        .lines()
        .find(|l| l.contains(r#""type":"span""#))
        .unwrap();
    let at = |s: &str| span.find(s).unwrap_or_else(|| panic!("{s} in {span}"));
    assert!(at("chatcmpl-9") < at("choices"), "{span}");
    assert!(at("total_tokens") < at("choices"), "{span}");
}
