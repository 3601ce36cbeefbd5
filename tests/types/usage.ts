// Compiled with `tsc --noEmit` against the installed package's index.d.ts (tests/types/run.mjs).
import { init, trace, span, flush, shutdown, currentTraceId, currentSpanId, readLocal, AgensightError, type FlushResult } from "agensight-wasm";

init({ name: "chat-service", mode: "local", session: { id: "s", user_id: "u" }, capture: { input: true }, redact: (v) => v, maxFieldBytes: 1000, sampleRate: 1 });
const add = span((a: number, b: number): number => a + b, "add");
const sum: number = add(1, 2);
const main = trace(async (q: string) => `${q}!`, { name: "main", session: "user_456", metadata: { plan: "pro" } });
const answer: Promise<string> = main("hi");
const r: Promise<FlushResult> = flush();
const id: string | undefined = currentTraceId() ?? currentSpanId();
const stored = readLocal({ dir: ".agensight" });
const tokens: number = stored.traces[0].total_tokens;
try {
  init({ mode: "prod" });
} catch (e) {
  if (e instanceof AgensightError) console.log(e.code);
}
void [sum, answer, r, id, tokens, shutdown];
// @ts-expect-error mode is one of "local" | "dev" | "prod"
init({ mode: "production" });
// @ts-expect-error the wrapper keeps the parameter types
add("1", 2);

// Runtimes (issue 3): propagation, workers, the export document.
import { inject, extract, continueTrace, bindContext, instrumentWorker, exportLocal, clearLocal, type RemoteParent, type LocalExport } from "agensight-wasm";
const outgoing: Record<string, string> = inject({ "content-type": "application/json" });
const outgoingHeaders: Headers = inject(new Headers());
const parent: RemoteParent | undefined = extract(new Headers(outgoing)) ?? extract({ traceparent: "x" });
const handled: Promise<number> = continueTrace(parent, async () => 1, { name: "handle" });
const boundAdd: (a: number, b: number) => number = bindContext(add);
const worker = instrumentWorker({ async fetch(request: Request): Promise<Response> { return new Response(request.url); }, other: 1 });
const otherKept: number = worker.other;
const doc: Promise<LocalExport> = exportLocal();
void [outgoingHeaders, handled, boundAdd, otherKept, doc, clearLocal()];
// @ts-expect-error bindContext keeps the signature
boundAdd("1", 2);
