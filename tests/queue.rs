//! The export queue's policy on the host, with simulated time: batching, ordering, retries,
//! Retry-After, deadlines, permanent failures, bounds, token validation and the outbox form.

use agensight_wasm::config::parse;
use agensight_wasm::core::Core;
use agensight_wasm::export::policy::Outcome;
use agensight_wasm::export::queue::Queue;
use agensight_wasm::tracer::NONE;
use serde_json::Value;

fn ok(body: &str) -> Outcome {
    Outcome::Status {
        code: 200,
        retry_after_ms: None,
        body: body.into(),
    }
}
fn status(code: u16) -> Outcome {
    Outcome::Status {
        code,
        retry_after_ms: None,
        body: "nope".into(),
    }
}

/// A tracer in prod mode with `n` finished one-span traces in its queue.
fn with_traces(options: &str, n: usize) -> Core {
    let mut t = Core::new(parse(options).unwrap(), &[9; 32], 0.0);
    let d = t.define("job", "", "");
    for i in 0..n {
        let h = t.start(d, NONE, i as f64, "", None);
        t.end(h, i as f64 + 1.0, "", None);
    }
    t
}

fn drive(t: &mut Core, now: f64, force: bool) -> Vec<u64> {
    let mut ids = Vec::new();
    while let Some(id) = t.export_next(now, force) {
        ids.push(id);
    }
    ids
}

