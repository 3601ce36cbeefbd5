//! The export queue, without I/O: it turns finished traces into jobs of requests for the
//! configured wire format, decides what to send next, and applies what each answer means
//! ([`super::policy`]). The JS side does the sending (the request through `exportHead` and
//! `exportBody`, an [`Outcome::reported`] back through `exportDone`), persists each job in the
//! outbox before its first send and deletes it once it is done.
//!
//! The Agensight API gets one request per
//! record, in order (session, trace, spans parents-first, prompts, completions, tools), after
//! the token was validated once for a project id; OTLP gets one request per batch of spans.

use super::policy::{backoff_ms, failure, is_retryable, Outcome};
use super::request::HttpRequest;
use crate::capture::redact::Redactor;
use crate::config::{Config, Exporter, Protocol, QueueSettings};
use crate::encode::agensight::{Encoder, Kind, Target};
use crate::json::{push_string, Obj};
use crate::model::Batch;
use std::collections::VecDeque;

mod spill;

/// One request's worth of a job.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// Appended to the endpoint (empty for OTLP, whose endpoint is the traces URL).
    pub path: String,
    /// Bytes as they go on the wire: JSON text, or an OTLP protobuf message.
    pub body: Vec<u8>,
    /// Spans this request carries (credited to `exported` or `failed`).
    pub spans: u64,
}

#[derive(Clone, Debug)]
struct Job {
    id: u64,
    validate: bool,
    parts: Vec<Part>,
    cursor: usize,
    attempts: u32,
    first_try_ms: Option<f64>,
    next_at_ms: f64,
    /// A job made before its batch was due (to be written to the outbox early) is not sent
    /// before then, unless forced (flush, a page being left).
    not_before_ms: f64,
    in_flight: bool,
    persisted: bool,
    /// Brought back from an earlier process's outbox.
    restored: bool,
    /// Agensight: made before the token was validated, so its bodies say `"project_id":null`
    /// until the project id is known ([`bind_project`]). Persisted like any job, so traces are
    /// durable while the API is down from start-up.
    unbound: bool,
    /// One of its requests was given up: its spans count as failed when it ends, not
    /// exported (a trace whose prompts or token total were refused did not land whole).
    failed: bool,
    bytes: usize,
    /// Its bodies are only in the outbox (`parts` is empty); [`Queue::reload`] brings them back.
    spilled: bool,
    /// Its spans while spilled (the parts that carried the count are gone).
    spilled_spans: u64,
    /// Named by [`Queue::spill`]: its outbox copy is being written; [`Queue::evict`] follows.
    spilling: bool,
    /// Named by [`Queue::to_load`]: its outbox copy is being read back.
    loading: bool,
}

#[derive(Clone, Debug, PartialEq)]
enum Auth {
    /// OTLP: nothing to validate.
    NotNeeded,
    Unvalidated,
    Valid(String),
    Invalid(String),
}

/// Counters reported by `flush()`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub exported: u64,
    pub failed: u64,
    pub dropped: u64,
}

pub struct Queue {
    pub settings: QueueSettings,
    exporter: Exporter,
    protocol: Protocol,
    endpoint: String,
    token: Option<String>,
    headers: Vec<(String, String)>,
    service: String,
    mode: crate::config::Mode,
    auth: Auth,
    pending: VecDeque<Batch>,
    pending_spans: usize,
    pending_bytes: usize,
    oldest_pending_ms: Option<f64>,
    jobs: VecDeque<Job>,
    bytes: usize,
    in_flight: usize,
    pub counts: Counts,
    /// Jobs dropped by the bounds whose outbox copies must go.
    dropped_jobs: Vec<u64>,
    /// Failures to report (dev mode prints them all).
    warnings: Vec<String>,
    /// Request-body bytes kept in memory at most when a durable outbox holds the rest
    /// ([`Queue::spill_at`]); `None`: no outbox, everything stays in memory (within the bounds).
    spill_at: Option<usize>,
}

#[cfg_attr(agensight_size, optimize(size))]
fn path_of(kind: Kind) -> String {
    match kind {
        Kind::TraceUpdate => "/logs/create/trace/update".into(),
        k => format!("/logs/create/{}", k.as_str()),
    }
}

