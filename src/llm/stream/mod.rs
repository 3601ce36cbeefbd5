//! Streamed responses: chunks aggregated as they arrive into one response of the
//! non-streamed shape, per provider ([`openai_chat`], [`openai_responses`], [`anthropic`]),
//! then read like a whole response.

mod anthropic;
mod gemini;
mod openai_chat;
mod openai_responses;

use super::{parse_response, request};
use crate::json::push_string;
use crate::json::{Map, Value};
use crate::model::LlmCall;

/// Longest text kept per aggregated field of a stream (a choice's content, a tool call's
/// arguments, a thinking block); the rest is dropped and the text ends in `…`. Captures are
/// cut much shorter anyway (`maxFieldBytes`); this only bounds memory.
pub const MAX_STREAM_TEXT: usize = 1 << 20;
/// Most choices, content blocks, output items and tool calls (per choice) kept per stream.
pub const MAX_STREAM_ITEMS: usize = 256;

/// Text aggregated from deltas, bounded by [`MAX_STREAM_TEXT`].
#[derive(Debug, Default)]
pub(super) struct Text {
    pub(super) s: String,
    cut: bool,
}

impl Text {
    #[cfg_attr(agensight_size, optimize(size))]
    pub(super) fn push(&mut self, add: &str) {
        if self.cut {
            return;
        }
        if self.s.len() + add.len() <= MAX_STREAM_TEXT {
            self.s.push_str(add);
            return;
        }
        let mut end = MAX_STREAM_TEXT - self.s.len();
        while !add.is_char_boundary(end) {
            end -= 1;
        }
        self.s.push_str(&add[..end]);
        self.s.push('\u{2026}');
        self.cut = true;
    }
}

/// A call declared by a client wrapper before any response (`declareLlm`; the older
/// `{"$llm": {...}}` first chunk is gone: nothing sends it since `declareLlm`).
/// It makes the span an LLM call even when no response comes (an API error, a raw response
/// read with `asResponse()`), and names the provider and operation for certain.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Declaration {
    /// The provider: "openai", "anthropic" ("" leaves it to the response).
    pub system: String,
    /// "chat", "embeddings", ... ("" leaves it to the response).
    pub operation: String,
    pub model: Option<String>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u64>,
}

/// What a [`Stream`] has aggregated so far.
#[derive(Debug, Default)]
enum Agg {
    #[default]
    Empty,
    /// A whole response fed as one chunk (a non-streamed call through a client wrapper).
    Whole {
        text: String,
        call: Box<LlmCall>,
    },
    Chat(Box<openai_chat::ChatAgg>),
    Responses(Box<openai_responses::ResponsesAgg>),
    Messages(Box<anthropic::MessagesAgg>),
    Gemini(Box<gemini::GeminiAgg>),
}

/// The chunks of a streamed LLM response, aggregated as they arrive into one response of the
/// non-streamed shape: OpenAI `chat.completion.chunk`s into a `chat.completion`, OpenAI
/// Responses API events (`response.*`) into a `response`, Anthropic message stream events into
/// a `message`. Chunks are not kept: memory stays bounded by the aggregate (texts up to
/// [`MAX_STREAM_TEXT`], up to [`MAX_STREAM_ITEMS`] items), however many chunks come. A chunk
/// that is a whole response is taken as the response; one that is not JSON or of another
/// provider than the first is ignored.
///
/// ```
/// use agensight_wasm::llm::Stream;
/// let mut s = Stream::default();
/// s.push(r#"{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"role":"assistant","content":"Hel"},"finish_reason":null}]}"#);
/// s.push(r#"{"id":"c1","object":"chat.completion.chunk","model":"gpt-4o","choices":[{"index":0,"delta":{"content":"lo"},"finish_reason":"stop"}]}"#);
/// let done = s.finish("");
/// assert!(done.output.contains(r#""content":"Hello""#));
/// let call = done.call(Some(r#"[{"model":"gpt-4o","messages":[{"role":"user","content":"Hi"}]}]"#)).unwrap();
/// assert_eq!((call.completions[0].content.as_str(), call.prompts.len()), ("Hello", 1));
/// ```
#[derive(Debug, Default)]
pub struct Stream {
    declared: Option<Declaration>,
    agg: Agg,
}