#[test]
fn otlp_batches_wait_for_the_delay_or_a_flush() {
    let mut t = with_traces(
        r#"{"mode":"prod","exporter":"otlp","protocol":"http/json","queue":{"batchDelayMs":1000,"maxBatchSpans":6}}"#,
        5,
    );
    assert!(drive(&mut t, 10.0, false).is_empty(), "not yet due");
    assert_eq!(
        t.queue().unwrap().wake_in(10.0),
        Some(991.0),
        "1 s after the first trace ended"
    );
    let ids = drive(&mut t, 1001.0, false);
    assert_eq!(ids.len(), 1);
    let req = t.queue().unwrap().request(ids[0]).unwrap();
    assert_eq!(req.url, "http://localhost:4318/v1/traces");
    assert!(req
        .headers
        .contains(&("content-type".into(), "application/json".into())));
    let body: Value = serde_json::from_slice(req.body).unwrap();
    assert_eq!(
        body["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
    assert!(t.export_complete(ids[0], ok(""), 1002.0));
    let q = t.queue().unwrap();
    assert_eq!(
        (q.counts.exported, q.pending_spans(), q.is_idle()),
        (5, 0, true)
    );

    // A full batch goes without waiting, split at maxBatchSpans; the rest waits for more, or
    // for its batch's delay.
    let mut t = with_traces(
        r#"{"mode":"prod","exporter":"otlp","protocol":"http/json","queue":{"maxBatchSpans":3}}"#,
        7,
    );
    let sizes = |t: &Core, ids: &[u64]| -> Vec<usize> {
        ids.iter()
            .map(|id| {
                let body: Value =
                    serde_json::from_slice(t.queue().unwrap().request(*id).unwrap().body).unwrap();
                body["resourceSpans"][0]["scopeSpans"][0]["spans"]
                    .as_array()
                    .unwrap()
                    .len()
            })
            .collect()
    };
    let ids = drive(&mut t, 8.0, false);
    assert_eq!(sizes(&t, &ids), [3, 3]);
    assert_eq!(t.queue().unwrap().pending_spans(), 7);
    // The first trace ended at 1 ms: its batch is due at 1001.
    assert!(drive(&mut t, 1000.0, false).is_empty());
    let rest = drive(&mut t, 1001.0, false);
    assert_eq!(sizes(&t, &rest), [1]);
}

#[test]
fn retries_back_off_honour_retry_after_and_give_up_at_the_deadline() {
    let mut t = with_traces(
        r#"{"mode":"prod","exporter":"otlp","queue":{"deadlineMs":10000}}"#,
        1,
    );
    let id = drive(&mut t, 0.0, true)[0];
    assert!(!t.export_complete(id, status(503), 0.0));
    let wait = t.queue().unwrap().wake_in(0.0).unwrap();
    assert!(
        (250.0..=500.0).contains(&wait),
        "first backoff 500 ms with jitter: {wait}"
    );
    assert!(drive(&mut t, wait - 1.0, false).is_empty());
    assert_eq!(drive(&mut t, wait, false), vec![id]);
    assert!(!t.export_complete(
        id,
        Outcome::Status {
            code: 429,
            retry_after_ms: Some(3000.0),
            body: String::new()
        },
        1000.0
    ));
    assert_eq!(t.queue().unwrap().wake_in(1000.0), Some(3000.0));
    assert_eq!(drive(&mut t, 4000.0, false), vec![id]);
    assert!(!t.export_complete(id, Outcome::Network("connection refused".into()), 4000.0));
    let w = t.queue_mut().unwrap().take_warnings();
    assert!(
        w[0].contains("answered 503") && w[2].contains("could not be reached: connection refused"),
        "{w:?}"
    );
    // Past the deadline (10 s after the first try) the job is given up and counted failed.
    assert_eq!(drive(&mut t, 9900.0, false), vec![id]);
    assert!(t.export_complete(id, status(500), 9900.0));
    let q = t.queue_mut().unwrap();
    assert_eq!(
        (q.counts.exported, q.counts.failed, q.pending_spans()),
        (0, 1, 0)
    );
    assert!(q.take_warnings()[0].contains("gave up after"));
}

#[test]
fn other_4xx_fail_at_once_with_the_reason() {
    let mut t = with_traces(r#"{"mode":"prod","exporter":"otlp"}"#, 2);
    let id = drive(&mut t, 0.0, true)[0];
    assert!(t.export_complete(
        id,
        Outcome::Status {
            code: 400,
            retry_after_ms: None,
            body: "bad span".into()
        },
        0.0
    ));
    let q = t.queue_mut().unwrap();
    assert_eq!((q.counts.failed, q.counts.exported), (2, 0));
    assert_eq!(
        q.take_warnings(),
        vec!["http://localhost:4318/v1/traces answered 400: bad span".to_string()]
    );
}

#[test]
fn agensight_validates_once_then_sends_records_in_order() {
    let mut t = with_traces(
        r#"{"mode":"prod","token":"tok-12345678","endpoint":"http://127.0.0.1:9/api"}"#,
        2,
    );
    let first = drive(&mut t, 0.0, true);
    assert_eq!(first.len(), 1, "only the validation goes first");
    let q = t.queue_mut().unwrap();
    let v = q.request(first[0]).unwrap();
    assert_eq!(
        (v.url.as_str(), v.body),
        (
            "http://127.0.0.1:9/api/auth/validate",
            &br#"{"token":"tok-12345678"}"#[..]
        )
    );
    assert_eq!(
        q.persist(first[0]),
        "",
        "the validation (it holds the token) is never stored"
    );
    assert!(t.export_complete(first[0], ok(r#"{"project_id":"p-1"}"#), 1.0));
    let jobs = drive(&mut t, 1.0, true);
    assert_eq!(jobs.len(), 2, "one job per trace");
    let mut paths = Vec::new();
    loop {
        let req = t.queue().unwrap().request(jobs[0]).unwrap();
        assert!(req
            .headers
            .contains(&("authorization".into(), "Bearer p-1".into())));
        assert!(!String::from_utf8_lossy(req.body).contains("tok-12345678"));
        let data: Value = serde_json::from_slice(req.body).unwrap();
        if data["data"].get("project_id").is_some() {
            assert_eq!(data["data"]["project_id"], "p-1");
        }
        paths.push(req.url.replace("http://127.0.0.1:9/api", ""));
        if t.export_complete(jobs[0], ok("{}"), 2.0) {
            break;
        }
        assert_eq!(
            drive(&mut t, 2.0, true),
            vec![jobs[0]],
            "the next record of the same job"
        );
    }
    assert_eq!(paths, ["/logs/create/trace", "/logs/create/span"]);
}

#[test]
fn a_refused_token_fails_everything_once() {
    let mut t = with_traces(r#"{"mode":"prod","token":"bad-token-1"}"#, 3);
    let v = drive(&mut t, 0.0, true)[0];
    assert!(t.export_complete(
        v,
        Outcome::Status {
            code: 401,
            retry_after_ms: None,
            body: "invalid token".into()
        },
        0.0
    ));
    let q = t.queue_mut().unwrap();
    assert_eq!(
        (q.counts.failed, q.pending_spans(), q.is_idle()),
        (3, 0, true)
    );
    let w = q.take_warnings();
    assert_eq!(w.len(), 1);
    assert!(
        w[0].contains("token was not accepted") && !w[0].contains("bad-token-1"),
        "{w:?}"
    );
}

#[test]
fn the_outbox_is_bounded_and_drops_are_counted() {
    let mut t = with_traces(
        r#"{"mode":"prod","exporter":"otlp","queue":{"maxJobs":2,"maxBatchSpans":1}}"#,
        5,
    );
    assert!(drive(&mut t, 0.0, true).len() <= 4);
    let q = t.queue_mut().unwrap();
    assert_eq!(q.counts.dropped, 3);
    assert_eq!(q.take_dropped_jobs().len(), 3);
    assert_eq!(q.pending_spans(), 2);
}

#[test]
fn persisted_jobs_come_back_in_a_new_process() {
    let mut t = with_traces(r#"{"mode":"prod","exporter":"otlp"}"#, 2);
    let id = drive(&mut t, 0.0, true)[0];
    let saved = t.queue_mut().unwrap().persist(id);
    assert_eq!(t.queue_mut().unwrap().persist(id), "", "persisted once");
    let body = t.queue().unwrap().request(id).unwrap().body.to_vec();

    let mut q2 = Queue::new(&parse(r#"{"mode":"prod","exporter":"otlp"}"#).unwrap());
    assert!(q2.restore(&saved));
    assert!(!q2.restore(&saved), "the same job twice is refused");
    assert!(!q2.restore("{torn"));
    let mut other = Queue::new(&parse(r#"{"mode":"prod","token":"t"}"#).unwrap());
    assert!(!other.restore(&saved), "another exporter's job is not ours");
    let got = q2.next(0.0, false, &mut || 7).unwrap();
    assert_eq!(got, id);
    assert_eq!(q2.request(id).unwrap().body, body);
    assert_eq!(
        body[0], 0x0a,
        "a protobuf body (binary: base64 in the outbox)"
    );
    assert!(saved.contains(r#"{"b64":""#), "{saved}");
    assert!(q2.complete(id, ok(""), 0.0, 0.5));
    assert_eq!(q2.counts.exported, 2);
}

#[test]
fn an_outbox_job_written_as_text_still_restores_and_goes_as_json() {
    // The form every earlier version wrote: the body as a JSON string.
    let old = r#"{"v":1,"exporter":"otlp","id":"42","parts":[["","{\"resourceSpans\":[]}",3]]}"#;
    let mut q = Queue::new(&parse(r#"{"mode":"prod","exporter":"otlp"}"#).unwrap());
    assert!(q.restore(old));
    assert_eq!(q.next(0.0, false, &mut || 7), Some(42));
    let req = q.request(42).unwrap();
    assert_eq!(req.body, br#"{"resourceSpans":[]}"#);
    assert_eq!(
        req.headers,
        [("content-type".to_string(), "application/json".to_string())],
        "a JSON body goes as JSON though this process writes protobuf"
    );
    assert!(!q.restore(r#"{"v":1,"exporter":"otlp","id":"43","parts":[["",{"b64":"no!"},1]]}"#));
}

#[test]
fn leaving_a_page_sends_only_what_fits_the_keepalive_budget() {
    // Five one-span traces in five OTLP jobs; the concurrency limit (1) does not apply to a
    // page being left, the byte budget does.
    let mut t = with_traces(
        r#"{"mode":"prod","exporter":"otlp","queue":{"maxBatchSpans":1,"concurrency":1}}"#,
        5,
    );
    let size = |t: &Core, id: u64| t.queue().unwrap().body_bytes(id);
    let mut budget = 0;
    let first = t.export_next_within(0.0, true, None).unwrap();
    let one = size(&t, first);
    assert_eq!(one, t.queue().unwrap().request(first).unwrap().body.len());
    assert!(one > 100);
    assert_eq!(
        t.export_next_within(0.0, true, None),
        None,
        "concurrency 1: the rest waits"
    );
    assert_eq!(
        t.export_next_within(0.0, true, Some(one - 1)),
        None,
        "a body larger than the budget stays"
    );
    let mut sent = vec![first];
    budget += one * 2 + one / 2; // room for two more (the bodies are about the same size)
    while let Some(id) = t.export_next_within(0.0, true, Some(budget)) {
        budget -= size(&t, id);
        sent.push(id);
    }
    assert_eq!(sent.len(), 3);
    // What was not sent is written to the outbox for the next page load; sent jobs too, as
    // nothing persisted them yet here.
    let unsaved = t.export_unsaved(0.0);
    assert_eq!(unsaved.len(), 5);
    assert_eq!(&unsaved[..3], &sent[..]);
    for id in &unsaved {
        assert!(!t.queue_mut().unwrap().persist(*id).is_empty());
    }
    assert!(t.export_unsaved(0.0).is_empty(), "persisted once");
    assert_eq!(size(&t, 12345), 0, "an unknown job");
}

#[test]
fn at_exit_waiting_traces_become_jobs_to_persist() {
    let mut t = with_traces(
        r#"{"mode":"prod","exporter":"otlp","queue":{"batchDelayMs":60000}}"#,
        3,
    );
    assert!(drive(&mut t, 1.0, false).is_empty(), "the batch is not due");
    let ids = t.export_unsaved(1.0);
    assert_eq!(ids.len(), 1, "made into a job now");
    assert!(
        drive(&mut t, 2.0, false).is_empty(),
        "but not sent before its batch is due"
    );
    assert_eq!(
        t.queue().unwrap().wake_in(2.0),
        Some(59999.0),
        "60 s after the first trace ended (at 1 ms)"
    );
    assert!(drive(&mut t, 60000.0, false).is_empty());
    assert_eq!(drive(&mut t, 60001.0, false), ids, "sent when due");
    let saved = t.queue_mut().unwrap().persist(ids[0]);
    let mut q2 = Queue::new(&parse(r#"{"mode":"prod","exporter":"otlp"}"#).unwrap());
    assert!(q2.restore(&saved));
    assert_eq!(q2.pending_spans(), 3);
}

#[test]
fn a_job_made_early_goes_at_once_on_flush() {
    let mut t = with_traces(
        r#"{"mode":"prod","exporter":"otlp","queue":{"batchDelayMs":60000}}"#,
        2,
    );
    let ids = t.export_unsaved(1.0);
    assert_eq!(drive(&mut t, 2.0, true), ids, "forced");
}

#[test]
fn restored_jobs_go_before_this_process_s_jobs_not_yet_tried() {
    let mut old = with_traces(r#"{"mode":"prod","exporter":"otlp"}"#, 2); // other ids than t's
    let old_id = drive(&mut old, 0.0, true)[0];
    let saved = old.queue_mut().unwrap().persist(old_id);
    // A new process whose trace became a job before the outbox was read (browsers).
    let mut t = with_traces(
        r#"{"mode":"prod","exporter":"otlp","queue":{"concurrency":1}}"#,
        1,
    );
    let new_id = t.export_unsaved(5.0)[0];
    assert!(t.queue_mut().unwrap().restore(&saved));
    assert_eq!(
        drive(&mut t, 2000.0, false),
        vec![old_id],
        "the restored job first"
    );
    assert!(t.export_complete(old_id, ok(""), 2001.0));
    assert_eq!(drive(&mut t, 2002.0, false), vec![new_id]);
}

#[test]
fn waiting_traces_are_bounded_by_bytes_too() {
    // The token is never validated (no receiver), so traces wait; each carries ~10 KB.
    let mut t = Core::new(
        parse(r#"{"mode":"prod","token":"tok-123456","queue":{"maxPendingBytes":50000}}"#).unwrap(),
        &[9; 32],
        0.0,
    );
    let d = t.define("big", "", "");
    let big = format!("[\"{}\"]", "x".repeat(10_000));
    for i in 0..20 {
        let h = t.start(d, NONE, i as f64, &big, None);
        t.end(h, i as f64 + 1.0, "", None);
    }
    let q = t.queue().unwrap();
    assert_eq!(
        q.pending_spans() + q.counts.dropped,
        20,
        "every span accounted for"
    );
    assert_eq!(q.pending_spans(), 4, "about 50 KB of 10 KB traces");
}

#[test]
fn the_request_crosses_to_js_as_json_and_the_answer_comes_back_as_an_outcome() {
    // exportRequest's form: what js/transport.js parses. Headers stay pairs, in order.
    let mut t = with_traces(
        r#"{"mode":"prod","exporter":"otlp","protocol":"http/json","headers":{"x-tenant":"a\"b"},"queue":{"timeoutMs":1234}}"#,
        1,
    );
    let id = drive(&mut t, 0.0, true)[0];
    let req = t.queue().unwrap().request(id).unwrap();
    let v: Value = serde_json::from_str(&req.to_json()).unwrap();
    assert_eq!(v["url"], "http://localhost:4318/v1/traces");
    assert_eq!(
        v["headers"],
        serde_json::json!([["content-type", "application/json"], ["x-tenant", "a\"b"]])
    );
    assert_eq!(v["body"].as_str().unwrap().as_bytes(), req.body);
    assert_eq!(v["timeoutMs"], 1234.0);
    assert_eq!(v.as_object().unwrap().len(), 4);

    // exportDone's arguments: status 0 is no response; a negative Retry-After is none.
    assert_eq!(
        Outcome::reported(0, -1.0, String::new(), "connect ECONNREFUSED".into()),
        Outcome::Network("connect ECONNREFUSED".into())
    );
    assert_eq!(
        Outcome::reported(0, -1.0, String::new(), String::new()),
        Outcome::Network("no response".into())
    );
    assert_eq!(
        Outcome::reported(429, 2000.0, "slow down".into(), String::new()),
        Outcome::Status {
            code: 429,
            retry_after_ms: Some(2000.0),
            body: "slow down".into()
        }
    );
    assert_eq!(
        Outcome::reported(503, -1.0, String::new(), String::new()),
        Outcome::Status {
            code: 503,
            retry_after_ms: None,
            body: String::new()
        }
    );
    assert_eq!(
        Outcome::reported(503, f64::NAN, String::new(), String::new()),
        Outcome::Status {
            code: 503,
            retry_after_ms: None,
            body: String::new()
        }
    );
}

#[test]
fn a_trace_with_a_refused_record_counts_as_failed_not_exported() {
    // One trace of 2 spans; its records go one request each. The last record (any path: a
    // prompt, the token total) answered 404: the trace did not land whole.
    let mut t = Core::new(
        parse(r#"{"mode":"prod","token":"tok-12345678","endpoint":"http://127.0.0.1:9/api"}"#)
            .unwrap(),
        &[9; 32],
        0.0,
    );
    let root = t.define("root", "", "");
    let child = t.define("child", "", "");
    let r = t.start(root, NONE, 0.0, "", None);
    let c = t.start(child, r, 0.1, "", None);
    t.end(c, 0.5, "", None);
    t.end(r, 1.0, "", None);
    let v = drive(&mut t, 1.0, true)[0];
    assert!(t.export_complete(v, ok(r#"{"project_id":"p-1"}"#), 1.0));
    let job = drive(&mut t, 1.0, true)[0];
    let mut answered = Vec::new();
    loop {
        let q = t.queue().unwrap();
        assert_eq!(
            (q.counts.exported, q.pending_spans()),
            (0, 2),
            "nothing is exported before the job's last request is answered"
        );
        let path = q
            .request(job)
            .unwrap()
            .url
            .replace("http://127.0.0.1:9/api", "");
        // The second span record (the child's) is refused.
        let refused = path == "/logs/create/span" && answered.contains(&path);
        let outcome = if refused { status(404) } else { ok("{}") };
        answered.push(path);
        if t.export_complete(job, outcome, 2.0) {
            break;
        }
        drive(&mut t, 2.0, true);
    }
    let q = t.queue_mut().unwrap();
    assert_eq!(
        (q.counts.exported, q.counts.failed, q.pending_spans()),
        (0, 2, 0),
        "{answered:?}"
    );
    assert!(q.take_warnings()[0].contains("404"));
}

#[test]
fn the_user_s_headers_replace_ours_whatever_their_case_and_only_secrets_are_masked() {
    let mut t = with_traces(
        r#"{"mode":"prod","exporter":"otlp","headers":{"Content-Type":"application/json; charset=utf-8","X-Tenant":"acme-tenant-1","X-Api-Key":"key-abcdef123"}}"#,
        1,
    );
    let id = drive(&mut t, 0.0, true)[0];
    let req = t.queue().unwrap().request(id).unwrap();
    let content_types: Vec<_> = req
        .headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        .collect();
    assert_eq!(
        content_types,
        [&(
            "Content-Type".to_string(),
            "application/json; charset=utf-8".to_string()
        )]
    );
    t.export_complete(
        id,
        Outcome::Status {
            code: 400,
            retry_after_ms: None,
            body: "bad tenant acme-tenant-1 with key key-abcdef123".into(),
        },
        0.0,
    );
    let w = t.queue_mut().unwrap().take_warnings();
    assert!(
        w[0].contains("acme-tenant-1") && !w[0].contains("key-abcdef123"),
        "{w:?}"
    );
}

/// Without an outbox everything waits in wasm memory: with `maxBytes` left at its default the
/// queue keeps MEMORY_MAX_BYTES of requests and counts what it drops; an explicit `maxBytes`,
/// or an outbox (the default 8 MiB, on disk past the resident bound), keeps more.
#[test]
fn without_an_outbox_the_default_bound_is_small_and_drops_are_counted() {
    use agensight_wasm::export::queue::MEMORY_MAX_BYTES;
    let run = |options: &str, outbox: bool| {
        let mut c = Core::new(parse(options).unwrap(), &[5; 32], 0.0);
        if outbox {
            c.export_spill_at(512 << 10);
        }
        let d = c.define("big", "trace", "");
        let input = format!("[\"{}\"]", "q".repeat(20_000));
        for i in 0..200 {
            let h = c.start(d, NONE, i as f64, &input, None);
            c.end(h, i as f64 + 1.0, "null", None);
            c.export_spill(i as f64 + 1.0); // as the exporter does when a batch's worth waits
        }
        let s = c.stats();
        assert_eq!(s.pending + s.dropped, 200, "every span accounted for");
        (c.queue().unwrap().resident_bytes(), s.dropped)
    };
    let (resident, dropped) = run(r#"{"mode":"prod","exporter":"otlp"}"#, false);
    assert!(resident <= MEMORY_MAX_BYTES, "{resident}");
    assert!(
        dropped > 100,
        "about 4 MB of captures past a 1 MiB bound: {dropped}"
    );
    let (_, dropped) = run(
        r#"{"mode":"prod","exporter":"otlp","queue":{"maxBytes":16777216}}"#,
        false,
    );
    assert_eq!(dropped, 0, "an explicit maxBytes is kept");
    // Set to the outbox default's very value, it is still what the user asked for.
    let (_, dropped) = run(
        r#"{"mode":"prod","exporter":"otlp","queue":{"maxBytes":8388608}}"#,
        false,
    );
    assert_eq!(dropped, 0, "an explicit 8 MiB is kept too");
    let (_, dropped) = run(r#"{"mode":"prod","exporter":"otlp"}"#, true);
    assert_eq!(dropped, 0, "with an outbox: 8 MiB");
}