impl Queue {
    /// A queue for `config`'s exporter, endpoint, token and headers, bounded and timed by its
    /// `queue` settings.
    pub fn new(config: &Config) -> Queue {
        Queue {
            settings: config.queue.clone(),
            exporter: config.exporter,
            protocol: config.protocol,
            endpoint: config.endpoint.clone(),
            token: config.token.clone(),
            headers: config.headers.clone(),
            service: config.name.clone(),
            mode: config.mode,
            auth: if config.exporter == Exporter::Otlp {
                Auth::NotNeeded
            } else {
                Auth::Unvalidated
            },
            pending: VecDeque::new(),
            pending_spans: 0,
            pending_bytes: 0,
            oldest_pending_ms: None,
            jobs: VecDeque::new(),
            bytes: 0,
            in_flight: 0,
            counts: Counts::default(),
            dropped_jobs: Vec::new(),
            warnings: Vec::new(),
            spill_at: None,
        }
    }

    /// A finished trace to export.
    pub fn add(&mut self, batch: Batch, now_ms: f64) {
        if let Auth::Invalid(_) = self.auth {
            self.counts.failed += batch.spans.len() as u64;
            return;
        }
        self.pending_spans += batch.spans.len();
        self.pending_bytes += batch_bytes(&batch);
        self.pending.push_back(batch);
        self.oldest_pending_ms.get_or_insert(now_ms);
        while self.pending_spans > self.settings.max_pending_spans
            || self.pending_bytes > self.settings.max_pending_bytes
        {
            let Some(old) = self.pop_pending() else { break };
            self.counts.dropped += old.spans.len() as u64;
        }
    }

    /// The oldest waiting trace, with the counters kept in step.
    fn pop_pending(&mut self) -> Option<Batch> {
        let b = self.pending.pop_front()?;
        self.pending_spans -= b.spans.len();
        self.pending_bytes -= batch_bytes(&b);
        Some(b)
    }

    /// Spans not yet accepted or given up: waiting, queued or in flight.
    pub fn pending_spans(&self) -> u64 {
        self.pending_spans as u64 + self.jobs.iter().map(Job::spans).sum::<u64>()
    }