/// A stream at its end: the aggregated response as JSON text (the span's output when the
/// wrapper ends the span without one, or when `replaces_output`; "" when nothing was
/// aggregated) and what it says about the call.
pub struct FinishedStream {
    pub output: String,
    /// A declared call's whole response, reordered: it stands for the output it came from.
    pub replaces_output: bool,
    call: Option<LlmCall>,
    declared: Option<Declaration>,
}

impl Stream {
    /// Feeds one chunk (JSON text).
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn push(&mut self, chunk: &str) {
        let Some(v) = crate::json::parse(chunk) else {
            return;
        };
        let Some(o) = v.as_object() else {
            return;
        };
        let ty = o.get("type").and_then(Value::as_str).unwrap_or("");
        if o.get("object").and_then(Value::as_str) == Some("chat.completion.chunk") {
            if let Agg::Empty = self.agg {
                self.agg = Agg::Chat(Default::default());
            }
            if let Agg::Chat(a) = &mut self.agg {
                a.push(o);
            }
        } else if ty.starts_with("response.") {
            if let Agg::Empty = self.agg {
                self.agg = Agg::Responses(Default::default());
            }
            if let Agg::Responses(a) = &mut self.agg {
                a.push(ty, o);
            }
        } else if matches!(
            ty,
            "message_start"
                | "content_block_start"
                | "content_block_delta"
                | "content_block_stop"
                | "message_delta"
                | "message_stop"
        ) {
            if let Agg::Empty = self.agg {
                self.agg = Agg::Messages(Default::default());
            }
            if let Agg::Messages(a) = &mut self.agg {
                a.push(ty, o);
            }
        } else if o.get("candidates").is_some_and(Value::is_array) {
            // Gemini: a stream chunk has the shape of a whole response (one chunk is one).
            if let Agg::Empty = self.agg {
                self.agg = Agg::Gemini(Default::default());
            }
            if let Agg::Gemini(a) = &mut self.agg {
                a.push(o);
            }
        } else if let Some(call) = parse_response(&v) {
            self.agg = Agg::Whole {
                text: chunk.to_string(),
                call: Box::new(call),
            };
        }
    }

    /// Bytes of text the aggregate holds (for the memory-bound tests).
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn retained_text(&self) -> usize {
        match &self.agg {
            Agg::Empty => 0,
            Agg::Whole { text, .. } => text.len(),
            Agg::Chat(a) => a.retained_text(),
            Agg::Responses(a) => a.retained_text(),
            Agg::Messages(a) => a.retained_text(),
            Agg::Gemini(a) => a.retained_text(),
        }
    }

    /// Declares the call (see [`Declaration`]); a later declaration replaces it.
    #[cfg_attr(agensight_size, optimize(size))]
    pub fn declare(&mut self, d: Declaration) {
        self.declared = Some(d);
    }

    /// Ends the stream: the aggregated response and the call it describes. `output` is the
    /// span's return value (JSON text): a declared call that got no chunk of a response takes
    /// it as the whole response, so a wrapper need not send a non-streamed response twice.
    #[cfg_attr(agensight_size, optimize(size))]
    #[inline(never)] // only streams pay its compilation (see parse_result)
    pub fn finish(self, output: &str) -> FinishedStream {
        let response = match self.agg {
            // A declared call ended with its whole response: the response, identifying members
            // and usage first (so a clamped output keeps them), replaces the output.
            Agg::Empty if self.declared.is_some() && !output.is_empty() => {
                let v = crate::json::parse(output);
                return FinishedStream {
                    output: v.as_ref().map(ordered_json).unwrap_or_default(),
                    replaces_output: v.is_some(),
                    call: v.as_ref().and_then(parse_response),
                    declared: self.declared,
                };
            }
            Agg::Empty => None,
            Agg::Whole { text, call } => {
                return FinishedStream {
                    output: text,
                    replaces_output: false,
                    call: Some(*call),
                    declared: self.declared,
                }
            }
            Agg::Chat(a) => Some(a.into_value()),
            Agg::Responses(a) => Some(a.into_value()),
            Agg::Messages(a) => Some(a.into_value()),
            Agg::Gemini(a) => Some(a.into_value()),
        };
        match response {
            Some(v) => FinishedStream {
                output: ordered_json(&v),
                replaces_output: false,
                call: parse_response(&v),
                declared: self.declared,
            },
            None => FinishedStream {
                output: String::new(),
                replaces_output: false,
                call: None,
                declared: self.declared,
            },
        }
    }
}

