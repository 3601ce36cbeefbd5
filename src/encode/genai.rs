//! The one writer of span attributes: the OpenTelemetry GenAI attributes of an LLM call
//! (`gen_ai.*`) for both wire formats, and the rest of an OTLP span's, resource's and
//! exception event's attributes. It writes typed values into an [`AttrSink`]; each encoder
//! brings its own sink (an OTLP JSON `attributes` list, the Agensight attributes object, an
//! OTLP protobuf `KeyValue` stream), so every format carries the same names and values.
//!
//! The two formats differ where their readers do ([`Dialect`]): the Agensight dashboard reads
//! the reference client's names (`gen_ai.usage.cache_read_input_tokens`, a total) and gets
//! prompts and completions as records of their own; OTLP receivers read the current semantic
//! conventions (`gen_ai.usage.cache_read.input_tokens`, `gen_ai.provider.name`) and the indexed
//! `gen_ai.prompt.N.*` / `gen_ai.completion.N.*` attributes that Langfuse, Phoenix and
//! OpenLLMetry read.

use crate::json::{push_string, Obj};
use crate::model::{ErrorInfo, FinishedSpan, LlmCall, TraceInfo};

/// Where attributes go, one typed value at a time, in the order written. Keys are the
/// encoders' own names (no escaping needed).
pub trait AttrSink {
    fn str(&mut self, key: &str, value: &str);
    /// A count (tokens, a limit); OTLP's `intValue` (int64: counts stay below 2^63).
    fn int(&mut self, key: &str, value: u64);
    /// OTLP's `doubleValue`.
    fn f64(&mut self, key: &str, value: f64);
    fn bool(&mut self, key: &str, value: bool);
    /// An array of strings (OTLP's `arrayValue` of `stringValue`s).
    fn str_array(&mut self, key: &str, items: &[&str]);
}

/// The Agensight attributes object (a JSON object; arrays as JSON arrays).
impl AttrSink for Obj<'_> {
    fn str(&mut self, key: &str, value: &str) {
        Obj::str(self, key, value);
    }
    fn int(&mut self, key: &str, value: u64) {
        Obj::int(self, key, value);
    }
    fn f64(&mut self, key: &str, value: f64) {
        self.num(key, value);
    }
    fn bool(&mut self, key: &str, value: bool) {
        Obj::bool(self, key, value);
    }
    fn str_array(&mut self, key: &str, items: &[&str]) {
        let mut a = String::from("[");
        for (i, s) in items.iter().enumerate() {
            if i > 0 {
                a.push(',');
            }
            push_string(&mut a, s);
        }
        a.push(']');
        self.raw(key, &a);
    }
}

/// Whose names the GenAI attributes follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// The Agensight API and local store, as the reference client (Python `agensight`) names
    /// them.
    Agensight,
    /// OTLP receivers: the OpenTelemetry GenAI semantic conventions.
    Otlp,
}