    /// Whether nothing is waiting or in flight.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty() && self.jobs.is_empty()
    }

    /// Turns waiting traces into jobs, once their batch is due (or `force`, on flush).
    /// Jobs made are not sent before `hold` (ms; 0: at once): made early, for the outbox,
    /// they still go when their batch is due.
    fn make_jobs(&mut self, now_ms: f64, force: bool, hold: f64, new_id: &mut dyn FnMut() -> u64) {
        if let Auth::Unvalidated = self.auth {
            // Jobs restored from an earlier process wait for the token too: validate it even
            // when nothing new is waiting (before, a restart with only those sent nothing).
            if !self.pending.is_empty() || !self.jobs.is_empty() {
                self.start_validation(new_id);
            }
        }
        if self.pending.is_empty() {
            return;
        }
        // Due by time (or forced): everything waiting goes; due by size: full batches only.
        let all = force
            || self
                .oldest_pending_ms
                .is_some_and(|t| now_ms - t >= self.settings.batch_delay_ms);
        if !all && !self.full_batch_waits() {
            return;
        }
        match &self.auth {
            Auth::NotNeeded => {
                // The rest of a batch full by size waits for more (made into its own job, a
                // flood sent every other request with one trace in it).
                while !self.pending.is_empty() && (all || self.full_batch_waits()) {
                    let mut take = Vec::new();
                    let mut spans = 0;
                    let mut bytes = 0;
                    while let Some(b) = self.pending.front() {
                        let weight = batch_bytes(b);
                        if !take.is_empty()
                            && (spans + b.spans.len() > self.settings.max_batch_spans
                                || bytes + weight > self.batch_bytes())
                        {
                            break;
                        }
                        spans += b.spans.len();
                        bytes += weight;
                        take.extend(self.pop_pending());
                    }
                    // Room first: the body about to be made can then take the place of the
                    // one it pushes out of a full queue (made first, it had to go beside it,
                    // and wasm memory kept the hole).
                    self.drop_oldest(bytes, 1);
                    let body = match self.protocol {
                        // Sized once, so it is not grown by doubling: the body is its weight
                        // plus 1-2% (a full batch of 4,000-character captures: 258,004 bytes
                        // for 256 KiB of weight). With only 1 KiB of room every full batch
                        // outgrew it and held 512 KiB for a moment, which wasm memory keeps:
                        // 5.6 -> 4.5 MB behind the default queue without an outbox.
                        Protocol::HttpProtobuf => crate::encode::otlp_proto::encode_sized(
                            &take,
                            &self.service,
                            self.mode.as_str(),
                            bytes + bytes / 8 + 1024,
                        ),
                        Protocol::HttpJson => crate::encode::otlp_json::encode(
                            &take,
                            &self.service,
                            self.mode.as_str(),
                        )
                        .into_bytes(),
                    };
                    self.push_job(
                        Job::new(
                            new_id(),
                            vec![Part {
                                path: String::new(),
                                body,
                                spans: spans as u64,
                            }],
                        ),
                        hold,
                    );
                }
            }
            Auth::Valid(project) => {
                let project = project.clone();
                while let Some(b) = self.pop_pending() {
                    let parts = self.cloud_parts(&b, Some(&project));
                    self.push_job(Job::new(new_id(), parts), hold);
                }
            }
            Auth::Unvalidated => {
                // Made into jobs now all the same (project id to come), so that they can be
                // written to the outbox; they go once the token is validated.
                while let Some(b) = self.pop_pending() {
                    let parts = self.cloud_parts(&b, None);
                    let mut job = Job::new(new_id(), parts);
                    job.unbound = true;
                    self.push_job(job, hold);
                }
            }
            Auth::Invalid(_) => return,
        }
        // A rest left waiting keeps the oldest time: it is due no later than it was.
        if self.pending.is_empty() {
            self.oldest_pending_ms = None;
        }
    }

    /// Whether a batch's worth of traces waits (spans or captured bytes).
    fn full_batch_waits(&self) -> bool {
        self.pending_spans >= self.settings.max_batch_spans
            || self.pending_bytes >= self.batch_bytes()
    }

    /// The Agensight requests of one trace (`project`: `None` before the token is validated).
    fn cloud_parts(&self, b: &Batch, project: Option<&str>) -> Vec<Part> {
        let enc = Encoder {
            mode: self.mode,
            project_id: project,
            service: &self.service,
            target: Target::Cloud,
        };
        let mut parts = Vec::new();
        enc.encode(b, |kind, data| {
            let mut body = String::with_capacity(data.len() + 10);
            body.push_str("{\"data\":");
            body.push_str(data);
            body.push('}');
            parts.push(Part {
                path: path_of(kind),
                body: body.into_bytes(),
                spans: (kind == Kind::Span) as u64,
            });
        });
        parts
    }

    /// Queues the token validation first, once.
    #[cfg_attr(agensight_size, optimize(size))]
    fn start_validation(&mut self, new_id: &mut dyn FnMut() -> u64) {
        if self.jobs.iter().any(|j| j.validate) {
            return;
        }
        let mut body = String::new();
        let mut o = Obj::new(&mut body);
        o.str("token", self.token.as_deref().unwrap_or(""));
        o.finish();
        let mut job = Job::new(
            new_id(),
            vec![Part {
                path: "/auth/validate".into(),
                body: body.into_bytes(),
                spans: 0,
            }],
        );
        job.validate = true;
        job.persisted = true; // never stored: it holds the token
        self.jobs.push_front(job);
    }

    /// The token was validated: the jobs made before get the project id, and are written to
    /// the outbox again (the next send persists the bound version first).
    #[cfg_attr(agensight_size, optimize(size))]
    fn bind_unbound(&mut self, project: &str) {
        // A spilled job is bound when it is read back (its outbox text says it is unbound).
        for job in self.jobs.iter_mut().filter(|j| j.unbound && !j.spilled) {
            let before = job.bytes;
            bind_project(job, project);
            self.bytes = self.bytes - before + job.bytes;
        }
    }

    fn push_job(&mut self, mut job: Job, hold: f64) {
        job.not_before_ms = hold;
        // The bound counts body bytes; a body grown by doubling can hold twice that, which a
        // queue full of waiting requests would keep (seen as 6 MB of growth at the bound).
        for p in &mut job.parts {
            p.body.shrink_to_fit();
        }
        let at = self.jobs.len();
        self.insert_job(at, job);
    }

    fn insert_job(&mut self, at: usize, job: Job) {
        self.bytes += job.bytes;
        self.jobs.insert(at, job);
        self.drop_oldest(0, 0);
    }

    /// Drops the oldest jobs (not in flight, not the token validation) while the queue is
    /// past its bounds with `bytes` more in `jobs` more jobs (counted in `dropped`).
    fn drop_oldest(&mut self, bytes: usize, jobs: usize) {
        while self.bytes + bytes > self.max_bytes()
            || self.jobs.len() + jobs > self.settings.max_jobs
        {
            let Some(i) = self.jobs.iter().position(|j| !j.in_flight && !j.validate) else {
                break;
            };
            let old = self.jobs.remove(i).expect("position is valid");
            self.bytes -= old.bytes;
            self.counts.dropped += old.spans();
            self.dropped_jobs.push(old.id);
        }
    }

    /// Request-body bytes the queue holds at most: `maxBytes` when set, else
    /// [`OUTBOX_MAX_BYTES`] with an outbox (past the resident bound on disk) and
    /// [`MEMORY_MAX_BYTES`] without one.
    fn max_bytes(&self) -> usize {
        match (self.settings.max_bytes, self.spill_at) {
            (Some(set), _) => set,
            (None, Some(_)) => OUTBOX_MAX_BYTES,
            (None, None) => MEMORY_MAX_BYTES,
        }
    }

    /// The next job to send now, if any (and the concurrency limit allows). `new_id` makes
    /// ids for new jobs (random, so outbox files of two processes never collide).
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn next(
        &mut self,
        now_ms: f64,
        force: bool,
        new_id: &mut dyn FnMut() -> u64,
    ) -> Option<u64> {
        self.next_within(now_ms, force, None, new_id)
    }

    /// [`Queue::next`] for a page being left (`keepalive` requests): only a job whose next
    /// request body has at most `max_body` bytes, and without the concurrency limit (the
    /// byte budget bounds what goes). `None`: no byte limit, the concurrency limit applies.
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn next_within(
        &mut self,
        now_ms: f64,
        force: bool,
        max_body: Option<usize>,
        new_id: &mut dyn FnMut() -> u64,
    ) -> Option<u64> {
        self.make_jobs(now_ms, force, 0.0, new_id);
        if max_body.is_none() && self.in_flight >= self.settings.concurrency {
            return None;
        }
        let fits = |j: &Job| max_body.is_none_or(|max| j.parts[j.cursor].body.len() <= max);
        // With an outbox, bodies in flight count against the resident bound too (one job
        // always may go).
        let room = match (self.spill_at, max_body) {
            (Some(max), None) if self.in_flight > 0 => {
                let busy: usize = self
                    .jobs
                    .iter()
                    .filter(|j| j.in_flight)
                    .map(|j| j.bytes)
                    .sum();
                max.saturating_sub(busy)
            }
            _ => usize::MAX,
        };
        // While the token is being validated nothing else may go.
        let validating = self.jobs.front().is_some_and(|j| j.validate);
        let job = self
            .jobs
            .iter_mut()
            .take(if validating { 1 } else { usize::MAX })
            .find(|j| {
                !j.in_flight
                    && !j.spilled
                    && j.bytes <= room
                    && j.next_at_ms <= now_ms
                    && (force || j.not_before_ms <= now_ms)
                    && fits(j)
            })?;
        if let Auth::Unvalidated = self.auth {
            if !job.validate {
                return None; // restored jobs wait for the project id
            }
        }
        job.in_flight = true;
        job.first_try_ms.get_or_insert(now_ms);
        self.in_flight += 1;
        Some(job.id)
    }

    #[cfg_attr(agensight_size, optimize(size))]
    fn job(&self, id: u64) -> Option<&Job> {
        self.jobs.iter().find(|j| j.id == id)
    }

    /// Bytes of the body of job `id`'s next request (0 for an unknown job).
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn body_bytes(&self, id: u64) -> usize {
        self.job(id)
            .and_then(|j| j.parts.get(j.cursor))
            .map_or(0, |p| p.body.len())
    }

    /// Turns every waiting trace into jobs now and returns the ids of the jobs not yet
    /// written to the outbox, oldest first: what must be persisted so that the next start
    /// sends it (at exit; in browsers soon after each trace ends, as IndexedDB cannot be
    /// written while a page unloads). Jobs made here before their batch was due are not sent
    /// before it is (a flush sends them at once).
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn unsaved(&mut self, now_ms: f64, new_id: &mut dyn FnMut() -> u64) -> Vec<u64> {
        let hold = self.batch_due();
        self.make_jobs(now_ms, true, hold, new_id);
        self.jobs
            .iter()
            .filter(|j| !j.persisted)
            .map(|j| j.id)
            .collect()
    }

    /// The job as JSON for the outbox, the first time it is asked for (empty afterwards, and
    /// for the token validation, which is never stored).
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn persist(&mut self, id: u64) -> String {
        let exporter = self.exporter_name();
        let Some(job) = self.jobs.iter_mut().find(|j| j.id == id) else {
            return String::new();
        };
        if job.persisted {
            return String::new();
        }
        job.persisted = true;
        // Sized for the usual case at once (escapes in JSON text, 4/3 for base64): growing by
        // doubling would hold up to twice the job in memory for a moment.
        let mut out = String::with_capacity(job.bytes + job.bytes / 3 + 64);
        out.push_str("{\"v\":1,\"exporter\":\"");
        out.push_str(exporter);
        if job.unbound {
            out.push_str("\",\"unbound\":true,\"id\":\"");
        } else {
            out.push_str("\",\"id\":\"");
        }
        out.push_str(&job.id.to_string());
        out.push_str("\",\"parts\":[");
        for (i, p) in job.parts[job.cursor..].iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('[');
            push_string(&mut out, &p.path);
            out.push(',');
            // JSON text as a string (as version 1 always wrote it); other bytes (protobuf) as
            // `{"b64": ...}`, which a version 1 reader refuses instead of misreading.
            match std::str::from_utf8(&p.body) {
                Ok(text) => push_string(&mut out, text),
                Err(_) => {
                    out.push_str("{\"b64\":\"");
                    out.push_str(&base64::encode(&p.body));
                    out.push_str("\"}");
                }
            }
            out.push_str(&format!(",{}]", p.spans));
        }
        out.push_str("]}");
        out
    }

    #[cfg_attr(agensight_size, optimize(size))]
    fn exporter_name(&self) -> &'static str {
        match self.exporter {
            Exporter::Otlp => "otlp",
            Exporter::Agensight => "agensight",
        }
    }

    /// Brings back a job saved by an earlier process. Returns false when it is not one of
    /// ours (another exporter, or not a job at all), which the caller then deletes.
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn restore(&mut self, json: &str) -> bool {
        let Some(Entry { id, parts, unbound }) = self.parse_entry(json) else {
            return false;
        };
        if self.jobs.iter().any(|j| j.id == id) {
            return false;
        }
        let mut job = Job::new(id, parts);
        job.persisted = true;
        job.restored = true;
        self.bind_read_back(&mut job, unbound);
        // Older than anything this process made: it goes before this process's jobs not yet
        // tried (in browsers the outbox is read asynchronously, traces may have ended since).
        let at = self
            .jobs
            .iter()
            .position(|j| !j.validate && !j.restored && !j.in_flight && j.first_try_ms.is_none())
            .unwrap_or(self.jobs.len());
        self.insert_job(at, job);
        true
    }

    /// An outbox entry read: `None` when it is not one of ours or not whole.
    #[cfg_attr(agensight_size, optimize(size))]
    fn parse_entry(&self, json: &str) -> Option<Entry> {
        let v = crate::json::parse(json)?;
        if v["v"] != 1 || v["exporter"] != self.exporter_name() {
            return None;
        }
        let id = v["id"].as_str()?.parse::<u64>().ok()?;
        let mut parts = Vec::new();
        for p in v["parts"].as_array()? {
            let body = match &p[1] {
                crate::json::Value::String(text) => Some(text.clone().into_bytes()),
                b => b["b64"].as_str().and_then(base64::decode),
            }?;
            parts.push(Part {
                path: p[0].as_str()?.into(),
                body,
                spans: p[2].as_u64()?,
            });
        }
        (!parts.is_empty()).then_some(Entry {
            id,
            parts,
            unbound: v["unbound"] == true,
        })
    }

    /// A job read back from the outbox, saved before the token was validated (`unbound`):
    /// bound now if the project id is known, else when it is.
    #[cfg_attr(agensight_size, optimize(size))]
    fn bind_read_back(&self, job: &mut Job, unbound: bool) {
        if !unbound {
            return;
        }
        match &self.auth {
            Auth::Valid(project) => bind_project(job, project),
            _ => job.unbound = true,
        }
    }

    /// When the waiting traces' batch is due by time (0 when none wait).
    fn batch_due(&self) -> f64 {
        self.oldest_pending_ms
            .filter(|_| !self.pending.is_empty())
            .map_or(0.0, |t| t + self.settings.batch_delay_ms)
    }

    /// The request for job `id`'s current part.
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn request(&self, id: u64) -> Option<HttpRequest<'_>> {
        let job = self.job(id)?;
        let part = job.parts.get(job.cursor)?;
        // From the body, not today's option: a job restored from an older outbox may be JSON
        // while this process writes protobuf (whose ExportTraceServiceRequest starts 0x0a).
        let content_type = match (self.exporter, part.body.first()) {
            (Exporter::Otlp, Some(b'{')) => Protocol::HttpJson.content_type(),
            (Exporter::Otlp, _) => Protocol::HttpProtobuf.content_type(),
            (Exporter::Agensight, _) => "application/json",
        };
        let mut headers = vec![("content-type".to_string(), content_type.to_string())];
        if let (Auth::Valid(project), false) = (&self.auth, job.validate) {
            headers.push(("authorization".into(), format!("Bearer {project}")));
        }
        merge_headers(&mut headers, &self.headers);
        Some(HttpRequest {
            url: format!("{}{}", self.endpoint, part.path),
            body: &part.body,
            headers,
            timeout_ms: self.settings.timeout_ms,
        })
    }

    /// Records what came back for job `id`. `jitter` is a random number in [0, 1). Returns
    /// true when the job is finished (accepted or given up), so its outbox copy can go.
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn complete(&mut self, id: u64, outcome: Outcome, now_ms: f64, jitter: f64) -> bool {
        let Some(i) = self.jobs.iter().position(|j| j.id == id) else {
            return true;
        };
        if self.jobs[i].in_flight {
            self.jobs[i].in_flight = false;
            self.in_flight -= 1;
        }
        let Some(part) = self.jobs[i].parts.get(self.jobs[i].cursor) else {
            return false; // spilled: not sent, nothing to record
        };
        let url = format!("{}{}", self.endpoint, part.path);
        let retry_after = match &outcome {
            Outcome::Status { code, .. } if (200..300).contains(code) => {
                return self.accepted(i, &outcome);
            }
            Outcome::Status {
                code,
                retry_after_ms,
                body,
            } if !is_retryable(*code) => {
                return self.give_up(i, failure(&url, &outcome));
            }
            Outcome::Status { retry_after_ms, .. } => *retry_after_ms,
            Outcome::Network(_) => None,
        };
        let job = &mut self.jobs[i];
        job.attempts += 1;
        let delay = retry_after.unwrap_or_else(|| backoff_ms(&self.settings, job.attempts, jitter));
        let reason = failure(&url, &outcome);
        // The token validation is retried for as long as it takes: an API down (or slow) is
        // not a refused token, and giving up would drop every trace, outbox copies and all.
        if !job.validate
            && now_ms + delay - job.first_try_ms.unwrap_or(now_ms) > self.settings.deadline_ms
        {
            let attempts = job.attempts;
            return self.give_up(i, format!("{reason}; gave up after {attempts} attempts"));
        }
        job.next_at_ms = now_ms + delay;
        // Tenths in integers: `{:.1}` of an f64 linked core's float formatting, about 9 KB of
        // the .wasm (HACKING.md "Size"); the same text but on exact ties (x.x5 s rounds up).
        let tenths = (delay.max(0.0) / 100.0).round() as u64;
        self.warnings.push(format!(
            "{reason}; retrying in {}.{} s",
            tenths / 10,
            tenths % 10
        ));
        false
    }

    #[cfg_attr(agensight_size, optimize(size))]
    fn accepted(&mut self, i: usize, outcome: &Outcome) -> bool {
        let job = &mut self.jobs[i];
        if job.validate {
            let project = match outcome {
                Outcome::Status { body, .. } => crate::json::parse(body)
                    .and_then(|v| v["project_id"].as_str().map(str::to_string)),
                _ => None,
            };
            self.jobs.remove(i);
            match project {
                Some(p) if !p.is_empty() => {
                    self.bind_unbound(&p);
                    self.auth = Auth::Valid(p);
                }
                _ => {
                    self.invalid_token("the token validation answered without a project_id".into())
                }
            }
            return true;
        }
        self.advance(i)
    }

    #[cfg_attr(agensight_size, optimize(size))]
    fn give_up(&mut self, i: usize, reason: String) -> bool {
        if self.jobs[i].validate {
            self.jobs.remove(i);
            self.invalid_token(reason);
            return true;
        }
        self.jobs[i].failed = true;
        self.warnings.push(reason);
        // Agensight: one record failing does not hold back the rest of the trace.
        self.advance(i)
    }

    /// Moves job `i` on to its next request; true (and the job gone) when it has none left.
    #[cfg_attr(agensight_size, optimize(size))]
    fn advance(&mut self, i: usize) -> bool {
        let job = &mut self.jobs[i];
        job.cursor += 1;
        job.attempts = 0;
        job.first_try_ms = None;
        if job.cursor < job.parts.len() {
            return false;
        }
        // The job's spans are counted once, by all its requests' outcome.
        if job.failed {
            self.counts.failed += job.spans();
        } else {
            self.counts.exported += job.spans();
        }
        self.bytes -= job.bytes;
        self.jobs.remove(i);
        true
    }

    /// The token was refused: nothing can be sent; every waiting span fails, said once.
    #[cfg_attr(agensight_size, optimize(size))]
    fn invalid_token(&mut self, reason: String) {
        self.warnings.push(format!(
            "the Agensight token was not accepted ({reason}); traces are not exported"
        ));
        self.counts.failed += self.pending_spans();
        self.pending.clear();
        self.pending_spans = 0;
        self.pending_bytes = 0;
        for j in self.jobs.drain(..) {
            self.dropped_jobs.push(j.id);
        }
        self.bytes = 0;
        self.in_flight = 0;
        self.auth = Auth::Invalid(reason);
    }

    /// Milliseconds until something is due (0: now), or `None` when idle.
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn wake_in(&self, now_ms: f64) -> Option<f64> {
        let job = self
            .jobs
            .iter()
            .filter(|j| !j.in_flight && !j.spilled)
            .map(|j| j.next_at_ms.max(j.not_before_ms))
            .fold(None, |m: Option<f64>, t| Some(m.map_or(t, |m| m.min(t))));
        let batch = self
            .oldest_pending_ms
            .filter(|_| !self.pending.is_empty())
            .map(|t| t + self.settings.batch_delay_ms);
        let at = match (job, batch) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }?;
        Some((at - now_ms).max(0.0))
    }

    /// Outbox entries to delete (jobs dropped by the bounds or a refused token).
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn take_dropped_jobs(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.dropped_jobs)
    }

    #[cfg_attr(agensight_size, optimize(size))]
    pub fn take_warnings(&mut self) -> Vec<String> {
        // A receiver may echo what it got (the token, a header's credential, a key in a
        // record) in the error body quoted here: none of it is printed.
        let mut literals: Vec<String> = self.token.iter().cloned().collect();
        literals.extend(
            self.headers
                .iter()
                .filter(|(k, _)| is_secret_header(k))
                .map(|(_, v)| v.clone()),
        );
        let r = Redactor::new(literals);
        std::mem::take(&mut self.warnings)
            .iter()
            .map(|w| r.mask_text(w))
            .collect()
    }
}

