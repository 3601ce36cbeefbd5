// The benchmark workload: the docs example's shape (README "Use"): a trace whose body calls two
// child spans, each with a small input and output. `wrap(fn, name, isRoot)` is the library's
// way of wrapping a function; the same three functions are wrapped by every library, and by
// the identity for the bare baseline. A call of the returned `main` makes SPANS_PER_TRACE spans.

export const SPANS_PER_TRACE = 3;
export const QUESTION = "What's the weather in Paris?";

/** Sync variant: plain functions calling each other. */
export function syncWorkload(wrap) {
  const plan = wrap(function plan(question) {
    return { steps: ["search", "answer"], question };
  }, "plan", false);
  const llm = wrap(function llm(messages) {
    return { role: "assistant", content: "Sunny, 21 °C in " + messages[0].content.slice(-6, -1) };
  }, "llm", false);
  return wrap(function multi_agent_chat(question) {
    const p = plan(question);
    const reply = llm([{ role: "user", content: question }, { role: "system", content: p.steps.join(",") }]);
    return reply.content;
  }, "multi_agent_chat", true);
}

/** Async variant: the same, with async functions and awaits (Promise-returning spans). */
export function asyncWorkload(wrap) {
  const plan = wrap(async function plan(question) {
    return { steps: ["search", "answer"], question };
  }, "plan", false);
  const llm = wrap(async function llm(messages) {
    return { role: "assistant", content: "Sunny, 21 °C in " + messages[0].content.slice(-6, -1) };
  }, "llm", false);
  return wrap(async function multi_agent_chat(question) {
    const p = await plan(question);
    const reply = await llm([{ role: "user", content: question }, { role: "system", content: p.steps.join(",") }]);
    return reply.content;
  }, "multi_agent_chat", true);
}
