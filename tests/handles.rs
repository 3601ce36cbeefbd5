//! Span handles held past their span's end (a fire-and-forget child started after its parent
//! ended, an interval started inside a traced call): the child joins the right trace under the
//! right parent while the handle is recent, and a stale handle never reaches a newer span of
//! another trace.

use agensight_wasm::config::parse;
use agensight_wasm::core::Core;
use agensight_wasm::tracer::NONE;
use serde_json::Value;

/// `(name, trace_id, parent_id)` of every span in the local store.
fn spans(t: &mut Core) -> Vec<(String, String, Option<String>, String)> {
    t.take_local()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|v| v["type"] == "span")
        .map(|v| {
            let d = &v["data"];
            (
                d["name"].as_str().unwrap().to_string(),
                d["trace_id"].as_str().unwrap().to_string(),
                d["parent_id"].as_str().map(str::to_string),
                d["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn tracer() -> Core {
    Core::new(parse("{}").unwrap(), &[9; 32], 0.0)
}

#[test]
fn a_late_child_keeps_its_parent_after_later_traces() {
    for between in [1, 100, 4000] {
        let mut t = tracer();
        let (req, child, other) = (
            t.define("request", "trace", ""),
            t.define("late", "span", ""),
            t.define("other", "trace", ""),
        );
        let a = t.start(req, NONE, 1.0, "[]", None);
        t.end(a, 2.0, "null", None);
        for i in 0..between {
            let h = t.start(other, NONE, 3.0 + i as f64, "[]", None);
            t.end(h, 3.0 + i as f64, "null", None);
        }
        let c = t.start(child, a, 10_000.0, "[]", None);
        t.end(c, 10_001.0, "null", None);
        let all = spans(&mut t);
        let root = all.iter().find(|s| s.0 == "request").unwrap();
        let late = all.iter().find(|s| s.0 == "late").unwrap();
        assert_eq!(
            (&late.1, late.2.as_ref()),
            (&root.1, Some(&root.3)),
            "{between} traces in between"
        );
    }
}

#[test]
fn a_stale_handle_never_reaches_a_span_of_another_trace() {
    let mut t = tracer();
    let (req, child, other) = (
        t.define("request", "trace", ""),
        t.define("late", "span", ""),
        t.define("other", "trace", ""),
    );
    let a = t.start(req, NONE, 1.0, "[]", None);
    t.end(a, 2.0, "null", None);
    let request = spans(&mut t).pop().unwrap();
    // Enough sequential spans that the stale handle's slot is reused (an ended span's slot is
    // kept back through 4096 later starts), each trace followed by a start from the stale
    // handle while that trace's root is open.
    let mut all = Vec::new();
    for i in 0..5000 {
        if i % 7 == 0 {
            // Vary which slot each span lands in.
            let x = t.start(other, NONE, 3.0, "[]", None);
            t.end(x, 3.0, "null", None);
        }
        let h = t.start(other, NONE, 3.0, "[]", None);
        let c = t.start(child, a, 3.0, "[]", None);
        t.end(c, 4.0, "null", None);
        t.end(h, 4.0, "null", None);
        all.extend(spans(&mut t));
    }
    let late: Vec<_> = all.iter().filter(|s| s.0 == "late").collect();
    assert_eq!(late.len(), 5000, "every late child is recorded");
    // While the handle is recent its children join `request`; once its slot is reused the
    // handle misses and a child starts a trace of its own. Never anything else.
    let joined = late
        .iter()
        .take_while(|s| (&s.1, s.2.as_ref()) == (&request.1, Some(&request.3)))
        .count();
    assert!(
        joined >= 1000,
        "only the first {joined} late children joined `request`"
    );
    for s in &late[joined..] {
        assert_eq!(
            s.2, None,
            "a late child of `request` under another span: {s:?}"
        );
        assert!(
            all.iter().filter(|o| o.1 == s.1).count() == 1,
            "alone in its trace: {s:?}"
        );
    }
}