/// An outbox entry as read back.
struct Entry {
    id: u64,
    parts: Vec<Part>,
    unbound: bool,
}

impl Job {
    /// The spans its requests carry: all still pending until its last request is answered.
    fn spans(&self) -> u64 {
        if self.spilled {
            return self.spilled_spans;
        }
        self.parts.iter().map(|p| p.spans).sum()
    }

    fn new(id: u64, parts: Vec<Part>) -> Job {
        let bytes = parts.iter().map(|p| p.body.len() + p.path.len()).sum();
        Job {
            id,
            validate: false,
            parts,
            cursor: 0,
            attempts: 0,
            first_try_ms: None,
            next_at_ms: 0.0,
            not_before_ms: 0.0,
            in_flight: false,
            persisted: false,
            restored: false,
            unbound: false,
            failed: false,
            bytes,
            spilled: false,
            spilled_spans: 0,
            spilling: false,
            loading: false,
        }
    }
}

/// Request-body bytes kept without an outbox by default (everything is in wasm memory, which
/// never shrinks; an edge isolate has 128 MB in all): with the exporter down, 4,000-character
/// captures, heap + wasm 22.9 MB behind 8 MiB, 12-13 MB behind this (OpenTelemetry JS: 6.2).
pub const MEMORY_MAX_BYTES: usize = 1 << 20;

