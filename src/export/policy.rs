//! The retry policy: what an answer means. 2xx is accepted; 408, 429, 5xx and network errors
//! are retried with exponential backoff and jitter (or after `Retry-After`) until the job's
//! deadline; any other status fails the request for good, with the reason kept.

use crate::config::QueueSettings;

/// What came back for a request.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Status {
        code: u16,
        retry_after_ms: Option<f64>,
        body: String,
    },
    /// No response: refused, reset, DNS, timed out.
    Network(String),
}

impl Outcome {
    /// What the JS transport reports for a request (`exportDone`): `status` 0 means no
    /// response, `network_error` saying why; a negative or NaN `retry_after_ms` means the
    /// response had no (usable) `Retry-After`.
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn reported(
        status: u16,
        retry_after_ms: f64,
        body: String,
        network_error: String,
    ) -> Outcome {
        if status == 0 {
            return Outcome::Network(if network_error.is_empty() {
                "no response".into()
            } else {
                network_error
            });
        }
        Outcome::Status {
            code: status,
            retry_after_ms: (retry_after_ms >= 0.0).then_some(retry_after_ms),
            body,
        }
    }
}

/// Whether a status is worth another try.
#[cfg_attr(agensight_size, optimize(size))]
pub fn is_retryable(code: u16) -> bool {
    code == 408 || code == 429 || code >= 500
}

/// The wait before try `attempts + 1` (`attempts` >= 1): doubling from the base up to the
/// maximum, jittered down by up to half (`jitter` in [0, 1)).
#[cfg_attr(agensight_size, optimize(size))]
pub fn backoff_ms(s: &QueueSettings, attempts: u32, jitter: f64) -> f64 {
    let backoff = (s.backoff_base_ms * 2f64.powi(attempts as i32 - 1)).min(s.backoff_max_ms);
    backoff * (0.5 + jitter / 2.0)
}

/// Why a request to `url` did not succeed, for the warnings.
#[cfg_attr(agensight_size, optimize(size))]
pub fn failure(url: &str, outcome: &Outcome) -> String {
    match outcome {
        Outcome::Status { code, body, .. } => format!("{url} answered {code}: {}", snippet(body)),
        Outcome::Network(e) => format!("{url} could not be reached: {e}"),
    }
}

/// The start of a response body, for a failure's reason (receivers explain themselves there),
/// without ASCII whitespace around it (`trim`'s Unicode table is 0.7 KB of .wasm).
#[cfg_attr(agensight_size, optimize(size))]
fn snippet(body: &str) -> String {
    let mut end = body.len().min(200);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    body[..end].trim_ascii().to_string()
}
