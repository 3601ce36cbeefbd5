// The trace processor behind `agensight-wasm/openai-agents`: the OpenAI Agents SDK's traces
// and spans as agensight spans, each under its parent (the SDK's `parentId`, else its trace's
// span), the trace's span under the span active when the run starts (inside trace()).
//
// Span data types: the trace -> kind `agent` (the workflow name); `agent` -> `agent` (the
// agent's name); `function` -> `tool` (the function's name, input and output parsed from
// JSON); `generation` (Chat Completions models) and `response` (Responses API models) ->
// `llm` with the model's response as the core parses it (the chat.completion or the
// Responses API result the SDK keeps on the span); `handoff` -> `handoff` (from and to
// agents in its output); `guardrail` -> `guardrail`; others (task, turn, custom, mcp_tools, speech)
// -> `span` named after their type or name. A span with `error` fails with its message.
// Prompts of llm spans are not recorded: the SDK fills a span's input only at its end, after
// the agensight span has taken its input (see the report's Rust notes).

import { chatResponse, chatUsage, declare } from "../chat-shape.js";

/** Spans and traces open at once at most; past it the oldest is ended as an error. */
const MAX_OPEN = 10000;

function parsed(v) {
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

/** Name, kind and input of an SDK span. */
function describe(d) {
  switch (d?.type) {
    case "agent":
      return { name: d.name, kind: "agent", args: [{ tools: d.tools, handoffs: d.handoffs, output_type: d.output_type }] };
    case "function":
      // The SDK sets the arguments only when the call ends: then they go into the output.
      return { name: d.name, kind: "tool", args: d.input ? [parsed(d.input)] : [] };
    case "generation":
      return { name: "generation", kind: "llm", args: [{ model: d.model, ...(d.model_config ?? {}) }], llm: "generation" };
    case "response":
      return { name: "response", kind: "llm", args: [{}], llm: "response" };
    case "handoff":
      // The target is known only at the span's end: it is in the output.
      return { name: "handoff", kind: "handoff", args: [{ from_agent: d.from_agent }] };
    case "guardrail":
      return { name: d.name, kind: "guardrail", args: [] };
    case "custom":
      return { name: d.name, kind: "span", args: [d.data] };
    default:
      return { name: d?.name ?? d?.type ?? "span", kind: "span", args: [] };
  }
}

/** What an ended SDK span records: its output, and for llm spans the response chunk. */
function outcome(d) {
  switch (d?.type) {
    case "function":
      return { output: { arguments: parsed(d.input), output: parsed(d.output) } };
    case "generation": {
      // Chat Completions models put the whole chat.completion in `output` (when the run
      // traces sensitive data, the default); otherwise only the usage is known.
      const first = Array.isArray(d.output) ? d.output[0] : undefined;
      // The request's model is set after the span starts: declared again at the end.
      const call = { system: "openai", operation: "chat", model: d.model, temperature: d.model_config?.temperature };
      if (first && Array.isArray(first.choices)) return { output: first, chunk: first, declare: call };
      const u = d.usage ?? {};
      const response = chatResponse({ model: d.model, choices: [], usage: chatUsage({ input: u.input_tokens, output: u.output_tokens, total: u.total_tokens }) });
      return { output: response, chunk: response, declare: call };
    }
    case "response":
      // The Responses API result itself (set when the run traces sensitive data, the default).
      return d._response ? { output: d._response, chunk: d._response } : { output: { response_id: d.response_id } };
    case "agent":
      // Tools and handoffs are complete only at the end.
      return { output: { name: d.name, tools: d.tools, handoffs: d.handoffs, output_type: d.output_type } };
    case "handoff":
      return { output: { from_agent: d.from_agent, to_agent: d.to_agent } };
    case "guardrail":
      return { output: { triggered: d.triggered } };
    case "turn":
    case "task":
      return { output: { usage_summary: d.usage } };
    default:
      return { output: undefined };
  }
}

/** @param {{internal?: {begin: Function}}} api the package's API */
export function createAgentsProcessor(api) {
  const open = new Map(); // SDK trace or span id -> agensight span handle
  const begin = (name, opts) => api.internal?.begin(String(name), opts) ?? null;

  function keep(id, sp) {
    if (!sp) return;
    if (open.size >= MAX_OPEN) {
      const [oldest, old] = open.entries().next().value;
      open.delete(oldest);
      old.fail(new Error(`agensight: Agents SDK span still open when ${MAX_OPEN} newer ones started; ended here`));
    }
    open.set(id, sp);
  }

  return {
    async onTraceStart(trace) {
      keep(trace.traceId, begin(trace.name || "Agent workflow", { kind: "agent", args: [{ group_id: trace.groupId ?? undefined, metadata: trace.metadata }] }));
    },
    async onTraceEnd(trace) {
      const sp = open.get(trace.traceId);
      open.delete(trace.traceId);
      sp?.end(undefined);
    },
    async onSpanStart(span) {
      const d = describe(span.spanData);
      const parent = open.get(span.parentId ?? span.traceId);
      const start = () => {
        const sp = begin(d.name, { kind: d.kind, args: d.args });
        if (sp && d.llm) declare(sp, { system: "openai", operation: "chat", model: span.spanData?.model });
        return sp;
      };
      keep(span.spanId, parent ? parent.run(start) : start());
    },
    async onSpanEnd(span) {
      const sp = open.get(span.spanId);
      if (!sp) return;
      open.delete(span.spanId);
      const err = span.error;
      if (err) {
        const detail = typeof err.data?.error === "string" ? `: ${err.data.error}` : "";
        sp.fail(Object.assign(new Error(`${err.message ?? "error"}${detail}`), { name: span.spanData?.type === "function" ? "ToolError" : "AgentsError" }));
        return;
      }
      const o = outcome(span.spanData);
      if (o.declare) declare(sp, o.declare);
      if (o.chunk) sp.chunk(o.chunk);
      sp.end(o.output);
    },
    async shutdown() {},
    async forceFlush() {},
  };
}
