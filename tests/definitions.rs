//! The bounded span-definition table, through the core as the wasm bindings drive it: code
//! that makes a definition per call (a request id in metadata, a session per request,
//! generated names) holds at most MAX_DEFS of them; an open span keeps its own definition
//! through eviction; an evicted id answers REDEFINE (never another definition's name), and
//! defining again works.

use agensight_wasm::config::parse;
use agensight_wasm::core::Core;
use agensight_wasm::model::SessionSpec;
use agensight_wasm::tracer::{MAX_DEFS, MAX_DEF_BYTES, NONE, NOOP, REDEFINE};
use serde_json::Value;

mod common;
use common::{of, records};

fn core() -> Core {
    Core::new(parse("{}").unwrap(), &[5; 32], 0.0)
}

fn spans(rs: &[(String, Value)]) -> Vec<&Value> {
    of(rs, "span")
}

/// A span's metadata (in its attributes).
fn metadata(span: &Value) -> Value {
    span["attributes"]["metadata"].clone()
}

/// A trace record's metadata (JSON text).
fn trace_metadata(trace: &Value) -> Value {
    serde_json::from_str(trace["metadata"].as_str().unwrap()).unwrap()
}

/// A wrapped function as js/spans.js keeps it: its facts and the definition id it was given,
/// defined again when the core answers REDEFINE.
struct Wrapper {
    facts: [&'static str; 3],
    def: u32,
    redefined: usize,
}

impl Wrapper {
    fn new(c: &mut Core, facts: [&'static str; 3]) -> Wrapper {
        let def = c.define(facts[0], facts[1], facts[2]);
        Wrapper {
            facts,
            def,
            redefined: 0,
        }
    }

    fn start(&mut self, c: &mut Core, parent: u32, now: f64, session: Option<SessionSpec>) -> u32 {
        let h = c.start(self.def, parent, now, "[]", session.clone());
        if h != REDEFINE {
            return h;
        }
        self.redefined += 1;
        self.def = c.define(self.facts[0], self.facts[1], self.facts[2]);
        c.start(self.def, parent, now, "[]", session)
    }
}

/// 100,000 distinct definitions (a request id in each one's metadata) beside a wrapper used
/// by every call, under a root that runs the whole time: the table never holds more than
/// MAX_DEFS, every eviction is counted, every span carries its own name and metadata, and
/// the wrapper used all along is evicted at most once (CLOCK: the sweep when the table first
/// fills finds every definition marked used and clears them all).
#[test]
fn a_definition_per_call_stays_within_the_bound() {
    let mut c = core();
    let mut hot = Wrapper::new(&mut c, ["handler", "span", r#"{"static":true}"#]);
    let root_def = c.define("server", "trace", "");
    let root = c.start(root_def, NONE, 0.0, "[]", None);
    const N: usize = 100_000;
    let mut most = 0;
    for i in 0..N {
        let h = hot.start(&mut c, root, i as f64, None);
        assert!(h != NOOP && h != REDEFINE, "{i}");
        c.end(h, i as f64, "null", None);
        let def = c.define(
            &format!("req-{}", i % 50_000),
            "span",
            &format!(r#"{{"request":{i}}}"#),
        );
        let h = c.start(def, root, i as f64, "[]", None);
        assert!(h != NOOP && h != REDEFINE, "{i}");
        c.end(h, i as f64 + 0.5, "null", None);
        most = most.max(c.stats().definitions);
        if i % 1000 == 0 {
            for s in spans(&records(&mut c)) {
                if s["name"] == "handler" {
                    assert_eq!(metadata(s), serde_json::json!({"static": true}));
                } else {
                    let n = metadata(s)["request"].as_u64().unwrap();
                    assert_eq!(s["name"], format!("req-{}", n % 50_000));
                }
            }
        }
    }
    c.end(root, 1e6, "null", None);
    let all = records(&mut c);
    let last = spans(&all);
    assert!(last.iter().any(|s| metadata(s)["request"] == N as u64 - 1));
    let stats = c.stats();
    assert_eq!(most, MAX_DEFS as u64);
    assert_eq!(stats.definitions, MAX_DEFS as u64);
    // N + 2 definitions made (and the hot one's again), MAX_DEFS held: the rest evicted,
    // each counted once.
    assert_eq!(
        stats.definitions_evicted,
        (N + 2 + hot.redefined - MAX_DEFS) as u64
    );
    assert!(hot.redefined <= 1, "{}", hot.redefined);
    assert_eq!(stats.recorded, 2 * N as u64 + 1);
    assert_eq!(stats.dropped, 0);
    assert_eq!(
        c.define("handler", "span", r#"{"static":true}"#),
        hot.def,
        "the definition used by every call is held"
    );
}

/// A span open while its definition is evicted still ends as itself: its record (and its
/// trace's) carry its own name and metadata, not those of the definitions that took the slots.
#[test]
fn an_open_span_keeps_its_definition_through_eviction() {
    let mut c = core();
    let root_def = c.define("job", "trace", r#"{"job":"nightly"}"#);
    let child_def = c.define("step", "span", r#"{"step":1}"#);
    let root = c.start(root_def, NONE, 1.0, "[]", None);
    let child = c.start(child_def, root, 2.0, "[]", None);
    for i in 0..3 * MAX_DEFS {
        let d = c.define(&format!("other-{i}"), "span", &format!(r#"{{"i":{i}}}"#));
        let h = c.start(d, NONE, 3.0, "[]", None);
        c.end(h, 3.5, "null", None);
    }
    assert_eq!(
        c.start(child_def, root, 4.0, "[]", None),
        REDEFINE,
        "evicted"
    );
    assert_eq!(
        c.start(root_def, NONE, 4.0, "[]", None),
        REDEFINE,
        "evicted"
    );
    records(&mut c);
    c.end(child, 5.0, "null", None);
    c.end(root, 6.0, "null", None);
    let rs = records(&mut c);
    let trace = of(&rs, "trace")[0];
    assert_eq!(trace["name"], "job");
    assert_eq!(trace_metadata(trace), serde_json::json!({"job": "nightly"}));
    let s = spans(&rs);
    assert_eq!(s.len(), 2);
    let step = s.iter().find(|s| s["parent_id"].is_string()).unwrap();
    assert_eq!(step["name"], "step");
    assert_eq!(metadata(step), serde_json::json!({"step": 1}));
    assert_eq!(
        s.iter().find(|s| s["parent_id"].is_null()).unwrap()["name"],
        "job"
    );
}

/// An evicted id never reaches the definition now in its slot: it answers REDEFINE; defining
/// the same facts again gives a new id that records them; a session definition too.
#[test]
fn an_evicted_definition_is_defined_again() {
    let mut c = core();
    let session = r#"{"id":"conv-1","user_id":"u1"}"#;
    let first = c
        .define_span("chat", "trace", r#"{"v":1}"#, session)
        .unwrap();
    let mut newer = Vec::new();
    for i in 0..MAX_DEFS + 10 {
        newer.push(c.define(&format!("gen-{i}"), "trace", ""));
    }
    assert_eq!(c.start(first, NONE, 1.0, "[]", None), REDEFINE);
    assert!(
        !newer.contains(&first),
        "an id is not given out twice while its slot's generation lasts"
    );
    assert!(c.stats().definitions_evicted >= 11);
    let again = c
        .define_span("chat", "trace", r#"{"v":1}"#, session)
        .unwrap();
    assert_ne!(again, first);
    assert_eq!(
        c.start(first, NONE, 1.0, "[]", None),
        REDEFINE,
        "still stale"
    );
    let h = c.start(again, NONE, 2.0, "[]", None);
    c.end(h, 3.0, "null", None);
    let rs = records(&mut c);
    let trace = of(&rs, "trace")[0];
    assert_eq!(trace["name"], "chat");
    assert_eq!(trace_metadata(trace), serde_json::json!({"v": 1}));
    let s = of(&rs, "session")[0];
    assert_eq!((&s["id"], &s["user_id"]), (&"conv-1".into(), &"u1".into()));
    // Ids never given out are unknown, as before: not recorded, nothing to define again.
    assert_eq!(c.start(0, NONE, 1.0, "[]", None), NOOP);
    assert_eq!(c.start(NOOP, NONE, 1.0, "[]", None), NOOP);
    assert_eq!(c.start(8000, NONE, 1.0, "[]", None), NOOP);
}

/// Definitions with large metadata (up to maxFieldBytes each) are bounded by bytes too.
#[test]
fn large_definitions_are_bounded_by_bytes() {
    let mut c = core();
    let big = "m".repeat(60_000);
    for i in 0..500 {
        let d = c.define(
            &format!("big-{i}"),
            "span",
            &format!(r#"{{"i":{i},"m":"{big}"}}"#),
        );
        let h = c.start(d, NONE, 1.0, "[]", None);
        assert!(h != NOOP && h != REDEFINE);
        c.end(h, 2.0, "null", None);
        records(&mut c);
        assert!(
            c.stats().definitions as usize <= MAX_DEF_BYTES / 60_000,
            "{i}"
        );
    }
    assert_eq!(c.stats().definitions + c.stats().definitions_evicted, 500);
    // One bigger than the whole byte bound is still held, alone.
    let mut c = Core::new(
        parse(r#"{"maxFieldBytes":8000000}"#).unwrap(),
        &[6; 32],
        0.0,
    );
    let huge = format!(r#"{{"m":"{}"}}"#, "h".repeat(MAX_DEF_BYTES + 10));
    let d = c.define("huge", "span", &huge);
    let h = c.start(d, NONE, 1.0, "[]", None);
    assert!(h != NOOP && h != REDEFINE);
    assert_eq!(c.stats().definitions, 1);
}

/// Distinct session ids (issue 15: 500,000 of them left +52 MB for good): each a `trace()`
/// with its own session, as a handler that wraps per request does. Both tables they touch stay
/// bounded: the session ids remembered (SESSIONS_REMEMBERED, tests/bounds.rs) and the
/// definitions (MAX_DEFS); every new id still gets its session record once.
#[test]
fn distinct_sessions_leave_bounded_tables() {
    use agensight_wasm::tracer::SESSIONS_REMEMBERED;
    let mut c = core();
    let mut plain = Wrapper::new(&mut c, ["t", "trace", ""]);
    let mut session_records = 0;
    for i in 0..20_000 {
        // Half through the def's session, half through start's override.
        let h = if i % 2 == 0 {
            let d = c
                .define_span("t", "trace", "", &format!(r#""s{i}""#))
                .unwrap();
            c.start(d, NONE, 1.0, "", None)
        } else {
            let s = SessionSpec::from_json(&format!(r#""s{i}""#)).unwrap();
            plain.start(&mut c, NONE, 1.0, Some(s))
        };
        c.end(h, 2.0, "", None);
        if i % 5000 == 0 || i == 19_999 {
            session_records += of(&records(&mut c), "session").len();
        }
        if i % 5000 == 0 {
            assert!(c.stats().definitions as usize <= MAX_DEFS);
        }
    }
    assert_eq!(session_records, 20_000, "each new id written once");
    assert_eq!(c.stats().definitions as usize, MAX_DEFS);
    // The oldest id (s0), SESSIONS_REMEMBERED and more ago, was forgotten: written again.
    assert!(20_000 > SESSIONS_REMEMBERED);
    let s = SessionSpec::from_json(r#""s0""#).unwrap();
    let h = plain.start(&mut c, NONE, 3.0, Some(s));
    c.end(h, 4.0, "", None);
    assert_eq!(of(&records(&mut c), "session").len(), 1);
}
