//! `init()` options: parsed from the JSON the JS wrapper sends (functions sent as the string
//! `"function"`), validated with messages that say what to do, and normalized.

use crate::capture::limits::MIN_BUDGET;
use crate::error::{Error, Result};
use crate::json::Obj;
use crate::json::{Map, Value};
use crate::model::SessionSpec;

/// The Agensight cloud API the Python SDK uses.
pub const AGENSIGHT_ENDPOINT: &str =
    "https://1vrnlwnych.execute-api.ap-south-1.amazonaws.com/prod/api/v1";
/// The OTLP/HTTP convention.
pub const OTLP_ENDPOINT: &str = "http://localhost:4318/v1/traces";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Local,
    Dev,
    Prod,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Local => "local",
            Mode::Dev => "dev",
            Mode::Prod => "prod",
        }
    }
    /// Whether spans are sent over the network.
    pub fn exports(self) -> bool {
        self != Mode::Local
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exporter {
    Agensight,
    Otlp,
}

/// How OTLP goes on the wire (the `protocol` option, named as `OTEL_EXPORTER_OTLP_PROTOCOL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `application/x-protobuf`: the OTLP default, the one every receiver takes.
    HttpProtobuf,
    /// `application/json` (OTLP's JSON mapping).
    HttpJson,
}

impl Protocol {
    /// The request's content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Protocol::HttpProtobuf => "application/x-protobuf",
            Protocol::HttpJson => "application/json",
        }
    }
}

/// Bounds and timings of the export queue (the `queue` option).
#[derive(Clone, Debug, PartialEq)]
pub struct QueueSettings {
    /// Spans per OTLP request.
    pub max_batch_spans: usize,
    /// Finished traces wait this long for more to batch with, unless flushed.
    pub batch_delay_ms: f64,
    /// Requests in flight at once.
    pub concurrency: usize,
    /// The outbox holds at most this many bytes and jobs; past that the oldest job is dropped
    /// (its spans counted in `dropped`). `None` (not set): 8 MiB with an outbox, and
    /// `export::queue::MEMORY_MAX_BYTES` without one (then it is all in memory).
    pub max_bytes: Option<usize>,
    pub max_jobs: usize,
    /// Traces waiting to become jobs (before the token is validated, say), at most.
    pub max_pending_spans: usize,
    /// ... and at most this many bytes of captured values (the count alone would let large
    /// captures grow memory without bound while a receiver is down).
    pub max_pending_bytes: usize,
    pub backoff_base_ms: f64,
    pub backoff_max_ms: f64,
    /// A job still failing this long after its first attempt is given up (counted failed).
    pub deadline_ms: f64,
    /// One request's time limit.
    pub timeout_ms: f64,
}

