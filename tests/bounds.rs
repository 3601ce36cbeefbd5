//! The core's memory bounds on the path from a span's end to the local store: lines written by
//! size (the core asks for a drain, and holds at most a hard bound, counting what it drops), a
//! long trace handed on in parts, the session table, and the documented reach of a late
//! child's parent handle (docs/records.md).

use agensight_wasm::config::parse;
use agensight_wasm::core::{Core, Ended, LOCAL_DRAIN_BYTES, LOCAL_MAX_BYTES};
use agensight_wasm::model::SessionSpec;
use agensight_wasm::tracer::{NONE, SESSIONS_REMEMBERED, TRACE_PART_SPANS};
use serde_json::Value;

fn core() -> Core {
    Core::new(parse("{}").unwrap(), &[3; 32], 0.0)
}

fn records(c: &mut Core) -> Vec<Value> {
    c.take_local()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn of_type<'a>(rs: &'a [Value], ty: &str) -> Vec<&'a Value> {
    rs.iter().filter(|r| r["type"] == ty).collect()
}

/// A sync loop with 60 KB arguments that never yields (the store's timer never runs): the core
/// asks for a drain once 1 MiB waits, and never holds more than its hard bound.
#[test]
fn local_lines_ask_for_a_drain_by_size_and_stay_bounded() {
    let mut c = core();
    let def = c.define("work", "trace", "");
    let input = format!("[\"{}\"]", "x".repeat(60_000));
    let mut first_drain = None;
    for i in 0..400 {
        let h = c.start(def, NONE, i as f64, &input, None);
        let r = c.end(h, i as f64 + 0.5, "null", None);
        assert_ne!(r, Ended::Nothing);
        if r == Ended::DrainNow && first_drain.is_none() {
            first_drain = Some(i);
        }
    }
    // Each trace is about 60 KB of input: the drain comes at the 1 MiB mark.
    let at = first_drain.expect("a drain was asked for");
    assert!(
        (LOCAL_DRAIN_BYTES / 62_000..=LOCAL_DRAIN_BYTES / 58_000).contains(&at),
        "{at}"
    );
    // Nobody drained: the buffer stopped at the hard bound and the rest was counted.
    let lines = c.take_local();
    assert!(lines.len() <= LOCAL_MAX_BYTES, "{}", lines.len());
    let kept = lines
        .lines()
        .filter(|l| l.starts_with("{\"type\":\"span\""))
        .count() as u64;
    let stats = c.stats();
    assert!(kept > 200 && kept < 400, "{kept}");
    assert_eq!((stats.recorded, stats.dropped), (400, 400 - kept));
    // Drained, it starts over.
    let h = c.start(def, NONE, 1e6, &input, None);
    assert_eq!(c.end(h, 1e6 + 1.0, "null", None), Ended::Emitted);
}

/// A long-lived root: its ended children go in parts of TRACE_PART_SPANS, the trace record
/// once, with the root's part; every span exactly once.
#[test]
fn a_long_trace_is_written_in_parts() {
    let mut c = core();
    let (root_def, child_def) = (c.define("server", "trace", ""), c.define("req", "span", ""));
    let root = c.start(root_def, NONE, 0.0, "[]", None);
    let n = TRACE_PART_SPANS * 2 + 500;
    let mut parts = 0;
    for i in 0..n {
        let h = c.start(child_def, root, 1.0 + i as f64, "[]", None);
        if c.end(h, 1.5 + i as f64, "null", None) != Ended::Nothing {
            parts += 1;
        }
    }
    assert_eq!(parts, 2);
    let before = records(&mut c);
    assert_eq!(of_type(&before, "trace").len(), 0);
    assert_eq!(of_type(&before, "span").len(), TRACE_PART_SPANS * 2);
    let root_id = c.ids_of(root).unwrap().1.hex().to_string();
    assert!(of_type(&before, "span")
        .iter()
        .all(|s| s["data"]["parent_id"] == root_id.as_str()));

    assert_eq!(c.end(root, 1e6, "null", None), Ended::Emitted);
    let last = records(&mut c);
    assert_eq!(of_type(&last, "trace").len(), 1);
    assert_eq!(last[0]["type"], "trace", "the trace record leads its part");
    assert_eq!(last[0]["data"]["ended_at"], 1000.0);
    let spans: Vec<_> = of_type(&before, "span")
        .into_iter()
        .chain(of_type(&last, "span"))
        .map(|s| s["data"]["id"].as_str().unwrap().to_string())
        .collect();
    let unique: std::collections::HashSet<_> = spans.iter().collect();
    assert_eq!((spans.len(), unique.len()), (n + 1, n + 1));
    assert_eq!(c.stats().dropped, 0);
}

