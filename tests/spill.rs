//! Spilling the export backlog to the outbox (src/export/queue/spill.rs), on the host with
//! simulated time and a map standing in for the outbox: past the resident bound bodies leave
//! memory and come back in order; nothing is sent twice or lost in silence.

use agensight_wasm::config::parse;
use agensight_wasm::core::{Core, Ended};
use agensight_wasm::export::policy::Outcome;
use agensight_wasm::tracer::NONE;
use std::collections::HashMap;

const OTLP: &str = r#"{"mode":"prod","exporter":"otlp","protocol":"http/json","queue":{"maxBatchSpans":1,"concurrency":2}}"#;
/// Bytes of each trace's captured input: a job is a bit more than this.
const FIELD: usize = 1000;

fn ok(body: &str) -> Outcome {
    Outcome::Status {
        code: 200,
        retry_after_ms: None,
        body: body.into(),
    }
}

fn down() -> Outcome {
    Outcome::Network("connect ECONNREFUSED".into())
}

/// The exporter's part, as js/exporter.js plays it, with `outbox` for the durable outbox.
struct Exporter {
    core: Core,
    outbox: HashMap<u64, String>,
    /// Trace numbers as the receiver got them.
    received: Vec<usize>,
}

impl Exporter {
    fn new(options: &str, resident: usize) -> Exporter {
        let mut core = Core::new(parse(options).unwrap(), &[3; 32], 0.0);
        core.export_spill_at(resident);
        Exporter {
            core,
            outbox: HashMap::new(),
            received: Vec::new(),
        }
    }

    /// Trace `i`: one span whose input names it; returns what `end` said.
    fn trace(&mut self, i: usize, now: f64) -> Ended {
        let d = self.core.define("job", "", "");
        let input = format!("\"#{i:05}#{}\"", "x".repeat(FIELD));
        let h = self.core.start(d, NONE, now, &input, None);
        self.core.end(h, now, "", None)
    }

    /// `spill()`: write out what the queue names, then evict it.
    fn spill(&mut self, now: f64) -> usize {
        let ids = self.core.export_spill(now);
        for &id in &ids {
            let text = self.core.export_persist(id);
            if !text.is_empty() {
                self.outbox.insert(id, text);
            }
            assert!(self.core.export_evict(id), "job {id} unchanged since named");
        }
        ids.len()
    }

    /// `absorb(poll())`: delete dropped copies, read back what the queue asks for.
    fn absorb(&mut self, now: f64) -> Vec<u64> {
        let p = self.core.export_poll(now);
        for id in &p.dropped {
            self.outbox.remove(id);
        }
        for &id in &p.load {
            let text = self.outbox.get(&id).cloned().unwrap_or_default();
            assert!(self.core.export_reload(id, &text), "job {id} read back");
        }
        p.load
    }

    /// One pump round: every due job is persisted, sent and answered with `answer`.
    fn round(&mut self, now: f64, answer: &dyn Fn() -> Outcome) -> usize {
        let mut sent = Vec::new();
        while let Some(id) = self.core.export_next(now, true) {
            let text = self.core.export_persist(id);
            if !text.is_empty() {
                self.outbox.insert(id, text);
            }
            sent.push(id);
        }
        for &id in &sent {
            let outcome = answer();
            if matches!(outcome, Outcome::Status { code: 200, .. }) {
                let body = self.core.export_request(id).unwrap().body.to_vec();
                self.received.extend(traces_in(&body));
            }
            if self.core.export_complete(id, outcome, now) {
                self.outbox.remove(&id);
            }
        }
        self.spill(now);
        let loaded = self.absorb(now);
        sent.len() + loaded.len()
    }

    fn resident(&self) -> usize {
        self.core.queue().unwrap().resident_bytes()
    }
}

/// The trace numbers an OTLP JSON body carries, in order.
fn traces_in(body: &[u8]) -> Vec<usize> {
    let text = String::from_utf8_lossy(body);
    text.split('#')
        .skip(1)
        .step_by(2)
        .map(|n| n.parse().unwrap())
        .collect()
}