/// Request-body bytes kept by default with an outbox: at most the resident bound of them in
/// memory, the rest on disk (or in IndexedDB).
pub const OUTBOX_MAX_BYTES: usize = 8 << 20;

/// Captured bytes (as [`batch_bytes`] weighs them) one OTLP request carries at most, besides
/// `maxBatchSpans`: a body is built whole in wasm memory (growing by doubling), so its size is
/// the transient peak on top of the queue's bounds; collectors also refuse large requests
/// (4 MiB is a common limit). 1 MiB here left 22 MB of wasm memory behind an 8 MiB queue with
/// the exporter down (scripts/bench/memory.mjs, otlp-down-4k); 256 KiB, 14 MB.
pub const MAX_BATCH_BYTES: usize = 256 << 10;

/// Puts `project` where the job's bodies say `"project_id":null` (the record fields: inside
/// captured JSON text every quote is escaped, so the pattern cannot match there) and marks the
/// job to be written to the outbox again.
#[cfg_attr(agensight_size, optimize(size))]
fn bind_project(job: &mut Job, project: &str) {
    let mut with = String::from("\"project_id\":");
    push_string(&mut with, project);
    for p in &mut job.parts {
        p.body = replace_all(&p.body, b"\"project_id\":null", with.as_bytes());
    }
    job.bytes = job.parts.iter().map(|p| p.body.len() + p.path.len()).sum();
    job.unbound = false;
    job.persisted = false;
}