/// The GenAI attributes of an LLM call.
///
/// ```
/// use agensight_wasm::encode::genai::{llm_call, AttrSink, Dialect};
/// use agensight_wasm::model::LlmCall;
/// #[derive(Default)]
/// struct Keys(Vec<String>);
/// impl AttrSink for Keys {
///     fn str(&mut self, k: &str, _: &str) { self.0.push(k.into()) }
///     fn int(&mut self, k: &str, _: u64) { self.0.push(k.into()) }
///     fn f64(&mut self, k: &str, _: f64) { self.0.push(k.into()) }
///     fn bool(&mut self, k: &str, _: bool) { self.0.push(k.into()) }
///     fn str_array(&mut self, k: &str, _: &[&str]) { self.0.push(k.into()) }
/// }
/// let call = LlmCall { system: "openai".into(), operation: "chat".into(), ..Default::default() };
/// let mut keys = Keys::default();
/// llm_call(&call, Dialect::Otlp, &mut keys);
/// assert_eq!(keys.0[..3], ["gen_ai.operation.name", "gen_ai.system", "gen_ai.provider.name"]);
/// ```
#[cfg_attr(agensight_size, optimize(size))]
pub fn llm_call(l: &LlmCall, dialect: Dialect, a: &mut dyn AttrSink) {
    let otlp = dialect == Dialect::Otlp;
    if otlp {
        a.str("gen_ai.operation.name", &l.operation);
        a.str("gen_ai.system", &l.system);
        a.str("gen_ai.provider.name", &l.system);
    } else {
        a.str("gen_ai.system", &l.system);
        a.str("gen_ai.operation.name", &l.operation);
    }
    // OTLP backends price and group calls by the request's model: when the request's is
    // unknown (a function that returned a completion), the response's stands in.
    let request_model = match dialect {
        Dialect::Otlp => l.request_model.as_ref().or(l.response_model.as_ref()),
        Dialect::Agensight => l.request_model.as_ref(),
    };
    if let Some(m) = request_model {
        a.str("gen_ai.request.model", m);
    }
    if let Some(m) = &l.response_model {
        a.str("gen_ai.response.model", m);
    }
    if let Some(id) = &l.response_id {
        a.str("gen_ai.response.id", id);
    }
    if let Some(t) = l.temperature {
        a.f64("gen_ai.request.temperature", t);
    }
    if let Some(m) = l.max_tokens {
        a.int("gen_ai.request.max_tokens", m);
    }
    let u = &l.usage;
    a.int("gen_ai.usage.input_tokens", u.input);
    a.int("gen_ai.usage.output_tokens", u.output);
    if !otlp {
        a.int("gen_ai.usage.total_tokens", u.total);
    }
    let details = if otlp {
        [
            "gen_ai.usage.cache_read.input_tokens",
            "gen_ai.usage.cache_creation.input_tokens",
            "gen_ai.usage.reasoning.output_tokens",
        ]
    } else {
        [
            "gen_ai.usage.cache_read_input_tokens",
            "gen_ai.usage.cache_creation_input_tokens",
            "gen_ai.usage.reasoning_tokens",
        ]
    };
    for (k, v) in details
        .into_iter()
        .zip([u.cache_read, u.cache_creation, u.reasoning])
    {
        if let Some(v) = v {
            a.int(k, v);
        }
    }
    let reasons: Vec<&str> = l
        .completions
        .iter()
        .filter_map(|c| c.finish_reason.as_deref())
        .collect();
    a.str_array("gen_ai.response.finish_reasons", &reasons);
}

/// The deprecated indexed `gen_ai.prompt.N.*`, `gen_ai.completion.N.*` and the first
/// completion's tool calls: the Agensight dialect only, where the reference client's exporter
/// and dashboard read them (OTLP gets [`messages`]).
#[cfg_attr(agensight_size, optimize(size))]
pub fn indexed_messages(l: &LlmCall, a: &mut dyn AttrSink) {
    for (i, p) in l.prompts.iter().enumerate() {
        a.str(&indexed("gen_ai.prompt.", i, ".role"), &p.role);
        a.str(&indexed("gen_ai.prompt.", i, ".content"), &p.content);
    }
    for (i, c) in l.completions.iter().enumerate() {
        a.str(&indexed("gen_ai.completion.", i, ".role"), &c.role);
        a.str(&indexed("gen_ai.completion.", i, ".content"), &c.content);
        if let Some(f) = &c.finish_reason {
            a.str(&indexed("gen_ai.completion.", i, ".finish_reason"), f);
        }
    }
    const CALLS: &str = "gen_ai.completion.0.tool_calls.";
    for (j, tc) in l.tool_calls.iter().enumerate() {
        if let Some(id) = &tc.id {
            a.str(&indexed(CALLS, j, ".id"), id);
        }
        a.str(&indexed(CALLS, j, ".name"), &tc.name);
        a.str(&indexed(CALLS, j, ".arguments"), &tc.arguments);
    }
}

/// `{head}{i}{tail}`, an indexed attribute name (without `format!`: core::fmt's code per call
/// site added up in the .wasm, HACKING.md "Size").
#[cfg_attr(agensight_size, optimize(size))]
fn indexed(head: &str, i: usize, tail: &str) -> String {
    let mut k = String::with_capacity(head.len() + tail.len() + 4);
    k.push_str(head);
    k.push_str(itoa::Buffer::new().format(i));
    k.push_str(tail);
    k
}