#[test]
fn past_the_resident_bound_bodies_leave_memory_and_come_back_in_order_once() {
    let bound = 8 * FIELD;
    let mut e = Exporter::new(OTLP, bound);
    let n = 100;
    for i in 0..n {
        // One span per batch: each trace is due at once, and the core says so.
        assert_eq!(e.trace(i, 0.0), Ended::DrainNow, "trace {i}");
        e.spill(0.0);
        assert!(e.resident() <= bound, "{} > {bound}", e.resident());
    }
    let q = e.core.queue().unwrap();
    assert!(q.spilled_jobs() >= n - 8, "{} spilled", q.spilled_jobs());
    assert_eq!(
        q.pending_spans(),
        n as u64,
        "spilled jobs still count as pending"
    );
    assert_eq!(
        e.outbox.len(),
        q.spilled_jobs(),
        "each spilled job is in the outbox"
    );
    let stats = e.core.stats();
    assert_eq!(
        (stats.spilled as usize, stats.resident as usize),
        (q.spilled_jobs(), e.resident())
    );

    // The receiver is down for a while: the resident jobs fail and back off; the spilled ones
    // stay where they are (not read back while the resident window is busy retrying).
    let mut now = 0.0;
    for _ in 0..5 {
        e.round(now, &down);
        assert!(e.resident() <= bound);
        now += 60_000.0;
    }
    assert_eq!(e.core.stats().failed, 0);
    assert!(e.received.is_empty());

    // Back up: everything arrives once, in the order the traces ended.
    while e.round(now, &|| ok("{}")) > 0 {
        assert!(e.resident() <= bound, "{} > {bound}", e.resident());
        now += 1.0;
    }
    assert_eq!(e.received, (0..n).collect::<Vec<_>>());
    let s = e.core.stats();
    assert_eq!(
        (s.exported, s.failed, s.dropped, s.pending),
        (n as u64, 0, 0, 0)
    );
    assert!(e.outbox.is_empty(), "every copy deleted");
    assert!(e.core.queue().unwrap().is_idle());
}

#[test]
fn a_spilled_job_whose_entry_is_gone_or_corrupt_is_counted_failed() {
    let mut e = Exporter::new(OTLP, 2 * FIELD);
    for i in 0..6 {
        e.trace(i, 0.0);
    }
    e.spill(0.0);
    let mut spilled: Vec<u64> = e.outbox.keys().copied().collect();
    spilled.sort();
    assert!(spilled.len() >= 4, "{spilled:?}");
    let (gone, torn, swapped, kept) = (spilled[0], spilled[1], spilled[2], spilled[3]);
    let torn_text = e.outbox[&torn][..40].to_string();
    let kept_text = e.outbox[&kept].clone();
    e.outbox.remove(&gone);
    e.outbox.insert(torn, torn_text.clone());
    e.outbox.insert(swapped, kept_text.clone());

    let q = e.core.queue_mut().unwrap();
    assert!(!q.reload(gone, ""), "no entry");
    assert!(!q.reload(torn, &torn_text), "torn");
    assert!(!q.reload(swapped, &kept_text), "another job's text");
    assert!(q.reload(424242, ""), "not a spilled job: nothing to do");
    assert_eq!(q.counts.failed, 3, "each lost job's span, counted once");
    let mut dropped = q.take_dropped_jobs();
    dropped.sort();
    let mut want = vec![gone, torn, swapped];
    want.sort();
    assert_eq!(dropped, want, "their entries are deleted");
    assert_eq!(q.pending_spans(), 3);
    e.outbox.retain(|id, _| !want.contains(id));

    // The rest still goes.
    let mut now = 0.0;
    while e.round(now, &|| ok("{}")) > 0 {
        now += 1.0;
    }
    let s = e.core.stats();
    assert_eq!((s.exported, s.failed, s.pending), (3, 3, 0));
}

#[test]
fn a_job_that_changed_after_it_was_named_stays_in_memory() {
    let mut e = Exporter::new(OTLP, 0);
    for i in 0..3 {
        e.trace(i, 0.0);
    }
    let named = e.core.export_spill(0.0);
    assert_eq!(named.len(), 2, "all but the oldest job, newest first");
    // The oldest goes out; in flight it takes all the room (the bound is 0), so no other job
    // is sent alongside...
    let oldest = e.core.export_next(0.0, true).unwrap();
    assert!(!named.contains(&oldest));
    assert_eq!(
        e.core.export_next(0.0, true),
        None,
        "bodies in flight count too"
    );
    // ... but a page being left sends what fits its keepalive budget: the next job goes
    // before its copy is written.
    let second = e.core.export_next_within(0.0, true, Some(1 << 20)).unwrap();
    assert_eq!(second, named[1]);
    e.core.export_persist(second);
    assert!(!e.core.export_evict(second), "in flight: stays");
    assert!(e.core.export_request(second).is_some());
    e.core.export_persist(named[0]);
    assert!(e.core.export_evict(named[0]));
    assert!(!e.core.export_evict(named[0]), "once");
    assert!(!e.core.export_evict(99), "unknown");
    assert!(
        e.core.export_request(named[0]).is_none(),
        "no body in memory"
    );
    assert_eq!(e.core.export_body_bytes(named[0]), 0);
}