impl Default for QueueSettings {
    #[cfg_attr(agensight_size, optimize(size))]
    fn default() -> QueueSettings {
        QueueSettings {
            max_batch_spans: 512,
            batch_delay_ms: 1000.0,
            concurrency: 4,
            // Small by default: an edge isolate has 128 MB in all, and wasm memory never
            // shrinks; the peak under an outage is about these two plus the JS heap.
            max_bytes: None,
            max_jobs: 10_000,
            max_pending_spans: 100_000,
            max_pending_bytes: 512 << 10,
            backoff_base_ms: 500.0,
            backoff_max_ms: 30_000.0,
            deadline_ms: 300_000.0,
            timeout_ms: 10_000.0,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    pub name: String,
    pub mode: Mode,
    pub token: Option<String>,
    pub session: Option<SessionSpec>,
    pub exporter: Exporter,
    /// OTLP's wire format (the Agensight API is JSON whatever this says).
    pub protocol: Protocol,
    pub endpoint: String,
    pub headers: Vec<(String, String)>,
    /// "auto" | "indexeddb" | "file" | "memory" | "none" (from `false`).
    pub storage: String,
    pub dir: String,
    pub capture_input: bool,
    pub capture_output: bool,
    /// Built-in secret patterns on: false only for `redact: false` (a redact function adds to
    /// them; the JS wrapper applies it).
    pub redact: bool,
    pub max_field_bytes: usize,
    /// The local store's bound in bytes (the JS stores rotate and cap at it).
    pub max_store_bytes: u64,
    pub sample_rate: f64,
    /// Export queue timings and bounds (the `queue` option).
    pub queue: QueueSettings,
}

impl Default for Config {
    #[cfg_attr(agensight_size, optimize(size))]
    fn default() -> Config {
        Config {
            name: "default".into(),
            mode: Mode::Local,
            token: None,
            session: None,
            exporter: Exporter::Agensight,
            protocol: Protocol::HttpProtobuf,
            endpoint: AGENSIGHT_ENDPOINT.into(),
            headers: Vec::new(),
            storage: "auto".into(),
            dir: ".agensight".into(),
            capture_input: true,
            capture_output: true,
            redact: true,
            max_field_bytes: 65536,
            max_store_bytes: DEFAULT_STORE_BYTES,
            sample_rate: 1.0,
            queue: QueueSettings::default(),
        }
    }
}

impl Config {
    /// The options as `configure` returns them to the JS wrapper, normalized (defaults filled
    /// in, the endpoint without its trailing slash).
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn normalized_json(&self) -> String {
        let mut out = String::with_capacity(256);
        let mut o = Obj::new(&mut out);
        o.bool("captureInput", self.capture_input)
            .bool("captureOutput", self.capture_output)
            .str("dir", &self.dir)
            .str("endpoint", &self.endpoint)
            .str(
                "exporter",
                match self.exporter {
                    Exporter::Agensight => "agensight",
                    Exporter::Otlp => "otlp",
                },
            )
            .int("maxFieldBytes", self.max_field_bytes as u64)
            .int("maxStoreBytes", self.max_store_bytes)
            .str("mode", self.mode.as_str())
            .str("name", &self.name)
            .str("storage", &self.storage);
        o.finish();
        out
    }
}

/// `maxStoreBytes`: 256 MiB by default, at least 1 MiB, at most 2^53 - 1 (a JS safe integer).
pub const DEFAULT_STORE_BYTES: u64 = 256 << 20;
pub const MIN_STORE_BYTES: u64 = 1 << 20;
pub const MAX_STORE_BYTES: u64 = (1 << 53) - 1;

const KNOWN: &[&str] = &[
    "name",
    "mode",
    "token",
    "session",
    "exporter",
    "protocol",
    "endpoint",
    "headers",
    "storage",
    "dir",
    "capture",
    "redact",
    "maxFieldBytes",
    "maxStoreBytes",
    "sampleRate",
    "fetch",
    "allowInsecureEndpoint",
    "queue",
];

#[cfg_attr(agensight_size, optimize(size))]
fn invalid(message: String) -> Error {
    Error::new("invalid_option", message)
}

#[cfg_attr(agensight_size, optimize(size))]
fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg_attr(agensight_size, optimize(size))]
fn string_opt(o: &Map, key: &str) -> Result<Option<String>> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(v) => Err(invalid(format!(
            "init(): `{key}` must be a string, got {}",
            kind(v)
        ))),
    }
}

#[cfg_attr(agensight_size, optimize(size))]
fn bool_opt(o: &Map, key: &str, default: bool) -> Result<bool> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(default),
        Some(Value::Bool(b)) => Ok(*b),
        Some(v) => Err(invalid(format!(
            "init(): `{key}` must be true or false, got {}",
            kind(v)
        ))),
    }
}

