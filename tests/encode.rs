//! The wire bytes of both JSON encoders, pinned: a batch with every kind of content (a session,
//! an LLM call with all its GenAI attributes, a tool span, an error, truncation, metadata,
//! escapes) encoded as Agensight records and as an OTLP/HTTP JSON body, compared byte for byte
//! with tests/fixtures/encode/. A change to either is a change on the wire: when it is meant,
//! rewrite the files with `UPDATE_ENCODE_FIXTURES=1 cargo test --test encode` and review the diff.

use agensight_wasm::config::Mode;
use agensight_wasm::encode::agensight::{Encoder, Target};
use agensight_wasm::encode::otlp_json;
use agensight_wasm::ids::{SpanId, TraceId};
use agensight_wasm::model::{
    Batch, Completion, ErrorInfo, FinishedSpan, LlmCall, Message, Session, SessionSpec, ToolCall,
    TraceInfo, Usage,
};
use std::path::Path;
use std::rc::Rc;

fn span(id: u64, parent: Option<u64>, name: &str, kind: &str) -> FinishedSpan {
    FinishedSpan {
        span_id: SpanId(id),
        parent: parent.map(SpanId),
        name: name.into(),
        kind: kind.into(),
        start_ms: 1_700_000_000_000.0 + id as f64,
        end_ms: 1_700_000_000_500.25 + id as f64,
        input: None,
        output: None,
        error: None,
        metadata: None,
        truncated: false,
        llm: None,
        tool_call_id: None,
        seq: id,
    }
}