#[test]
fn agensight_jobs_spilled_before_the_token_is_validated_are_bound_when_read_back() {
    let opts = r#"{"mode":"prod","token":"tok-12345678","endpoint":"http://127.0.0.1:9/api","queue":{"maxBatchSpans":1}}"#;
    let mut e = Exporter::new(opts, 0);
    for i in 0..3 {
        e.trace(i, 0.0);
        e.spill(0.0);
    }
    let texts: Vec<&String> = e.outbox.values().collect();
    assert_eq!(texts.len(), 2, "all but the oldest job");
    assert!(texts
        .iter()
        .all(|t| t.contains(r#""unbound":true"#) && t.contains(r#"\"project_id\":null"#)));
    // Validation first, then every record; each body read back carries the project id.
    let id = e.core.export_next(0.0, true).unwrap();
    assert!(e
        .core
        .export_complete(id, ok(r#"{"project_id":"p-9"}"#), 0.0));
    let mut now = 1.0;
    let mut bodies = Vec::new();
    loop {
        let mut sent = Vec::new();
        while let Some(id) = e.core.export_next(now, true) {
            let text = e.core.export_persist(id);
            if !text.is_empty() {
                assert!(!text.contains(r#""unbound""#), "written again, bound");
                e.outbox.insert(id, text);
            }
            sent.push(id);
        }
        for &id in &sent {
            bodies
                .push(String::from_utf8(e.core.export_request(id).unwrap().body.to_vec()).unwrap());
            if e.core.export_complete(id, ok("{}"), now) {
                e.outbox.remove(&id);
            }
        }
        let loaded = e.absorb(now);
        if sent.is_empty() && loaded.is_empty() {
            break;
        }
        now += 1.0;
    }
    let with_project = bodies
        .iter()
        .filter(|b| b.contains(r#""project_id":"p-9""#))
        .count();
    assert_eq!(
        with_project, 6,
        "a trace and a span record per trace, bound: {bodies:#?}"
    );
    assert!(bodies.iter().all(|b| !b.contains(r#""project_id":null"#)));
    assert_eq!(e.core.stats().exported, 3);
}

#[test]
fn a_restored_outbox_is_not_all_brought_into_memory() {
    let mut first = Exporter::new(OTLP, usize::MAX);
    for i in 0..10 {
        first.trace(i, 0.0);
    }
    for id in first.core.export_unsaved(0.0) {
        let text = first.core.export_persist(id);
        first.outbox.insert(id, text);
    }
    let mut next = Exporter::new(OTLP, 3 * FIELD);
    let mut ids: Vec<u64> = first.outbox.keys().copied().collect();
    ids.sort();
    for id in ids {
        assert!(next.core.export_restore(&first.outbox[&id]));
        // Already in the outbox as it is: evicted without a write.
        for named in next.core.export_spill(0.0) {
            assert_eq!(next.core.export_persist(named), "");
            assert!(next.core.export_evict(named));
        }
        assert!(next.resident() <= 3 * FIELD + 2 * 400);
    }
    next.outbox = first.outbox.clone();
    let mut now = 0.0;
    while next.round(now, &|| ok("{}")) > 0 {
        now += 1.0;
    }
    let mut got = next.received.clone();
    got.sort();
    assert_eq!(got, (0..10).collect::<Vec<_>>());
    assert_eq!(next.core.stats().exported, 10);
}

#[test]
fn without_an_outbox_nothing_spills_but_batches_are_made_as_they_fill() {
    let opts = r#"{"mode":"prod","exporter":"otlp","protocol":"http/json","queue":{"maxBatchSpans":2,"batchDelayMs":1000}}"#;
    let mut core = Core::new(parse(opts).unwrap(), &[3; 32], 0.0);
    let d = core.define("job", "", "");
    let mut ended = Vec::new();
    for i in 0..4 {
        let h = core.start(d, NONE, i as f64, "\"x\"", None);
        ended.push(core.end(h, i as f64, "", None));
        if ended[i] == Ended::DrainNow {
            assert!(
                core.export_spill(i as f64).is_empty(),
                "no outbox: nothing named"
            );
        }
    }
    assert_eq!(
        ended,
        [
            Ended::Emitted,
            Ended::DrainNow,
            Ended::Emitted,
            Ended::DrainNow
        ],
        "a batch's worth waits: the core says so"
    );
    let q = core.queue().unwrap();
    assert_eq!((q.spilled_jobs(), q.pending_spans()), (0, 4));
    // Without an outbox a full batch goes at once (held for the batch delay, a flood piled up
    // past the bounds and was dropped while the receiver answered fast).
    assert_eq!(q.wake_in(3.0), Some(0.0), "full batches are due now");
    assert!(core.export_next(3.0, false).is_some());
    assert!(core.export_next(3.0, false).is_some());
    assert!(
        core.export_next(3.0, false).is_none(),
        "two jobs of two spans"
    );
    assert!(core.export_poll(3.0).load.is_empty());
}