/// Parses and validates `init()` options given as JSON text.
///
/// ```
/// use agensight_wasm::config::{parse, Mode};
/// let c = parse(r#"{"name":"chat","session":"user_456"}"#).unwrap();
/// assert_eq!((c.name.as_str(), c.mode), ("chat", Mode::Local));
/// let e = parse(r#"{"mode":"prod"}"#).unwrap_err();
/// assert_eq!(e.code, "missing_token");
/// ```
#[cfg_attr(agensight_size, optimize(size))]
pub fn parse(json: &str) -> Result<Config> {
    let v = crate::json::parse(json)
        .ok_or_else(|| invalid("init(): options are not valid JSON".into()))?;
    let o = match v {
        Value::Null => Map::new(),
        Value::Object(o) => o,
        other => return Err(opt::not_an_object(&other)),
    };
    if let Some(k) = o.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(opt::unknown_option(k));
    }
    let mut c = Config::default();
    if let Some(n) = string_opt(&o, "name")? {
        if n.is_empty() {
            return Err(invalid("init(): `name` must not be empty".into()));
        }
        c.name = n;
    }
    c.mode = match string_opt(&o, "mode")?.as_deref() {
        None | Some("local") => Mode::Local,
        Some("dev") => Mode::Dev,
        Some("prod") => Mode::Prod,
        Some(m) => return Err(opt::invalid_mode(m)),
    };
    c.token = string_opt(&o, "token")?.filter(|t| !t.is_empty());
    c.exporter = match string_opt(&o, "exporter")?.as_deref() {
        None | Some("agensight") => Exporter::Agensight,
        Some("otlp") => Exporter::Otlp,
        Some(e) => return Err(opt::invalid_exporter(e)),
    };
    c.protocol = match string_opt(&o, "protocol")?.as_deref() {
        None | Some("http/protobuf") => Protocol::HttpProtobuf,
        Some("http/json") => Protocol::HttpJson,
        Some(p) => return Err(opt::invalid_protocol(p)),
    };
    if c.mode.exports() && c.exporter == Exporter::Agensight && c.token.is_none() {
        return Err(opt::missing_token(c.mode));
    }
    c.endpoint = match string_opt(&o, "endpoint")? {
        Some(e) => e.trim_end_matches('/').to_string(),
        None if c.exporter == Exporter::Otlp => OTLP_ENDPOINT.into(),
        None => AGENSIGHT_ENDPOINT.into(),
    };
    check_endpoint(&c.endpoint, bool_opt(&o, "allowInsecureEndpoint", false)?)?;
    if let Some(v) = o.get("session") {
        c.session = opt::session(v)?;
    }
    if let Some(v) = o.get("headers") {
        opt::headers(v, &mut c.headers)?;
    }
    if let Some(v) = o.get("storage") {
        c.storage = opt::storage(v)?;
    }
    if let Some(d) = string_opt(&o, "dir")? {
        c.dir = d;
    }
    if let Some(v) = o.get("capture") {
        opt::capture(v, &mut c)?;
    }
    if let Some(v) = o.get("redact") {
        c.redact = opt::redact(v)?;
    }
    if let Some(v) = o.get("maxFieldBytes") {
        c.max_field_bytes = opt::max_field_bytes(v)?;
    }
    if let Some(v) = o.get("maxStoreBytes") {
        c.max_store_bytes = opt::max_store_bytes(v)?;
    }
    if let Some(v) = o.get("sampleRate") {
        c.sample_rate = opt::sample_rate(v)?;
    }
    if let Some(v) = o.get("queue") {
        opt::queue(v, &mut c.queue)?;
    }
    Ok(c)
}