/// The session table is bounded: a session seen again after SESSIONS_REMEMBERED others gets
/// its record again (as documented); one seen recently does not.
#[test]
fn the_session_table_forgets_the_oldest() {
    let mut c = core();
    let def = c.define("t", "trace", "");
    let run = |c: &mut Core, id: usize| {
        let s = SessionSpec::from_json(&format!("\"s{id}\"")).unwrap();
        let h = c.start(def, NONE, 1.0, "[]", Some(s));
        c.end(h, 2.0, "null", None);
        of_type(&records(c), "session").len()
    };
    assert_eq!(run(&mut c, 0), 1);
    assert_eq!(run(&mut c, 0), 0);
    for i in 1..SESSIONS_REMEMBERED {
        assert_eq!(run(&mut c, i), 1);
    }
    assert_eq!(
        run(&mut c, 0),
        0,
        "still remembered: the table holds exactly the bound"
    );
    assert_eq!(run(&mut c, SESSIONS_REMEMBERED), 1);
    assert_eq!(run(&mut c, 1), 0, "s1 is the oldest now but still in");
    assert_eq!(run(&mut c, 0), 1, "s0 was forgotten: written again");
}

/// docs/records.md, "Late spans": a late child joins its trace while at most 4,096 spans have
/// started since its parent ended (every one of them ended too); the 4,097th reuses the
/// parent's handle slot, and the child then starts a new trace.
#[test]
fn a_late_child_joins_within_the_documented_bound_only() {
    for (between, joins) in [(4096, true), (4097, false)] {
        let mut c = core();
        let (req, late, other) = (
            c.define("request", "trace", ""),
            c.define("late", "span", ""),
            c.define("other", "trace", ""),
        );
        let a = c.start(req, NONE, 1.0, "[]", None);
        c.end(a, 2.0, "null", None);
        for i in 0..between {
            let h = c.start(other, NONE, 3.0 + i as f64, "[]", None);
            c.end(h, 3.0 + i as f64, "null", None);
        }
        let trace_a = c.ids_of(a).map(|(t, _)| t.uuid().to_string());
        let h = c.start(late, a, 1e5, "[]", None);
        c.end(h, 1e5 + 1.0, "null", None);
        let rs = records(&mut c);
        let child = of_type(&rs, "span")
            .into_iter()
            .find(|s| s["data"]["name"] == "late")
            .unwrap()["data"]
            .clone();
        assert_eq!(child["parent_id"].is_string(), joins, "{between}");
        if joins {
            assert_eq!(child["trace_id"].as_str(), trace_a.as_deref());
        } else {
            assert_eq!(trace_a, None, "the stale handle reaches nothing");
        }
    }
}