/// The current GenAI conventions' messages, as JSON text in the spec's message/parts shape
/// (`gen-ai-input-messages.json`, `gen-ai-output-messages.json`): `gen_ai.system_instructions`
/// (the system prompts' text parts), `gen_ai.input.messages` (the other prompts),
/// `gen_ai.output.messages` (one per choice; the first carries the tool calls).
#[cfg_attr(agensight_size, optimize(size))]
pub fn messages(l: &LlmCall, a: &mut dyn AttrSink) {
    if l.operation == "embeddings" {
        return; // the text embedded is no chat history (it stays in `input.value`)
    }
    let text_part = |out: &mut String, content: &str| {
        out.push_str("{\"type\":\"text\",\"content\":");
        push_string(out, content);
        out.push('}');
    };
    let (system, chat): (Vec<_>, Vec<_>) = l.prompts.iter().partition(|p| p.role == "system");
    if !system.is_empty() {
        let mut out = String::from("[");
        for (i, p) in system.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            text_part(&mut out, &p.content);
        }
        out.push(']');
        a.str("gen_ai.system_instructions", &out);
    }
    if !chat.is_empty() {
        let mut out = String::from("[");
        for (i, p) in chat.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"role\":");
            push_string(&mut out, &p.role);
            out.push_str(",\"parts\":[");
            text_part(&mut out, &p.content);
            out.push_str("]}");
        }
        out.push(']');
        a.str("gen_ai.input.messages", &out);
    }
    if l.completions.is_empty() {
        return;
    }
    let mut out = String::from("[");
    for (i, c) in l.completions.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"role\":");
        push_string(&mut out, &c.role);
        out.push_str(",\"parts\":[");
        let mut first = c.content.is_empty();
        if !first {
            text_part(&mut out, &c.content);
        }
        for tc in l.tool_calls.iter().filter(|_| i == 0) {
            if !std::mem::take(&mut first) {
                out.push(',');
            }
            out.push_str("{\"type\":\"tool_call\",");
            if let Some(id) = &tc.id {
                out.push_str("\"id\":");
                push_string(&mut out, id);
                out.push(',');
            }
            out.push_str("\"name\":");
            push_string(&mut out, &tc.name);
            out.push_str(",\"arguments\":");
            // The model's JSON as JSON; text that is not JSON as a string. JSON's whitespace
            // is ASCII: `trim_ascii`, not `trim` (its Unicode table is 0.7 KB of .wasm).
            match crate::json::parse(&tc.arguments) {
                Some(_) => out.push_str(tc.arguments.trim_ascii()),
                None => push_string(&mut out, &tc.arguments),
            }
            out.push('}');
        }
        out.push(']');
        if let Some(f) = &c.finish_reason {
            out.push_str(",\"finish_reason\":");
            push_string(&mut out, f);
        }
        out.push('}');
    }
    out.push(']');
    a.str("gen_ai.output.messages", &out);
}

/// The OTLP resource's attributes: the service and the SDK.
#[cfg_attr(agensight_size, optimize(size))]
pub fn otlp_resource(service: &str, mode: &str, a: &mut dyn AttrSink) {
    a.str("service.name", service);
    a.str("telemetry.sdk.name", "agensight-wasm");
    a.str("telemetry.sdk.language", "webjs");
    a.str("telemetry.sdk.version", env!("CARGO_PKG_VERSION"));
    a.str("deployment.environment.name", mode);
    // Arize Phoenix files spans under the project this resource attribute names.
    a.str("openinference.project.name", service);
}

/// An OTLP span's attributes: its kind, the trace's name and tokens on the root, the session,
/// the captures (OpenInference's `input.value` / `output.value`), a tool's name and call id, and the GenAI
/// attributes of an LLM call.
pub fn otlp_span(t: &TraceInfo, s: &FinishedSpan, a: &mut dyn AttrSink) {
    a.str("agensight.span.kind", &s.kind);
    if s.parent.is_none() {
        a.str("agensight.trace.name", &t.name);
        a.int("agensight.trace.total_tokens", t.total_tokens);
    }
    if let Some(sess) = &t.session {
        a.str("gen_ai.conversation.id", &sess.spec.id);
        a.str("session.id", &sess.spec.id);
        if let Some(n) = &sess.spec.name {
            a.str("session.name", n);
        }
        if let Some(u) = &sess.spec.user_id {
            a.str("user.id", u);
        }
    }
    if let Some(i) = &s.input {
        a.str("input.value", i);
        a.str("input.mime_type", "application/json");
    }
    if let Some(o) = &s.output {
        a.str("output.value", o);
        a.str("output.mime_type", "application/json");
    }
    // OpenInference's `metadata` (JSON text): the span's own, else on the root the trace's.
    let metadata = s
        .metadata
        .as_ref()
        .or(t.metadata.as_ref().filter(|_| s.parent.is_none()));
    if let Some(m) = metadata {
        a.str("metadata", m);
    }
    if s.truncated {
        a.bool("agensight.truncated", true);
    }
    if &*s.kind == "tool" {
        a.str("gen_ai.operation.name", "execute_tool");
        a.str("gen_ai.tool.name", &s.name);
        a.str("tool.name", &s.name);
        // The id of the model's tool call this span answers (found by the tracer), under the
        // GenAI name and OpenInference's `tool.id`.
        if let Some(id) = &s.tool_call_id {
            a.str("gen_ai.tool.call.id", id);
            a.str("tool.id", id);
        }
        if let Some(i) = &s.input {
            a.str("gen_ai.tool.call.arguments", tool_arguments(i));
        }
        if let Some(o) = &s.output {
            a.str("gen_ai.tool.call.result", o);
        }
    }
    if &*s.kind == "agent" {
        a.str("gen_ai.operation.name", "invoke_agent");
        a.str("gen_ai.agent.name", &s.name);
    }
    a.str("openinference.span.kind", openinference_kind(s));
    if let Some(l) = &s.llm {
        llm_call(l, Dialect::Otlp, a);
        messages(l, a);
        openinference_llm(l, a);
    }
}