/// `hay` with every `from` replaced by `to`, left to right, as `str::replace` does: a plain
/// scan from each `from[0]`, not `str::replace`'s two-way searcher (1.8 KB of .wasm for a call
/// made once per job after the token's validation).
#[cfg_attr(agensight_size, optimize(size))]
fn replace_all(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(hay.len() + to.len());
    let mut rest = hay;
    while let Some(i) = rest.iter().position(|&b| b == from[0]) {
        out.extend_from_slice(&rest[..i]);
        rest = &rest[i..];
        if rest.starts_with(from) {
            out.extend_from_slice(to);
            rest = &rest[from.len()..];
        } else {
            out.push(rest[0]);
            rest = &rest[1..];
        }
    }
    out.extend_from_slice(rest);
    out
}

/// The user's headers over ours: a user's name replaces ours (and an earlier user header of
/// the same name) whatever its case, so `Content-Type` given by the user is the only one sent.
///
/// ```ignore
/// let mut h = vec![("content-type".into(), "application/json".into())];
/// merge_headers(&mut h, &[("Content-Type".into(), "text/plain".into())]);
/// assert_eq!(h, [("Content-Type".into(), "text/plain".into())]);
/// ```
#[cfg_attr(agensight_size, optimize(size))]
pub(crate) fn merge_headers(ours: &mut Vec<(String, String)>, user: &[(String, String)]) {
    for (k, v) in user {
        ours.retain(|(o, _)| !o.eq_ignore_ascii_case(k));
        ours.push((k.clone(), v.clone()));
    }
}