/// What `parse` reads only when an option is given, and its errors: each its own function,
/// kept out of `parse` (scripts/build's `--no-inline=*::config::opt::*`), because a runtime
/// compiles a wasm function whole at its first call, and an `init()` with the common options
/// (a worker's first request: HACKING.md, "Cold start") calls none of these.
mod opt {
    use super::*;

    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn not_an_object(v: &Value) -> Error {
        invalid(format!(
            "init(): options must be an object, got {}",
            kind(v)
        ))
    }

    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn unknown_option(k: &str) -> Error {
        let mut m = format!(
            "init(): unknown option `{k}`; known options are {}",
            KNOWN[0]
        );
        // Pushed, not `KNOWN.join(", ")`: join's generic copy loop is 0.9 KB of .wasm.
        for name in &KNOWN[1..] {
            m.push_str(", ");
            m.push_str(name);
        }
        invalid(m)
    }

    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn invalid_mode(m: &str) -> Error {
        Error::new(
            "invalid_mode",
            format!("init(): mode must be \"local\", \"dev\" or \"prod\", got \"{m}\""),
        )
    }

    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn invalid_exporter(e: &str) -> Error {
        invalid(format!(
            "init(): exporter must be \"agensight\" or \"otlp\", got \"{e}\""
        ))
    }

    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn invalid_protocol(p: &str) -> Error {
        invalid(format!(
            "init(): protocol must be \"http/protobuf\" (the default) or \"http/json\", got \"{p}\"{}",
            if p == "grpc" { " (OTLP over gRPC cannot be sent from fetch(); point the exporter at the receiver's OTLP/HTTP port, 4318 by default)" } else { "" }
        ))
    }

    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn missing_token(mode: Mode) -> Error {
        Error::new(
            "missing_token",
            format!("init(): mode \"{}\" sends traces to Agensight and needs your project token: init({{ mode: \"{}\", token: \"...\" }}), or use mode \"local\"", mode.as_str(), mode.as_str()),
        )
    }

    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn session(v: &Value) -> Result<Option<SessionSpec>> {
        match v {
            Value::Null => Ok(None),
            v => Ok(Some(
                SessionSpec::from_value(v).map_err(|m| invalid(format!("init(): {m}")))?,
            )),
        }
    }

    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn headers(h: &Value, headers: &mut Vec<(String, String)>) -> Result<()> {
        match h {
            Value::Null => {}
            Value::Object(m) => {
                for (k, v) in m {
                    match v {
                        Value::String(s) => headers.push((k.clone(), s.clone())),
                        other => {
                            return Err(invalid(format!(
                                "init(): header `{k}` must be a string, got {}",
                                kind(other)
                            )))
                        }
                    }
                }
            }
            other => {
                return Err(invalid(format!(
                    "init(): `headers` must be an object of strings, got {}",
                    kind(other)
                )))
            }
        }
        Ok(())
    }

    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn storage(v: &Value) -> Result<String> {
        match v {
            Value::Null => Ok("auto".into()),
            Value::Bool(false) => Ok("none".into()),
            Value::String(s) if ["auto", "indexeddb", "file", "memory"].contains(&s.as_str()) => Ok(s.clone()),
            v => Err(invalid(format!("init(): storage must be \"auto\", \"indexeddb\", \"file\", \"memory\" or false, got {v}"))),
        }
    }

    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn capture(v: &Value, c: &mut Config) -> Result<()> {
        match v {
            Value::Null => {}
            Value::Bool(b) => {
                c.capture_input = *b;
                c.capture_output = *b;
            }
            Value::Object(m) => {
                c.capture_input = bool_opt(m, "input", true)
                    .map_err(|_| invalid("init(): `capture.input` must be true or false".into()))?;
                c.capture_output = bool_opt(m, "output", true).map_err(|_| {
                    invalid("init(): `capture.output` must be true or false".into())
                })?;
            }
            v => {
                return Err(invalid(format!(
                    "init(): `capture` must be {{ input, output }} or a boolean, got {}",
                    kind(v)
                )))
            }
        }
        Ok(())
    }

    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn redact(v: &Value) -> Result<bool> {
        match v {
            Value::Null | Value::Bool(true) => Ok(true),
            Value::Bool(false) => Ok(false),
            // A function (sent as the string "function") adds to the built-in patterns: the JS
            // wrapper applies it before the value crosses, and the built-in masking still runs.
            Value::String(s) if s == "function" => Ok(true),
            v => Err(invalid(format!(
                "init(): `redact` must be true, false or a function, got {}",
                kind(v)
            ))),
        }
    }

    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn max_field_bytes(v: &Value) -> Result<usize> {
        match v.as_u64() {
            Some(n) if n as usize >= MIN_BUDGET && n <= 64 * 1024 * 1024 => Ok(n as usize),
            _ => Err(invalid(format!("init(): `maxFieldBytes` must be a whole number from {MIN_BUDGET} to 67108864, got {v}"))),
        }
    }

    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn max_store_bytes(v: &Value) -> Result<u64> {
        match v.as_u64() {
            Some(n) if (MIN_STORE_BYTES..=MAX_STORE_BYTES).contains(&n) => Ok(n),
            _ => Err(invalid(format!("init(): `maxStoreBytes` must be a whole number of bytes from {MIN_STORE_BYTES} (1 MiB) to {MAX_STORE_BYTES}, got {v}"))),
        }
    }

    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn sample_rate(v: &Value) -> Result<f64> {
        match v.as_f64() {
            Some(r) if (0.0..=1.0).contains(&r) => Ok(r),
            _ => Err(invalid(format!(
                "init(): `sampleRate` must be a number from 0 to 1, got {v}"
            ))),
        }
    }

    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn queue(v: &Value, s: &mut QueueSettings) -> Result<()> {
        match v {
            Value::Null => Ok(()),
            Value::Object(q) => read_queue(q, s),
            v => Err(invalid(format!(
                "init(): `queue` must be an object such as {{ timeoutMs: 5000 }}, got {}",
                kind(v)
            ))),
        }
    }

