//! Spilling the backlog to the durable outbox: with an outbox (files, IndexedDB), only the
//! oldest jobs' request bodies stay in memory, up to a resident bound; the rest are written
//! there and dropped from memory, keeping what the queue needs to order, bound and count them
//! (id, size, attempts, due times, span count). They are read back in order as room frees up.
//! Without an outbox nothing spills: the queue's bounds drop the oldest and count them.
//!
//! The JS side does the I/O, in steps the queue checks: [`Queue::spill`] names the jobs to
//! write out, `persist` gives their text, [`Queue::evict`] drops a body once its copy is
//! written; [`Queue::to_load`] names the jobs to read back, [`Queue::reload`] takes the text.

use super::{Job, Queue, MAX_BATCH_BYTES};

/// With an outbox, traces are made into jobs (and spilled) by this share of the resident
/// bound: what is built in memory before it leaves stays a fraction of the bound.
const SPILL_BATCH_SHARE: usize = 4;

impl Queue {
    /// Keep at most `max_resident` bytes of request bodies in memory (an outbox holds the
    /// rest). Called once by an exporter that has an outbox.
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn spill_at(&mut self, max_resident: usize) {
        self.spill_at = Some(max_resident);
    }

    /// Request-body bytes in memory now (jobs not spilled, in flight or not).
    pub fn resident_bytes(&self) -> usize {
        self.jobs
            .iter()
            .filter(|j| !j.spilled)
            .map(|j| j.bytes)
            .sum()
    }

    /// Jobs whose bodies are only in the outbox.
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn spilled_jobs(&self) -> usize {
        self.jobs.iter().filter(|j| j.spilled).count()
    }

    /// Whether a batch's worth of traces waits to be made into jobs (and spilled, with an
    /// outbox) now: cheap, asked at the end of every trace. Without an outbox too: a job holds
    /// its traces in fewer bytes than the traces themselves, and waiting traces would otherwise
    /// pile up to `maxPendingBytes` before the batch delay ends.
    pub fn wants_spill(&self) -> bool {
        self.full_batch_waits()
    }

    /// Captured bytes one job carries at most ([`MAX_BATCH_BYTES`], a share of the resident
    /// bound with an outbox), also what makes waiting traces due.
    pub(super) fn batch_bytes(&self) -> usize {
        match self.spill_at {
            Some(max) => (max / SPILL_BATCH_SHARE).clamp(1, MAX_BATCH_BYTES),
            None => MAX_BATCH_BYTES,
        }
    }

    /// Makes the traces due by size into jobs (with or without an outbox), then names the jobs
    /// whose bodies should leave memory (newest first) until the rest fits the resident bound:
    /// persist each (`persist`, written again if it changed since), then [`Queue::evict`] it
    /// once written.
    /// Never the token validation, a job in flight, one partly sent, nor the oldest resident
    /// job (it goes next; reading it back only to spill it again would loop).
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn spill(&mut self, now_ms: f64, new_id: &mut dyn FnMut() -> u64) -> Vec<u64> {
        // With an outbox: made early, not to be sent before their batch is due by time (as
        // before). Without one, a full batch goes at once (held, a flood piled up past the
        // bounds in the batch delay and was dropped while the receiver answered fast).
        let hold = if self.spill_at.is_some() {
            self.batch_due()
        } else {
            0.0
        };
        self.make_jobs(now_ms, false, hold, new_id);
        let Some(max) = self.spill_at else {
            return Vec::new();
        };
        let mut resident = self.resident_bytes();
        let first = self.jobs.iter().position(|j| !j.validate && !j.spilled);
        let mut out = Vec::new();
        for (i, j) in self.jobs.iter_mut().enumerate().rev() {
            if resident <= max {
                break;
            }
            if j.validate || j.spilled || j.in_flight || j.cursor > 0 || Some(i) == first {
                continue;
            }
            resident -= j.bytes;
            if !j.spilling {
                j.spilling = true;
                out.push(j.id);
            }
        }
        out
    }

    /// Job `id`'s outbox copy is written: its bodies leave memory. False (nothing changes)
    /// when the job changed since [`Queue::spill`] named it (sent, in flight, rebound to a
    /// project, finished), so the copy might not be the job any more.
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn evict(&mut self, id: u64) -> bool {
        let Some(j) = self.jobs.iter_mut().find(|j| j.id == id) else {
            return false;
        };
        let ok = j.spilling && j.persisted && !j.in_flight && !j.spilled && j.cursor == 0;
        j.spilling = false;
        if ok {
            j.spilled_spans = j.spans();
            j.parts = Vec::new();
            j.spilled = true;
        }
        ok
    }

    /// Spilled jobs to read back now, oldest first, while they fit the resident bound (one
    /// always may, when nothing else is in memory); each is named once.
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn to_load(&mut self) -> Vec<u64> {
        let Some(max) = self.spill_at else {
            return Vec::new();
        };
        let mut resident = self.resident_bytes();
        let mut any = self.jobs.iter().any(|j| !j.validate && !j.spilled);
        let mut out = Vec::new();
        for j in self.jobs.iter_mut().filter(|j| j.spilled) {
            if !j.loading {
                if any && resident + j.bytes > max {
                    break;
                }
                j.loading = true;
                out.push(j.id);
            }
            resident += j.bytes;
            any = true;
        }
        out
    }

    /// The outbox text of spilled job `id`, read back (`""`: there was none). True when the
    /// job has its bodies again (or is no longer waiting). False when the text is missing or
    /// not this job's (removed, torn, overwritten): the job is gone, its spans counted failed,
    /// its outbox entry to be deleted (`take_dropped_jobs`); the caller warns.
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn reload(&mut self, id: u64, json: &str) -> bool {
        let Some(i) = self.jobs.iter().position(|j| j.id == id && j.spilled) else {
            return true;
        };
        let entry = self.parse_entry(json).filter(|e| {
            e.id == id && e.parts.iter().map(|p| p.spans).sum::<u64>() == self.jobs[i].spilled_spans
        });
        let Some(entry) = entry else {
            let lost = self.jobs.remove(i).expect("position is valid");
            self.bytes -= lost.bytes;
            self.counts.failed += lost.spilled_spans;
            self.dropped_jobs.push(id);
            return false;
        };
        let mut back = Job::new(id, entry.parts);
        back.persisted = true;
        self.bind_read_back(&mut back, entry.unbound);
        let j = &mut self.jobs[i];
        self.bytes = self.bytes - j.bytes + back.bytes;
        j.bytes = back.bytes;
        j.parts = back.parts;
        j.unbound = back.unbound;
        // Bound here: written again (bound) before its next send.
        j.persisted = back.persisted;
        j.spilled = false;
        j.loading = false;
        true
    }
}