/// An OTLP request carries at most MAX_BATCH_BYTES of captures besides `maxBatchSpans`: 200
/// traces with 20 KB inputs make several requests, none much above the cap.
#[test]
fn otlp_requests_are_cut_by_bytes_too() {
    use agensight_wasm::export::queue::MAX_BATCH_BYTES;
    let mut c = Core::new(
        parse(r#"{"mode":"prod","exporter":"otlp","queue":{"maxBatchSpans":512,"maxBytes":16777216,"maxPendingBytes":8388608}}"#).unwrap(),
        &[4; 32],
        0.0,
    );
    let def = c.define("big", "trace", "");
    let input = format!("[\"{}\"]", "q".repeat(20_000));
    for i in 0..200 {
        let h = c.start(def, NONE, i as f64, &input, None);
        c.end(h, i as f64 + 1.0, "null", None);
    }
    let mut bodies = Vec::new();
    while let Some(id) = c.export_next(1.0, true) {
        bodies.push(c.export_body_bytes(id));
        c.export_complete(
            id,
            agensight_wasm::export::policy::Outcome::Network("x".into()),
            1.0,
        );
    }
    // 200 × ~20 KB = ~4 MB of input: at least four requests.
    assert!(bodies.len() >= 4, "{bodies:?}");
    assert!(
        bodies.iter().all(|b| *b < MAX_BATCH_BYTES + 64 * 1024),
        "{bodies:?}"
    );
    assert_eq!(c.stats().pending, 200);
}

/// A part whose spans are LLM calls writes no `trace_update` ahead of its trace record: the
/// trace record, written last, has the whole trace's tokens.
#[test]
fn a_part_of_llm_calls_leaves_the_total_to_the_trace_record() {
    let mut c = core();
    let (root_def, llm_def) = (c.define("agent", "trace", ""), c.define("call", "span", ""));
    let root = c.start(root_def, NONE, 0.0, "[]", None);
    for i in 0..TRACE_PART_SPANS {
        let h = c.start(
            llm_def,
            root,
            1.0,
            r#"[{"model":"gpt-4o","messages":[]}]"#,
            None,
        );
        let out = format!(
            r#"{{"id":"chatcmpl-{i}","object":"chat.completion","model":"gpt-4o","choices":[{{"index":0,"message":{{"role":"assistant","content":"ok"}},"finish_reason":"stop"}}],"usage":{{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}}}"#
        );
        c.end(h, 2.0, &out, None);
    }
    let part = records(&mut c);
    assert_eq!(of_type(&part, "span").len(), TRACE_PART_SPANS);
    assert_eq!(of_type(&part, "completion").len(), TRACE_PART_SPANS);
    assert_eq!(of_type(&part, "trace_update").len(), 0);
    c.end(root, 3.0, "null", None);
    let last = records(&mut c);
    let trace = of_type(&last, "trace")[0];
    assert_eq!(trace["data"]["total_tokens"], 5 * TRACE_PART_SPANS as u64);
}

/// Large captures under a long-lived root: a part at TRACE_PART_BYTES of captured values, well
/// before TRACE_PART_SPANS spans; and a trace bigger than the local hard bound is still kept
/// when it comes alone.
#[test]
fn a_long_trace_of_large_captures_goes_in_parts_by_bytes() {
    use agensight_wasm::tracer::TRACE_PART_BYTES;
    let mut c = core();
    let (root_def, child_def) = (c.define("server", "trace", ""), c.define("req", "span", ""));
    let root = c.start(root_def, NONE, 0.0, "[]", None);
    let input = format!("[\"{}\"]", "y".repeat(60_000));
    let mut handed = Vec::new();
    for i in 0..300 {
        let h = c.start(child_def, root, 1.0 + i as f64, &input, None);
        if c.end(h, 1.5 + i as f64, "null", None).handed_on() {
            handed.push(i + 1);
        }
    }
    let per_part = TRACE_PART_BYTES.div_ceil(60_004);
    assert_eq!(
        handed,
        vec![per_part, 2 * per_part, 3 * per_part, 4 * per_part]
    );
    c.take_local();
    // One span bigger than the local hard bound (maxFieldBytes allows it) into an empty buffer:
    // kept whole; a second one while the first waits is dropped and counted.
    let mut c = Core::new(
        parse(r#"{"maxFieldBytes":20000000}"#).unwrap(),
        &[8; 32],
        0.0,
    );
    let def = c.define("big", "trace", "");
    let huge = format!("[\"{}\"]", "z".repeat(LOCAL_MAX_BYTES + 1000));
    for i in 0..2 {
        let h = c.start(def, NONE, i as f64, &huge, None);
        c.end(h, i as f64 + 1.0, "null", None);
    }
    let lines = c.take_local();
    assert!(lines.len() > LOCAL_MAX_BYTES, "{}", lines.len());
    assert_eq!(
        lines
            .lines()
            .filter(|l| l.starts_with("{\"type\":\"span\""))
            .count(),
        1
    );
    assert_eq!(c.stats().dropped, 1);
}

/// The store writes the lines from where they are (`local_lines`), then `local_taken(n)`:
/// lines written meanwhile (a traced call during the store's write) stay for the next write,
/// a count that is not a line's end drops nothing, and the room is kept.
#[test]
fn taken_lines_go_and_lines_written_meanwhile_stay() {
    let mut c = core();
    let def = c.define("work", "trace", "");
    let trace = |c: &mut Core, i: u32| {
        let h = c.start(def, NONE, i as f64, &format!("[{i}]"), None);
        assert_ne!(c.end(h, i as f64 + 0.5, "null", None), Ended::Nothing);
    };
    let names = |text: &str| -> Vec<String> {
        text.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|r| r["type"] == "span")
            .map(|r| r["data"]["attributes"].as_str().unwrap().to_string())
            .collect()
    };
    trace(&mut c, 1);
    trace(&mut c, 2);
    let n = c.local_lines().len();
    assert_eq!(names(c.local_lines()).len(), 2);
    trace(&mut c, 3); // during the write
    c.local_taken(n - 1); // not a line's end
    c.local_taken(n + 7); // past the lines
    assert_eq!(names(c.local_lines()).len(), 3, "nothing dropped");
    c.local_taken(n);
    let left = names(c.local_lines());
    assert_eq!(left.len(), 1);
    assert!(left[0].contains(r#""input":[3]"#), "{left:?}");
    c.local_taken(c.local_lines().len());
    assert_eq!(c.local_lines(), "");
    trace(&mut c, 4);
    assert_eq!(names(&c.take_local()).len(), 1);
}