/// Whether a header carries a credential (its value is masked in warnings): authorization,
/// cookies, API keys, tokens, secrets. Other values (a tenant, a content type) are shown.
#[cfg_attr(agensight_size, optimize(size))]
pub(crate) fn is_secret_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "auth",
        "cookie",
        "key",
        "token",
        "secret",
        "password",
        "signature",
        "session",
    ]
    .iter()
    .any(|w| n.contains(w))
}

/// What a waiting trace weighs: its captured values, plus a little per span.
fn batch_bytes(b: &Batch) -> usize {
    b.spans
        .iter()
        .map(|s| {
            256 + s.input.as_ref().map_or(0, String::len)
                + s.output.as_ref().map_or(0, String::len)
                + s.metadata.as_ref().map_or(0, |m| m.len())
        })
        .sum()
}

/// Standard base64 (RFC 4648, padded) for binary bodies in the outbox's JSON.
mod base64 {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    #[cfg_attr(agensight_size, optimize(size))]
    pub fn encode(b: &[u8]) -> String {
        let mut out = String::with_capacity(b.len().div_ceil(3) * 4);
        for c in b.chunks(3) {
            let n = (c[0] as u32) << 16
                | (*c.get(1).unwrap_or(&0) as u32) << 8
                | *c.get(2).unwrap_or(&0) as u32;
            for i in 0..4 {
                out.push(if i <= c.len() {
                    ABC[(n >> (18 - 6 * i)) as usize & 63] as char
                } else {
                    '='
                });
            }
        }
        out
    }

