//! Span names, session ids, session names and user ids are scanned for secrets like captured
//! values: wherever they enter the tracer (a wrapper's name, init()'s session, a per-trace
//! session), what they carry is masked before any record is written.

use agensight_wasm::config::parse;
use agensight_wasm::core::Core;
use agensight_wasm::model::SessionSpec;
use agensight_wasm::tracer::NONE;
use serde_json::Value;

fn key() -> String {
    format!("ghp_{}", "aB3dE5fG7h".repeat(4))
}

fn lines(t: &mut Core) -> Vec<(String, Value)> {
    t.take_local()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["type"].as_str().unwrap().to_string(), v["data"].clone())
        })
        .collect()
}

#[test]
fn names_and_sessions_are_masked() {
    let options = serde_json::json!({
        "token": "tok-abcdef-123456",
        "session": {"id": format!("s-{}", key()), "name": "password=hunter2", "user_id": "u tok-abcdef-123456"}
    });
    let mut t = Core::new(parse(&options.to_string()).unwrap(), &[7; 32], 0.0);
    let traced = t.define(&format!("call {}", key()), "trace", "");
    let child = t.define("fetch https://bob:pw1@api.example.com/x", "span", "");
    let root = t.start(traced, NONE, 1.0, "", None);
    let c = t.start(child, root, 2.0, "", None);
    t.end(c, 3.0, "", None);
    t.end(root, 4.0, "", None);
    let own = SessionSpec {
        id: format!("{}", key()),
        name: Some(format!("Bearer {}", "x".repeat(20))),
        user_id: None,
    };
    let h = t.start(traced, NONE, 5.0, "", Some(own));
    t.end(h, 6.0, "", None);
    let records = lines(&mut t);
    let text = serde_json::to_string(&records).unwrap();
    assert!(!text.contains(&key()), "{text}");
    assert!(
        !text.contains("hunter2") && !text.contains("tok-abcdef-123456") && !text.contains("pw1")
    );
    assert!(!text.contains(&"x".repeat(20)));
    let names: Vec<&str> = records
        .iter()
        .filter(|(k, _)| k == "span")
        .map(|(_, v)| v["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "call [REDACTED]",
            "fetch https://[REDACTED]@api.example.com/x",
            "call [REDACTED]"
        ]
    );
    let sessions: Vec<(String, String)> = records
        .iter()
        .filter(|(k, _)| k == "session")
        .map(|(_, v)| {
            (
                v["id"].as_str().unwrap().into(),
                v["session_name"].as_str().unwrap_or("").into(),
            )
        })
        .collect();
    assert_eq!(
        sessions,
        [
            (
                "s-[REDACTED]".to_string(),
                "password=[REDACTED]".to_string()
            ),
            ("[REDACTED]".to_string(), "Bearer [REDACTED]".to_string())
        ]
    );
}