/// OpenInference's span kind (Arize Phoenix shows spans by it): an LLM call is `LLM` (an
/// embeddings call `EMBEDDING`), a `kind: "tool"` span `TOOL`, a `kind: "agent"` span `AGENT`,
/// anything else (the trace's root, a function) `CHAIN`.
fn openinference_kind(s: &FinishedSpan) -> &'static str {
    match (&s.llm, &*s.kind) {
        (Some(l), _) if l.operation == "embeddings" => "EMBEDDING",
        (Some(_), _) => "LLM",
        (None, "tool") => "TOOL",
        (None, "agent") => "AGENT",
        _ => "CHAIN",
    }
}

/// An LLM call in OpenInference's names (Arize-ai/openinference spec/semantic_conventions.md),
/// which Phoenix reads for the model, token counts, messages and tool calls.
#[cfg_attr(agensight_size, optimize(size))]
fn openinference_llm(l: &LlmCall, a: &mut dyn AttrSink) {
    if let Some(m) = l.response_model.as_ref().or(l.request_model.as_ref()) {
        a.str("llm.model_name", m);
    }
    a.str("llm.provider", &l.system);
    a.str("llm.system", &l.system);
    let u = &l.usage;
    a.int("llm.token_count.prompt", u.input);
    a.int("llm.token_count.completion", u.output);
    a.int("llm.token_count.total", u.total);
    let details = [
        ("llm.token_count.prompt_details.cache_read", u.cache_read),
        (
            "llm.token_count.prompt_details.cache_write",
            u.cache_creation,
        ),
        ("llm.token_count.completion_details.reasoning", u.reasoning),
    ];
    for (k, v) in details {
        if let Some(v) = v {
            a.int(k, v);
        }
    }
    for (i, p) in l.prompts.iter().enumerate() {
        a.str(&indexed("llm.input_messages.", i, ".message.role"), &p.role);
        a.str(
            &indexed("llm.input_messages.", i, ".message.content"),
            &p.content,
        );
    }
    for (i, c) in l.completions.iter().enumerate() {
        a.str(
            &indexed("llm.output_messages.", i, ".message.role"),
            &c.role,
        );
        a.str(
            &indexed("llm.output_messages.", i, ".message.content"),
            &c.content,
        );
    }
    const CALLS: &str = "llm.output_messages.0.message.tool_calls.";
    for (j, tc) in l.tool_calls.iter().enumerate() {
        if let Some(id) = &tc.id {
            a.str(&indexed(CALLS, j, ".tool_call.id"), id);
        }
        a.str(&indexed(CALLS, j, ".tool_call.function.name"), &tc.name);
        a.str(
            &indexed(CALLS, j, ".tool_call.function.arguments"),
            &tc.arguments,
        );
    }
}

/// The attributes of the OpenTelemetry `exception` event of a span that threw.
#[cfg_attr(agensight_size, optimize(size))]
pub fn otlp_exception(e: &ErrorInfo, a: &mut dyn AttrSink) {
    a.str("exception.type", &e.name);
    a.str("exception.message", &e.message);
    a.str("exception.stacktrace", &e.stack);
}

/// A tool function's captured arguments as the tool call's: the one argument itself when the
/// function took one (`getWeather({city})` -> `{"city":...}`, the call's arguments object the
/// conventions describe), else the captured list. Captures are compact JSON (the clamper's
/// output), so one pass over the text finds whether a comma separates top-level elements.
pub fn tool_arguments(input: &str) -> &str {
    let b = input.as_bytes();
    if b.len() < 3 || b[0] != b'[' || b[b.len() - 1] != b']' {
        return input;
    }
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &c in &b[1..b.len() - 1] {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 0 => return input,
            _ => {}
        }
    }
    &input[1..input.len() - 1]
}