    /// An endpoint that is not https: plain http to a loopback host (or with
    /// `allowInsecureEndpoint`) gives what follows the scheme; anything else is an error.
    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn not_https(url: &str, allow_insecure: bool) -> Result<&str> {
        let Some(r) = url.strip_prefix("http://") else {
            return Err(invalid(format!(
                "init(): endpoint must be an http(s) URL, got \"{url}\""
            )));
        };
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        let name = if host.starts_with('[') {
            host.split(']').next().unwrap_or("").trim_start_matches('[')
        } else {
            host.split(':').next().unwrap_or("")
        };
        let ipv4_loopback = name.starts_with("127.")
            && name.split('.').count() == 4
            && name.split('.').all(|p| p.parse::<u8>().is_ok());
        let loopback = name == "localhost" || ipv4_loopback || name == "::1";
        if !loopback && !allow_insecure {
            return Err(Error::new(
                "insecure_endpoint",
                format!("init(): endpoint {url} is plain http and not loopback, so the token and traces would cross the network unencrypted; use https, or pass allowInsecureEndpoint: true"),
            ));
        }
        Ok(r)
    }

    #[inline(never)]
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn no_host(url: &str) -> Error {
        invalid(format!("init(): endpoint {url} has no host"))
    }
}

/// The `queue` option: `{ batchDelayMs, timeoutMs, deadlineMs, maxBytes, maxJobs, concurrency,
/// maxBatchSpans }`, each a positive number.
#[cfg_attr(agensight_size, optimize(size))]
fn read_queue(q: &Map, s: &mut QueueSettings) -> Result<()> {
    for (k, v) in q {
        let n = v
            .as_f64()
            .filter(|n| n.is_finite() && *n >= 0.0)
            .ok_or_else(|| {
                invalid(format!(
                    "init(): `queue.{k}` must be a number of 0 or more, got {v}"
                ))
            })?;
        let whole = || -> Result<usize> {
            if n >= 1.0 && n.fract() == 0.0 {
                Ok(n as usize)
            } else {
                Err(invalid(format!(
                    "init(): `queue.{k}` must be a whole number of 1 or more, got {v}"
                )))
            }
        };
        match k.as_str() {
            "batchDelayMs" => s.batch_delay_ms = n,
            "timeoutMs" => s.timeout_ms = n.max(1.0),
            "deadlineMs" => s.deadline_ms = n,
            "maxBytes" => s.max_bytes = Some(whole()?),
            "maxJobs" => s.max_jobs = whole()?,
            "maxPendingSpans" => s.max_pending_spans = whole()?,
            "maxPendingBytes" => s.max_pending_bytes = whole()?,
            "concurrency" => s.concurrency = whole()?,
            "maxBatchSpans" => s.max_batch_spans = whole()?,
            _ => return Err(invalid(format!("init(): unknown option `queue.{k}`; known: batchDelayMs, timeoutMs, deadlineMs, maxBytes, maxJobs, maxPendingSpans, maxPendingBytes, concurrency, maxBatchSpans"))),
        }
    }
    Ok(())
}