fn batch() -> Batch {
    let trace = TraceInfo {
        trace_id: TraceId(0x4bf92f3577b34da6a3ce929d0e0e4736),
        name: "multi_agent_chat".into(),
        start_ms: 1_700_000_000_001.0,
        end_ms: 1_700_000_002_000.5,
        session: Some(Rc::new(Session {
            spec: SessionSpec {
                id: "xyz123".into(),
                name: Some("multi \"agent\" chat".into()),
                user_id: Some("123".into()),
            }
            .into(),
            started_ms: 1_700_000_000_001.0,
        })),
        metadata: Some(r#"{"plan":"pro"}"#.into()),
        total_tokens: 30,
    };
    let mut root = span(1, None, "multi_agent_chat", "trace");
    root.input = Some(r#"["hi\n"]"#.into());
    root.output = Some(r#"{"ok":true}"#.into());
    let mut llm = span(2, Some(1), "llm", "llm");
    llm.input =
        Some(r#"[{"model":"gpt-4o","messages":[{"role":"user","content":"weather?"}]}]"#.into());
    llm.metadata = Some(r#"{"step":1}"#.into());
    llm.llm = Some(Box::new(LlmCall {
        system: "openai".into(),
        operation: "chat".into(),
        request_model: Some("gpt-4o".into()),
        response_model: Some("gpt-4o-2024-08-06".into()),
        response_id: Some("chatcmpl-1".into()),
        usage: Usage {
            input: 20,
            output: 10,
            total: 30,
            cache_read: Some(4),
            cache_creation: Some(1),
            reasoning: Some(2),
        },
        prompts: vec![
            Message {
                role: "system".into(),
                content: "be brief".into(),
            },
            Message {
                role: "user".into(),
                content: "weather?".into(),
            },
        ],
        completions: vec![
            Completion {
                role: "assistant".into(),
                content: "".into(),
                finish_reason: Some("tool_calls".into()),
            },
            Completion {
                role: "assistant".into(),
                content: "Sunny \u{2600}".into(),
                finish_reason: None,
            },
        ],
        tool_calls: vec![ToolCall {
            id: Some("call_1".into()),
            name: "get_weather".into(),
            arguments: r#"{"city":"Paris"}"#.into(),
        }],
        temperature: Some(0.7),
        max_tokens: Some(100),
    }));
    let mut tool = span(3, Some(2), "get_weather", "tool");
    tool.truncated = true;
    tool.tool_call_id = Some("call_1".into());
    tool.output = Some(r#""cut…""#.into());
    let mut failed = span(4, Some(1), "fails", "span");
    failed.error = Some(ErrorInfo {
        name: "TypeError".into(),
        message: "x is \"undefined\"".into(),
        stack: "TypeError: x\n    at f (a.js:1:2)".into(),
    });
    // An embeddings call: no response id, no completions, no request parameters.
    let mut embed = span(5, Some(1), "embed", "llm");
    embed.llm = Some(Box::new(LlmCall {
        system: "openai".into(),
        operation: "embeddings".into(),
        usage: Usage {
            input: 8,
            output: 0,
            total: 8,
            ..Default::default()
        },
        prompts: vec![Message {
            role: "user".into(),
            content: "text".into(),
        }],
        ..Default::default()
    }));
    Batch {
        trace,
        trace_is_new: true,
        session_is_new: true,
        spans: vec![root, llm, tool, failed, embed],
    }
}

fn agensight(target: Target, project_id: Option<&str>) -> String {
    let mut out = String::new();
    let enc = Encoder {
        mode: Mode::Dev,
        project_id,
        service: "chat-service",
        target,
    };
    enc.encode(&batch(), |kind, data| {
        out.push_str(kind.as_str());
        out.push(' ');
        out.push_str(data);
        out.push('\n');
    });
    out
}

fn check(name: &str, got: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/encode")
        .join(name);
    if std::env::var_os("UPDATE_ENCODE_FIXTURES").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if got != want {
        let at = got
            .bytes()
            .zip(want.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(got.len().min(want.len()));
        panic!(
            "{name} changed at byte {at}:\n got: {}\nwant: {}",
            &got[at.saturating_sub(80)..(at + 80).min(got.len())],
            &want[at.saturating_sub(80)..(at + 80).min(want.len())]
        );
    }
}

#[test]
fn agensight_records_for_the_cloud_are_pinned() {
    check(
        "agensight-cloud.txt",
        &agensight(Target::Cloud, Some("p-1")),
    );
}

#[test]
fn agensight_records_for_the_local_store_are_pinned() {
    check("agensight-local.txt", &agensight(Target::Local, None));
}

#[test]
fn otlp_json_body_is_pinned() {
    let body = otlp_json::encode(&[batch()], "chat-service", "dev");
    serde_json::from_str::<serde_json::Value>(&body).expect("valid JSON");
    check("otlp.json", &body);
}

/// The OTLP attributes of one span, as `{key: value}` (values as JSON).
fn otlp_attrs(s: FinishedSpan) -> serde_json::Map<String, serde_json::Value> {
    let mut b = batch();
    b.spans = vec![s];
    let body: serde_json::Value =
        serde_json::from_str(&otlp_json::encode(&[b], "svc", "prod")).unwrap();
    body["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["key"].as_str().unwrap().to_string(), a["value"].clone()))
        .collect()
}

#[test]
fn otlp_tool_agent_and_model_fallback_follow_the_genai_conventions() {
    let mut tool = span(3, Some(1), "get_weather", "tool");
    tool.input = Some(r#"[{"city":"Paris"}]"#.into());
    tool.output = Some(r#"{"sky":"sunny"}"#.into());
    let a = otlp_attrs(tool);
    let s = |k: &str| a.get(k).map(|v| v["stringValue"].clone());
    assert_eq!(s("gen_ai.operation.name"), Some("execute_tool".into()));
    assert_eq!(
        s("gen_ai.tool.call.arguments"),
        Some(r#"{"city":"Paris"}"#.into()),
        "the one argument: the call's arguments object"
    );
    assert_eq!(
        s("gen_ai.tool.call.result"),
        Some(r#"{"sky":"sunny"}"#.into())
    );
    assert_eq!(s("openinference.span.kind"), Some("TOOL".into()));

    let a = otlp_attrs(span(4, Some(1), "planner", "agent"));
    let s = |k: &str| a.get(k).map(|v| v["stringValue"].clone());
    assert_eq!(s("gen_ai.operation.name"), Some("invoke_agent".into()));
    assert_eq!(s("gen_ai.agent.name"), Some("planner".into()));
    assert_eq!(s("openinference.span.kind"), Some("AGENT".into()));

    let mut llm = span(5, Some(1), "answer", "llm");
    llm.llm = Some(Box::new(LlmCall {
        system: "openai".into(),
        operation: "chat".into(),
        response_model: Some("gpt-4o-2024-08-06".into()),
        ..Default::default()
    }));
    let a = otlp_attrs(llm);
    let s = |k: &str| a.get(k).map(|v| v["stringValue"].clone());
    assert_eq!(
        s("gen_ai.request.model"),
        Some("gpt-4o-2024-08-06".into()),
        "the response's model when the request's is unknown"
    );
    assert_eq!(s("llm.model_name"), Some("gpt-4o-2024-08-06".into()));

    let root = otlp_attrs(span(1, None, "multi_agent_chat", "trace"));
    assert_eq!(
        root["metadata"]["stringValue"], r#"{"plan":"pro"}"#,
        "the trace's metadata on its root"
    );
    assert_eq!(root["openinference.span.kind"]["stringValue"], "CHAIN");
}

#[test]
fn cloud_span_ids_are_uuids_that_every_record_of_the_span_and_every_encoding_share() {
    let first = agensight(Target::Cloud, Some("p-1"));
    assert_eq!(
        first,
        agensight(Target::Cloud, Some("p-1")),
        "encoding again (an outbox resend) names every span alike"
    );
    let uuid = |s: &str| {
        s.len() == 36
            && s.char_indices().all(|(i, c)| {
                if [8, 13, 18, 23].contains(&i) {
                    c == '-'
                } else {
                    c.is_ascii_hexdigit()
                }
            })
    };
    let records: Vec<(String, serde_json::Value)> = first
        .lines()
        .map(|l| {
            let (kind, data) = l.split_once(' ').unwrap();
            (kind.to_string(), serde_json::from_str(data).unwrap())
        })
        .collect();
    let spans: Vec<&str> = records
        .iter()
        .filter(|(k, _)| k == "span")
        .map(|(_, d)| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(spans.len(), 5);
    assert!(spans.iter().all(|id| uuid(id)), "{spans:?}");
    for (kind, d) in &records {
        match kind.as_str() {
            "span" => {
                if let Some(p) = d["parent_id"].as_str() {
                    assert!(spans.contains(&p), "parent {p} is a span of the batch");
                }
            }
            "prompt" | "completion" | "tool" => {
                let id = d["span_id"].as_str().unwrap();
                assert!(spans.contains(&id), "{kind} names span {id}");
            }
            _ => {}
        }
    }
}

#[test]
fn a_tool_functions_one_argument_is_the_calls_arguments_object() {
    use agensight_wasm::encode::genai::tool_arguments;
    assert_eq!(
        tool_arguments(r#"[{"city":"Paris"}]"#),
        r#"{"city":"Paris"}"#
    );
    assert_eq!(
        tool_arguments(r#"["a,b"]"#),
        r#""a,b""#,
        "a comma inside a string"
    );
    assert_eq!(
        tool_arguments(r#"[{"a":[1,2]}]"#),
        r#"{"a":[1,2]}"#,
        "commas below the top level"
    );
    assert_eq!(
        tool_arguments(r#"["x\"],[",1]"#),
        r#"["x\"],[",1]"#,
        "two arguments stay a list"
    );
    assert_eq!(tool_arguments(r#"[1,2]"#), r#"[1,2]"#);
    assert_eq!(tool_arguments("[]"), "[]");
    assert_eq!(tool_arguments(r#"{"k":1}"#), r#"{"k":1}"#);
}