impl FinishedStream {
    /// The call, with the request read from the span's `input` (the captured arguments), or
    /// `None` when the chunks said nothing about an LLM call.
    #[cfg_attr(agensight_size, optimize(size))]
    #[inline(never)] // only streams pay its compilation (see parse_result)
    pub fn call(self, input: Option<&str>) -> Option<LlmCall> {
        let mut call = match (self.call, &self.declared) {
            (Some(c), _) => c,
            (None, Some(_)) => LlmCall::default(),
            (None, None) => return None,
        };
        if let Some(d) = &self.declared {
            if !d.system.is_empty() {
                call.system = d.system.clone();
            }
            if !d.operation.is_empty() {
                call.operation = d.operation.clone();
            }
            call.request_model = d.model.clone();
            call.temperature = d.temperature;
            call.max_tokens = d.max_tokens;
        }
        if let Some(args) = input.and_then(crate::json::parse) {
            request::read(&args, &mut call);
        }
        Some(call)
    }
}

/// Top-level members written first, in this order, so that a clamped output keeps them.
const FIRST_KEYS: [&str; 13] = [
    "id",
    "responseId",
    "modelVersion",
    "object",
    "type",
    "role",
    "created",
    "created_at",
    "model",
    "status",
    "stop_reason",
    "usage",
    "usageMetadata",
];

/// JSON text of an aggregated response with its identifying members and usage first.
#[cfg_attr(agensight_size, optimize(size))]
fn ordered_json(v: &Value) -> String {
    let Some(o) = v.as_object() else {
        return v.to_string();
    };
    let mut out = String::with_capacity(256);
    out.push('{');
    let keys = FIRST_KEYS
        .iter()
        .filter(|k| o.contains_key(k))
        .copied()
        .chain(
            o.keys()
                .map(String::as_str)
                .filter(|k| !FIRST_KEYS.contains(k)),
        );
    for (i, k) in keys.enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_string(&mut out, k);
        out.push(':');
        out.push_str(&o[k].to_string());
    }
    out.push('}');
    out
}

/// The entry of `items` for `index`, added when new (up to [`MAX_STREAM_ITEMS`]).
#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn entry<T: Default>(items: &mut Vec<(u64, T)>, index: u64) -> Option<&mut T> {
    match items.iter().position(|(i, _)| *i == index) {
        Some(p) => Some(&mut items[p].1),
        None if items.len() < MAX_STREAM_ITEMS => {
            items.push((index, T::default()));
            items.last_mut().map(|(_, t)| t)
        }
        None => None,
    }
}

/// Sorts by `key`, keeping equal keys in order (as `sort_by_key`): an insertion sort, since
/// the items are few (at most [`MAX_STREAM_ITEMS`]) and mostly in order already; the standard
/// library's stable sort added about 0.5 KB of .wasm per item type.
#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn sort_by_index<T>(items: &mut [T], key: impl Fn(&T) -> u64) {
    for i in 1..items.len() {
        let mut j = i;
        while j > 0 && key(&items[j - 1]) > key(&items[j]) {
            items.swap(j - 1, j);
            j -= 1;
        }
    }
}

#[cfg_attr(agensight_size, optimize(size))]
pub(super) fn set_str(slot: &mut Option<String>, o: &Map, key: &str) {
    if let Some(s) = o.get(key).and_then(Value::as_str) {
        if slot.as_deref() != Some(s) {
            *slot = Some(s.into());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sort_by_index_is_sort_by_key() {
        let mut seed = 7u64;
        for n in 0..60 {
            let mut v: Vec<(u64, usize)> = (0..n)
                .map(|k| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((seed >> 60) % 5, k)
                })
                .collect();
            let mut want = v.clone();
            want.sort_by_key(|(i, _)| *i);
            sort_by_index(&mut v, |(i, _)| *i);
            assert_eq!(v, want);
        }
    }

    #[test]
    fn text_is_bounded() {
        let mut t = Text::default();
        let piece = "é".repeat(1000);
        for _ in 0..1000 {
            t.push(&piece);
        }
        assert!(t.cut);
        assert!(t.s.len() <= MAX_STREAM_TEXT + 3);
        assert!(t.s.ends_with('\u{2026}'));
    }
}