    /// None for anything but padded standard base64.
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn decode(s: &str) -> Option<Vec<u8>> {
        if !s.len().is_multiple_of(4) {
            return None;
        }
        let mut out = Vec::with_capacity(s.len() / 4 * 3);
        for (q, c) in s.as_bytes().chunks(4).enumerate() {
            let last = q + 1 == s.len() / 4;
            let pad = c.iter().rev().take_while(|&&x| x == b'=').count();
            if pad > 2 || (pad > 0 && !last) {
                return None;
            }
            let mut n = 0u32;
            for &x in &c[..4 - pad] {
                n = n << 6 | ABC.iter().position(|&a| a == x)? as u32;
            }
            n <<= 6 * pad as u32;
            out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
        }
        Some(out)
    }

    #[cfg(test)]
    #[test]
    fn round_trips_every_length_and_refuses_junk() {
        for len in 0..10 {
            let b: Vec<u8> = (0..len).map(|i| (i * 97 + 200) as u8).collect();
            assert_eq!(decode(&encode(&b)), Some(b));
        }
        assert_eq!(encode(b"foob"), "Zm9vYg==");
        assert_eq!(decode("Zm9vYg=="), Some(b"foob".to_vec()));
        for bad in ["Zm9", "Zm=vYg==", "Zm9vYg=a", "Zm9v!g=="] {
            assert_eq!(decode(bad), None, "{bad}");
        }
    }
}

#[cfg(test)]
#[test]
fn replace_all_matches_str_replace() {
    let from = "\"project_id\":null";
    for hay in [
        "",
        "\"",
        from,
        "{\"project_id\":null,\"x\":\"\\\"project_id\\\":null\"}",
        "\"\"project_id\":null\"project_id\":nul\"project_id\":null",
        "\"project_id\":\"project_id\":null",
        "ü\"project_id\":nullé",
    ] {
        let got = replace_all(hay.as_bytes(), from.as_bytes(), b"\"project_id\":\"p1\"");
        assert_eq!(
            got,
            hay.replace(from, "\"project_id\":\"p1\"").into_bytes(),
            "{hay}"
        );
    }
}