/// https anywhere; plain http only to loopback unless the user opted in.
#[cfg_attr(agensight_size, optimize(size))]
fn check_endpoint(url: &str, allow_insecure: bool) -> Result<()> {
    let rest = match url.strip_prefix("https://") {
        Some(r) => r,
        None => opt::not_https(url, allow_insecure)?,
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(opt::no_host(url));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let c = parse("{}").unwrap();
        assert_eq!(c, Config::default());
        assert_eq!(parse("null").unwrap(), Config::default());
    }

    #[test]
    fn unknown_option_lists_the_known_ones() {
        assert_eq!(
            parse(r#"{"nmae":"x"}"#).unwrap_err().message,
            "init(): unknown option `nmae`; known options are name, mode, token, session, \
             exporter, protocol, endpoint, headers, storage, dir, capture, redact, \
             maxFieldBytes, maxStoreBytes, sampleRate, fetch, allowInsecureEndpoint, queue"
        );
    }

    #[test]
    fn errors_say_what_to_do() {
        let e = parse(r#"{"mode":"production"}"#).unwrap_err();
        assert_eq!(e.code, "invalid_mode");
        assert!(e.message.contains("\"local\", \"dev\" or \"prod\""));
        let e = parse(r#"{"mode":"dev"}"#).unwrap_err();
        assert_eq!(e.code, "missing_token");
        assert!(e.message.contains("token: \"...\""));
        assert_eq!(
            parse(r#"{"name":5}"#).unwrap_err().message,
            "init(): `name` must be a string, got a number"
        );
        assert_eq!(
            parse(r#"{"sesion":"x"}"#).unwrap_err().code,
            "invalid_option"
        );
        assert_eq!(
            parse(r#"{"sampleRate":2}"#).unwrap_err().code,
            "invalid_option"
        );
        assert_eq!(
            parse(r#"{"maxFieldBytes":3}"#).unwrap_err().code,
            "invalid_option"
        );
        assert_eq!(
            parse(r#"{"capture":"yes"}"#).unwrap_err().code,
            "invalid_option"
        );
        assert_eq!(
            parse(r#"{"session":{"name":"no id"}}"#).unwrap_err().code,
            "invalid_option"
        );
    }

    #[test]
    fn max_store_bytes() {
        assert_eq!(parse("{}").unwrap().max_store_bytes, 268_435_456);
        assert_eq!(
            parse(r#"{"maxStoreBytes":1048576}"#)
                .unwrap()
                .max_store_bytes,
            1_048_576
        );
        assert_eq!(
            parse(r#"{"maxStoreBytes":9007199254740991}"#)
                .unwrap()
                .max_store_bytes,
            (1 << 53) - 1
        );
        for bad in [
            "1048575",
            "9007199254740992",
            "1048576.5",
            "-1",
            "\"1mb\"",
            "null",
        ] {
            let e = parse(&format!(r#"{{"maxStoreBytes":{bad}}}"#)).unwrap_err();
            assert_eq!(
                (e.code, e.message),
                ("invalid_option", format!("init(): `maxStoreBytes` must be a whole number of bytes from 1048576 (1 MiB) to 9007199254740991, got {bad}")),
            );
        }
        let normalized: serde_json::Value = serde_json::from_str(
            &parse(r#"{"maxStoreBytes":2097152}"#)
                .unwrap()
                .normalized_json(),
        )
        .unwrap();
        assert_eq!(normalized["maxStoreBytes"], 2_097_152);
    }

    #[test]
    fn endpoints() {
        let ok = |e: &str| {
            parse(&format!(
                r#"{{"mode":"prod","token":"t","endpoint":"{e}"}}"#
            ))
        };
        assert!(ok("https://api.example.com/v1").is_ok());
        assert!(ok("http://127.0.0.1:4318/v1").is_ok());
        assert!(ok("http://localhost:8080").is_ok());
        assert!(ok("http://[::1]:8080/x").is_ok());
        assert_eq!(
            ok("http://example.com").unwrap_err().code,
            "insecure_endpoint"
        );
        assert_eq!(
            ok("http://127.0.0.1.evil.com").unwrap_err().code,
            "insecure_endpoint"
        );
        assert_eq!(ok("ftp://x").unwrap_err().code, "invalid_option");
        let c = parse(r#"{"mode":"prod","exporter":"otlp"}"#).unwrap();
        assert_eq!(c.endpoint, OTLP_ENDPOINT);
        assert!(parse(r#"{"mode":"prod","token":"t","endpoint":"http://10.0.0.1","allowInsecureEndpoint":true}"#).is_ok());
    }

    #[test]
    fn options_are_read() {
        let c = parse(r#"{"name":"svc","session":{"id":"s1","name":"n","user_id":"u"},"capture":{"output":false},"redact":"function","maxFieldBytes":100,"sampleRate":0.5,"storage":false,"headers":{"x-a":"1"}}"#).unwrap();
        assert_eq!(c.session.unwrap().id, "s1");
        // A redact function adds to the built-in masking; only `false` turns it off.
        assert!(c.capture_input && !c.capture_output && c.redact);
        assert!(!parse(r#"{"redact":false}"#).unwrap().redact);
        assert_eq!(
            (c.max_field_bytes, c.sample_rate, c.storage.as_str()),
            (100, 0.5, "none")
        );
        assert_eq!(c.headers, vec![("x-a".to_string(), "1".to_string())]);
        assert_eq!(
            c.protocol,
            Protocol::HttpProtobuf,
            "protobuf by default, as the OpenTelemetry SDKs"
        );
        let json = parse(r#"{"exporter":"otlp","protocol":"http/json"}"#).unwrap();
        assert_eq!(json.protocol.content_type(), "application/json");
        let e = parse(r#"{"exporter":"otlp","protocol":"grpc"}"#).unwrap_err();
        assert_eq!(e.code, "invalid_option");
        assert!(e.message.starts_with(r#"init(): protocol must be "http/protobuf" (the default) or "http/json", got "grpc""#), "{}", e.message);
        assert!(parse(r#"{"protocol":5}"#).is_err());
    }

    /// Every rejection, exactly (code and message), and which one wins when several options
    /// are wrong (the order of `parse`, not of the JSON). Taken from the code before the
    /// options were read in functions of their own (`opt`).
    #[test]
    fn every_rejection() {
        #[rustfmt::skip]
        let cases: &[(&str, &str, &str)] = &[
            ("not json", "invalid_option", "init(): options are not valid JSON"),
            ("[1]", "invalid_option", "init(): options must be an object, got an array"),
            (r#""x""#, "invalid_option", "init(): options must be an object, got a string"),
            (r#"{"nmae":"x"}"#, "invalid_option", "init(): unknown option `nmae`; known options are name, mode, token, session, exporter, protocol, endpoint, headers, storage, dir, capture, redact, maxFieldBytes, maxStoreBytes, sampleRate, fetch, allowInsecureEndpoint, queue"),
            (r#"{"name":""}"#, "invalid_option", "init(): `name` must not be empty"),
            (r#"{"name":5}"#, "invalid_option", "init(): `name` must be a string, got a number"),
            (r#"{"mode":"production"}"#, "invalid_mode", r#"init(): mode must be "local", "dev" or "prod", got "production""#),
            (r#"{"mode":true}"#, "invalid_option", "init(): `mode` must be a string, got a boolean"),
            (r#"{"token":3}"#, "invalid_option", "init(): `token` must be a string, got a number"),
            (r#"{"exporter":"zipkin"}"#, "invalid_option", r#"init(): exporter must be "agensight" or "otlp", got "zipkin""#),
            (r#"{"protocol":"grpc"}"#, "invalid_option", r#"init(): protocol must be "http/protobuf" (the default) or "http/json", got "grpc" (OTLP over gRPC cannot be sent from fetch(); point the exporter at the receiver's OTLP/HTTP port, 4318 by default)"#),
            (r#"{"protocol":"http/xml"}"#, "invalid_option", r#"init(): protocol must be "http/protobuf" (the default) or "http/json", got "http/xml""#),
            (r#"{"mode":"dev"}"#, "missing_token", r#"init(): mode "dev" sends traces to Agensight and needs your project token: init({ mode: "dev", token: "..." }), or use mode "local""#),
            (r#"{"mode":"prod","exporter":"agensight","token":""}"#, "missing_token", r#"init(): mode "prod" sends traces to Agensight and needs your project token: init({ mode: "prod", token: "..." }), or use mode "local""#),
            (r#"{"endpoint":"ftp://x"}"#, "invalid_option", r#"init(): endpoint must be an http(s) URL, got "ftp://x""#),
            (r#"{"endpoint":"http://example.com"}"#, "insecure_endpoint", "init(): endpoint http://example.com is plain http and not loopback, so the token and traces would cross the network unencrypted; use https, or pass allowInsecureEndpoint: true"),
            (r#"{"endpoint":"https://"}"#, "invalid_option", r#"init(): endpoint must be an http(s) URL, got "https:""#),
            (r#"{"endpoint":"https:///path"}"#, "invalid_option", "init(): endpoint https:///path has no host"),
            (r#"{"endpoint":"http://user@127.0.0.1.evil.com:80/x"}"#, "insecure_endpoint", "init(): endpoint http://user@127.0.0.1.evil.com:80/x is plain http and not loopback, so the token and traces would cross the network unencrypted; use https, or pass allowInsecureEndpoint: true"),
            (r#"{"endpoint":7}"#, "invalid_option", "init(): `endpoint` must be a string, got a number"),
            (r#"{"allowInsecureEndpoint":"yes"}"#, "invalid_option", "init(): `allowInsecureEndpoint` must be true or false, got a string"),
            (r#"{"session":{"name":"no id"}}"#, "invalid_option", "init(): session needs a non-empty `id`: a string, or { id, name?, user_id? }"),
            (r#"{"session":[1]}"#, "invalid_option", "init(): session must be a string id or { id, name?, user_id? }"),
            (r#"{"headers":{"x-a":1}}"#, "invalid_option", "init(): header `x-a` must be a string, got a number"),
            (r#"{"headers":"x"}"#, "invalid_option", "init(): `headers` must be an object of strings, got a string"),
            (r#"{"storage":"disk"}"#, "invalid_option", r#"init(): storage must be "auto", "indexeddb", "file", "memory" or false, got "disk""#),
            (r#"{"storage":true}"#, "invalid_option", r#"init(): storage must be "auto", "indexeddb", "file", "memory" or false, got true"#),
            (r#"{"dir":false}"#, "invalid_option", "init(): `dir` must be a string, got a boolean"),
            (r#"{"capture":"yes"}"#, "invalid_option", "init(): `capture` must be { input, output } or a boolean, got a string"),
            (r#"{"capture":{"input":1}}"#, "invalid_option", "init(): `capture.input` must be true or false"),
            (r#"{"capture":{"output":"no"}}"#, "invalid_option", "init(): `capture.output` must be true or false"),
            (r#"{"redact":"all"}"#, "invalid_option", "init(): `redact` must be true, false or a function, got a string"),
            (r#"{"maxFieldBytes":3}"#, "invalid_option", "init(): `maxFieldBytes` must be a whole number from 16 to 67108864, got 3"),
            (r#"{"maxFieldBytes":null}"#, "invalid_option", "init(): `maxFieldBytes` must be a whole number from 16 to 67108864, got null"),
            (r#"{"maxStoreBytes":"1mb"}"#, "invalid_option", r#"init(): `maxStoreBytes` must be a whole number of bytes from 1048576 (1 MiB) to 9007199254740991, got "1mb""#),
            (r#"{"sampleRate":2}"#, "invalid_option", "init(): `sampleRate` must be a number from 0 to 1, got 2"),
            (r#"{"sampleRate":null}"#, "invalid_option", "init(): `sampleRate` must be a number from 0 to 1, got null"),
            (r#"{"queue":5}"#, "invalid_option", "init(): `queue` must be an object such as { timeoutMs: 5000 }, got a number"),
            (r#"{"queue":{"timeoutMs":-1}}"#, "invalid_option", "init(): `queue.timeoutMs` must be a number of 0 or more, got -1"),
            (r#"{"queue":{"maxJobs":1.5}}"#, "invalid_option", "init(): `queue.maxJobs` must be a whole number of 1 or more, got 1.5"),
            (r#"{"queue":{"foo":1}}"#, "invalid_option", "init(): unknown option `queue.foo`; known: batchDelayMs, timeoutMs, deadlineMs, maxBytes, maxJobs, maxPendingSpans, maxPendingBytes, concurrency, maxBatchSpans"),
            (r#"{"name":5,"mode":"bad","storage":"disk"}"#, "invalid_option", "init(): `name` must be a string, got a number"),
            (r#"{"storage":"disk","capture":"yes","queue":5}"#, "invalid_option", r#"init(): storage must be "auto", "indexeddb", "file", "memory" or false, got "disk""#),
        ];
        for (json, code, message) in cases {
            let e = parse(json).unwrap_err();
            assert_eq!((e.code, e.message.as_str()), (*code, *message), "{json}");
        }
    }

    /// `null` is the default for every option that takes it as "not given".
    #[test]
    fn null_is_not_given() {
        let c = parse(r#"{"name":null,"mode":null,"token":null,"exporter":null,"protocol":null,"endpoint":null,"allowInsecureEndpoint":null,"session":null,"headers":null,"storage":null,"dir":null,"capture":null,"redact":null,"queue":null}"#).unwrap();
        assert_eq!(c, Config::default());
    }
}
