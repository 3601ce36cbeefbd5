//! The Agensight exporter with its API down from start-up: traces are durable before the token
//! is validated (made into jobs and written to the outbox like any other), and the next start
//! validates the token for restored jobs alone, then sends them with the project id.
//! Before, `unsaved()` returned nothing while the token waited (nothing reached the outbox at
//! exit) and a start with only restored jobs never validated (it sent nothing).

use agensight_wasm::config::parse;
use agensight_wasm::core::Core;
use agensight_wasm::export::policy::Outcome;
use agensight_wasm::tracer::NONE;
use serde_json::Value;

const OPTIONS: &str =
    r#"{"mode":"prod","token":"tok-12345678","endpoint":"http://127.0.0.1:9/api"}"#;

fn traced(n: usize, seed: u8) -> Core {
    let mut c = Core::new(parse(OPTIONS).unwrap(), &[seed; 32], 0.0);
    let d = c.define("job", "", "");
    for i in 0..n {
        let h = c.start(d, NONE, i as f64, "[]", None);
        c.end(h, i as f64 + 1.0, "null", None);
    }
    c
}

fn network() -> Outcome {
    Outcome::Network("connection refused".into())
}

#[test]
fn traces_waiting_for_the_token_reach_the_outbox_and_the_next_start_sends_them() {
    // First process: the API is down; the validation fails; the process exits.
    let mut first = traced(5, 1);
    let v = first
        .export_next(10.0, true)
        .expect("the validation goes first");
    assert!(first
        .export_request(v)
        .unwrap()
        .url
        .ends_with("/auth/validate"));
    assert_eq!(
        first.export_next(10.0, true),
        None,
        "nothing else before the token"
    );
    first.export_complete(v, network(), 11.0);
    assert_eq!(first.stats().pending, 5);
    let unsaved = first.export_unsaved(12.0);
    assert_eq!(unsaved.len(), 5, "one job per trace, made now");
    let saved: Vec<String> = unsaved.iter().map(|id| first.export_persist(*id)).collect();
    for s in &saved {
        let v: Value = serde_json::from_str(s).unwrap();
        assert_eq!(v["unbound"], true);
        assert!(!s.contains("tok-12345678"), "the token is never stored");
    }

    // Next start: only the outbox; the API is back.
    let mut next = Core::new(parse(OPTIONS).unwrap(), &[2; 32], 100.0);
    for s in &saved {
        assert!(next.export_restore(s));
    }
    let v = next
        .export_next(100.0, false)
        .expect("restored jobs alone start the validation");
    assert!(next
        .export_request(v)
        .unwrap()
        .url
        .ends_with("/auth/validate"));
    let ok = |body: &str| Outcome::Status {
        code: 200,
        retry_after_ms: None,
        body: body.into(),
    };
    assert!(next.export_complete(v, ok(r#"{"project_id":"proj-9"}"#), 101.0));
    let mut spans = 0;
    while let Some(id) = next.export_next(102.0, true) {
        let rewritten = next.export_persist(id);
        if !rewritten.is_empty() {
            assert!(!rewritten.contains("\"unbound\""), "written again, bound");
            assert!(!rewritten.contains(r#"\"project_id\":null"#));
        }
        let req = next.export_request(id).unwrap();
        let body: Value = serde_json::from_slice(req.body).unwrap();
        assert_eq!(body["data"]["project_id"], "proj-9", "{}", req.url);
        if req.url.ends_with("/logs/create/span") {
            spans += 1;
        }
        next.export_complete(id, ok("{}"), 103.0);
    }
    assert_eq!(spans, 5);
    let s = next.stats();
    assert_eq!((s.exported, s.pending, s.failed, s.dropped), (5, 0, 0, 0));
}

/// An API unreachable for longer than the retry deadline is not a refused token: the
/// validation goes on being retried, the traces stay pending and their outbox copies stay.
#[test]
fn the_validation_outlives_the_retry_deadline() {
    let mut c = traced(3, 3);
    let mut now = 10.0;
    let mut tries = 0;
    while now < 20.0 * 60_000.0 {
        if let Some(id) = c.export_next(now, true) {
            assert!(c
                .export_request(id)
                .unwrap()
                .url
                .ends_with("/auth/validate"));
            c.export_complete(id, network(), now);
            tries += 1;
        }
        now += 1_000.0;
    }
    assert!(tries > 20, "{tries}");
    assert_eq!(
        c.export_dropped(),
        Vec::<u64>::new(),
        "no outbox copy deleted"
    );
    let s = c.stats();
    assert_eq!((s.pending, s.failed, s.dropped), (3, 0, 0));
    assert_eq!(c.export_unsaved(now).len(), 3);
}
