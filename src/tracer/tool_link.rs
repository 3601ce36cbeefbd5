//! Links a tool span to the model's tool call that invoked it, so the tool's span can carry
//! the call's id (`gen_ai.tool.call.id`). A tool function does not know the id: it is found
//! among the tool calls of an earlier LLM span of the same trace part (docs/records.md,
//! "Tool calls and tool spans").

use crate::ids::SpanId;
use crate::json::Value;
use crate::model::FinishedSpan;
use std::rc::Rc;

/// How many parent links are followed from an LLM span up to the tool span's parent: the LLM
/// call may sit inside a few wrappers (`callModel()` around `openai.chat.completions.create`).
const MAX_DEPTH: usize = 8;

/// The id of the tool call a tool span named `name`, under `parent`, started at `seq`, with
/// `input` (the JSON text of its arguments list), answers; `None` when there is none.
///
/// The latest LLM span (by start order, started before the tool span) that sits under
/// `parent` (itself or below a span that does) and asked for a tool of this name is the one
/// consulted. Among its calls of that name not yet taken by another tool span of `spans`:
/// one is taken as it is; of several, the first whose arguments equal (as JSON values) the
/// tool's first argument. Only the ended spans of the current trace part are read.
#[inline(never)] // only tool spans pay its compilation (see llm::parse_result)
pub fn find_call(
    spans: &[FinishedSpan],
    parent: Option<SpanId>,
    seq: u64,
    name: &str,
    input: Option<&str>,
) -> Option<Rc<str>> {
    let parent = parent?;
    let llm = spans
        .iter()
        .filter(|s| s.seq < seq)
        .filter(|s| {
            s.llm
                .as_ref()
                .is_some_and(|l| l.tool_calls.iter().any(|c| c.name == name))
        })
        .filter(|s| sits_under(spans, s, parent))
        .max_by_key(|s| s.seq)?;
    let taken = |id: &str| spans.iter().any(|s| s.tool_call_id.as_deref() == Some(id));
    let free: Vec<&str> = llm
        .llm
        .as_ref()?
        .tool_calls
        .iter()
        .filter(|c| c.name == name)
        .filter_map(|c| c.id.as_deref())
        .filter(|id| !taken(id))
        .collect();
    match free.as_slice() {
        [] => None,
        [only] => Some((*only).into()),
        _ => {
            let first_arg = input.and_then(crate::json::parse).and_then(|v| match v {
                Value::Array(mut a) if !a.is_empty() => Some(a.swap_remove(0)),
                _ => None,
            })?;
            let calls = &llm.llm.as_ref()?.tool_calls;
            free.into_iter()
                .find(|id| {
                    calls.iter().any(|c| {
                        c.id.as_deref() == Some(id)
                            && crate::json::parse(&c.arguments).as_ref() == Some(&first_arg)
                    })
                })
                .map(Rc::from)
        }
    }
}

/// Whether `s` is a child of `parent`, or below a child of it (up to [`MAX_DEPTH`] links,
/// through ended spans only).
fn sits_under(spans: &[FinishedSpan], s: &FinishedSpan, parent: SpanId) -> bool {
    let mut at = s.parent;
    for _ in 0..MAX_DEPTH {
        match at {
            Some(p) if p == parent => return true,
            Some(p) => at = spans.iter().find(|x| x.span_id == p).and_then(|x| x.parent),
            None => return false,
        }
    }
    false
}
