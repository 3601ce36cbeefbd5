// Public API of agensight-wasm. Checked by `tsc --noEmit` in the tests (tests/types).

/** A session: a string id, or an object with an id and optional name and user. */
export type Session = string | { id: string; name?: string; user_id?: string };

export interface InitOptions {
  /** Service name, recorded on every span. Default `"default"`. */
  name?: string;
  /** `"local"` (default): store only. `"dev"`: export and store, warn on failures. `"prod"`: export. */
  mode?: "local" | "dev" | "prod";
  /** Agensight project token; required for `dev` and `prod` with the agensight exporter. Never stored or logged. */
  token?: string;
  /** The default session of every trace (a trace's own `session` option wins for that trace). */
  session?: Session;
  /** Wire format: the Agensight cloud API (default) or OTLP/HTTP. */
  exporter?: "agensight" | "otlp";
  /** OTLP's encoding: protobuf (default, `application/x-protobuf`) or JSON. Anything else is an `invalid_option` error. */
  protocol?: "http/protobuf" | "http/json";
  /** Base URL (agensight) or traces URL (otlp). Plain http only to loopback unless `allowInsecureEndpoint`. */
  endpoint?: string;
  /** Permit a plain-http endpoint that is not loopback. */
  allowInsecureEndpoint?: boolean;
  /** Extra request headers for the exporter; a name of ours (any case, e.g. `content-type`) is replaced, not repeated. */
  headers?: Record<string, string>;
  /**
   * Local store: `"auto"` (files in Node/Deno/Bun, IndexedDB in browsers), `"file"`, `"indexeddb"`, `"memory"`, or `false`.
   * In `dev` and `prod` it also holds the export outbox (`<dir>/outbox/`, or the IndexedDB store `outbox`); with
   * `"memory"` or `false` the export queue is in memory only (workerd: always).
   */
  storage?: "auto" | "indexeddb" | "file" | "memory" | false;
  /** Directory of the file store. Default `".agensight"`. */
  dir?: string;
  /** Capture arguments and return values (default both), or `false` for neither. */
  capture?: boolean | { input?: boolean; output?: boolean };
  /**
   * Mask secrets in captured values (default `true`): API keys, tokens, credentials in URLs,
   * private keys, authorization headers, password/secret/token fields. A function adds to the
   * built-in patterns (only `false` turns them off): it gets a JSON copy of each captured value
   * (input, output, metadata, error fields, sessions, span names) and returns what to record.
   */
  redact?: boolean | ((value: unknown) => unknown);
  /** Largest captured field in bytes of JSON; longer values are cut and stay valid JSON. Default 65536. */
  maxFieldBytes?: number;
  /**
   * Largest total size of the local file store in bytes (Node, Deno, Bun): files rotate, and
   * the oldest are removed past it (their spans counted in flush()'s `dropped`). From 1 MiB;
   * default 268435456 (256 MiB).
   */
  maxStoreBytes?: number;
  /** Fraction of traces recorded (head sampling), 0 to 1. Default 1. */
  sampleRate?: number;
  /** A fetch implementation for the exporter (default: the global `fetch`). */
  fetch?: typeof globalThis.fetch;
  /**
   * Provider SDK classes (or their module namespaces) to trace every client made from them
   * after this call, with no per-client wrapping: `{ openai: OpenAI, anthropic: Anthropic,
   * googleGenAI: GoogleGenAI }`. Patched once; clients made before `init()` stay untraced
   * (wrap those with `wrapOpenAI` and friends). An unknown key is an `invalid_option` error.
   * Needs `import "agensight-wasm/modules";` once in the app (without it: an `invalid_option`
   * error saying so), so that apps without it do not bundle the provider wrappers.
   */
  instrumentModules?: { openai?: unknown; anthropic?: unknown; googleGenAI?: unknown };
  /** Export queue timings and bounds. */
  queue?: {
    /** Finished traces wait this long for more to batch with (default 1000). */
    batchDelayMs?: number;
    /** One request's time limit (default 10000). */
    timeoutMs?: number;
    /** A request still failing this long after its first try is given up (default 300000). */
    deadlineMs?: number;
    /** The outbox holds at most this many bytes (default 8 MiB; without an outbox, in memory, 1 MiB) and jobs (default 10000); the oldest is dropped past that (counted). */
    maxBytes?: number;
    maxJobs?: number;
    /** Finished spans waiting to become requests, at most (default 100000). */
    maxPendingSpans?: number;
    /** ... and at most this many bytes of captured values (default 512 KiB). */
    maxPendingBytes?: number;
    /** Requests in flight at once (default 4). */
    concurrency?: number;
    /** Spans per OTLP request (default 512). */
    maxBatchSpans?: number;
  };
}

export interface SpanOptions {
  /** Span name; default the function's name. */
  name?: string;
  /** Span kind: `"span"` (default), `"llm"`, `"tool"`, `"agent"`, ... An LLM response makes it `"llm"`. */
  kind?: string;
  /** JSON metadata recorded on the span (on the trace, for `trace()`). */
  metadata?: Record<string, unknown>;
}

export interface TraceOptions extends SpanOptions {
  /** This trace's session; overrides init()'s for this trace only. */
  session?: Session;
}

export interface FlushResult {
  /** Spans the receiver accepted. */
  exported: number;
  /** Spans the receiver refused (not retried). */
  failed: number;
  /** Spans still waiting to be sent. */
  pending: number;
  /** Spans dropped because a bound was hit. */
  dropped: number;
}

/**
 * Configures tracing. Synchronous; call it again to reconfigure.
 * @throws {AgensightError} for invalid options (a wrong mode, a missing token in dev/prod, ...)
 * @example init({ name: "chat-service", session: "user_456" });
 */
export function init(options?: InitOptions): void;

/**
 * Wraps `fn` so each call is a trace (or a child span when called inside one). The wrapper has
 * the same `this`, arguments, result and thrown error as `fn`.
 * @example const main = trace(async () => { ... }, { name: "multi_agent_chat" });
 */
export function trace<F extends (...args: any[]) => any>(fn: F, options?: string | TraceOptions): F;

/**
 * Wraps `fn` so each call is a span under the current one (a new trace outside any).
 * @example const callLlm = span(async (messages) => client.chat.completions.create({ model, messages }), "llm");
 */
export function span<F extends (...args: any[]) => any>(fn: F, options?: string | SpanOptions): F;

/**
 * Resolves when the WebAssembly core is loaded and the spans made before it was are recorded,
 * or when tracing is off because it could not be loaded; never rejects. Only browsers and web
 * workers load it asynchronously (elsewhere it is resolved at once); waiting is optional:
 * `init()` and traced functions work at once, and `flush()` waits for it. Ids of spans started
 * before it resolved (`currentTraceId()`, `currentSpanId()`, `inject()`) are undefined: await it
 * first where they matter.
 * @example await ready;
 */
export const ready: Promise<void>;

/**
 * Writes and sends what is buffered, retrying for at most `timeoutMs` (default 30000), and
 * reports what happened to the spans so far. In a worker: `ctx.waitUntil(flush())`.
 */
export function flush(options?: { timeoutMs?: number }): Promise<FlushResult>;

/** Flushes, then turns tracing off until the next init(). */
export function shutdown(options?: { timeoutMs?: number }): Promise<FlushResult>;

/** The active trace's id (UUID form), or undefined outside a trace. */
export function currentTraceId(): string | undefined;

/** The active span's id (16 hex digits), or undefined outside a trace. */
export function currentSpanId(): string | undefined;

/**
 * Returns the OpenAI client traced (a Proxy: same methods, same `instanceof`). Each
 * `chat.completions.create` (plain or `stream: true`), `responses.create` and
 * `embeddings.create` call is an `llm` span with model, usage, prompts, completions and tool
 * calls; streams pass through unchanged and their span ends with the stream; API errors are
 * recorded and rethrown as they are.
 * @example const openai = wrapOpenAI(new OpenAI());
 */
export function wrapOpenAI<T>(client: T): T;

/**
 * Returns the Anthropic client traced (a Proxy: same methods, same `instanceof`):
 * `messages.create` (plain or `stream: true`) and `messages.stream` (also under `beta`).
 * @example const anthropic = wrapAnthropic(new Anthropic());
 */
export function wrapAnthropic<T>(client: T): T;

export interface StoredSpan {
  id: string;
  trace_id: string;
  parent_id: string | null;
  name: string;
  kind: string;
  status: "ok" | "error";
  started_at: number;
  ended_at: number;
  duration: number;
  attributes: Record<string, unknown>;
  depth: number;
  children: string[];
  prompts: { span_id: string; role: string; content: string; message_index: number }[];
  completions: { span_id: string; role: string; content: string; finish_reason: string | null; total_tokens: number; prompt_tokens: number; completion_tokens: number }[];
  tools: { span_id: string; name: string; arguments: string }[];
}

export interface StoredTrace {
  id: string;
  name: string;
  started_at: number;
  ended_at: number;
  duration: number;
  session_id: string | null;
  metadata: Record<string, unknown>;
  total_tokens: number;
  status: "ok" | "error";
  spans: StoredSpan[];
}

export interface LocalTraces {
  sessions: { id: string; session_name: string | null; user_id: string | null; started_at: number }[];
  traces: StoredTrace[];
  /** Lines that were not whole records (a torn last line after a crash), skipped. */
  skipped: number;
  /** Bytes of the oldest lines left out to stay within `maxBytes` (0: the whole store). */
  omittedBytes: number;
}

/** Options of the read-back functions. */
export interface ReadLocalOptions {
  /** The store directory (Node, Deno, Bun); default the one init() uses. */
  dir?: string;
  /** The most bytes of store lines one call reads, newest first kept (default 256 MiB). */
  maxBytes?: number;
}

/**
 * Reads the local store back. `await flush()` first. Node, Deno and Bun read the store
 * directory (`dir`, default the one init() uses) and workerd its memory store, synchronously;
 * in browsers and web workers IndexedDB is asynchronous and this returns a Promise (it works
 * without init(), e.g. after a reload). `await readLocal()` works everywhere.
 */
export function readLocal(options?: ReadLocalOptions): LocalTraces;

/** The export document of the local store, the format the viewer opens. */
export interface LocalExport {
  agensight: "records";
  version: 1;
  records: { type: "session" | "trace" | "span" | "prompt" | "completion" | "tool" | "trace_update"; data: Record<string, unknown> }[];
  /** Present when the oldest lines were left out to stay within `maxBytes`. */
  omittedBytes?: number;
}

/**
 * The local store as one JSON document for the viewer (`npx agensight-wasm view --file
 * traces.json`, or drop the file on the viewer page).
 * @example const blob = new Blob([JSON.stringify(await exportLocal())], { type: "application/json" });
 */
export function exportLocal(options?: ReadLocalOptions): Promise<LocalExport>;

/** Deletes the local store's records (IndexedDB, memory, or the store directory's files). */
export function clearLocal(options?: { dir?: string }): Promise<void>;

/** W3C trace context of an incoming request (from its `traceparent` header). */
export interface RemoteParent {
  /** 32 hex digits. */
  traceId: string;
  /** The caller's span id, 16 hex digits. */
  spanId: string;
  /** The caller's sampling decision (flag 01). */
  sampled: boolean;
  traceparent: string;
}

/** Headers in any usual shape: a Headers, a Request, Node's `req.headers`, a Map, or pairs. */
export type HeadersLike = Headers | Request | Map<string, string> | Record<string, string | string[] | undefined> | [string, string][];

/**
 * Adds the active span's W3C `traceparent` header to `headers` (a Headers, a plain object or
 * an array of pairs) and returns the same object; outside a trace it is returned unchanged.
 * @example await fetch(url, { headers: inject({ "content-type": "application/json" }) });
 */
export function inject<H extends Headers | Record<string, string> | [string, string][]>(headers?: H): H;

/**
 * Reads the W3C trace context of incoming headers; undefined when absent or malformed.
 * @example const parent = extract(request.headers);
 */
export function extract(headers: HeadersLike | null | undefined): RemoteParent | undefined;

/**
 * Runs `fn()` as the local root span of a trace that began in another process (`parent` from
 * `extract()`, or the headers themselves); traced calls inside are its children. An unsampled
 * parent (flag 00) turns tracing off inside. Returns what `fn` returns.
 * @example http.createServer((req, res) => continueTrace(req.headers, () => handle(req, res), { name: "handle" }));
 */
export function continueTrace<T>(parent: RemoteParent | HeadersLike | null | undefined, fn: () => T, options?: { name?: string; kind?: string }): T;

/**
 * Returns `fn` bound to the span active now. Where there is no AsyncLocalStorage (browsers,
 * web workers, workerd without `nodejs_als`/`nodejs_compat`) the active span is lost after the
 * first `await` of a traced function; bind what you call later before that first `await`.
 * Harmless elsewhere.
 * @example const main = trace(async (q) => { const llm = bindContext(callLlm); const a = await llm(q); return llm(a); });
 */
export function bindContext<F extends (...args: any[]) => any>(fn: F): F;

/** Options of instrumentWorker(). */
export interface InstrumentWorkerOptions {
  /** Span name; default `"<METHOD> <path>"` for fetch, `"scheduled"`, `"queue <name>"`. */
  name?: string | ((event: unknown, kind: "fetch" | "scheduled" | "queue") => string);
  /** Span kind; default the handler's name (`fetch`, `scheduled`, `queue`). */
  kind?: string;
}

/** What a worker invocation gets as its third argument (Cloudflare's `ExecutionContext`, Vercel's `waitUntil` holder). */
export interface WorkerContext {
  waitUntil(promise: Promise<unknown>): void;
  passThroughOnException?(): void;
}

/** A `scheduled` invocation's event (Cloudflare's `ScheduledController`). */
export interface WorkerScheduledEvent {
  readonly cron: string;
  readonly scheduledTime: number;
  noRetry?(): void;
}

/** A `queue` invocation's batch (Cloudflare's `MessageBatch`). */
export interface WorkerMessageBatch<Body = unknown> {
  readonly queue: string;
  readonly messages: readonly { readonly id: string; readonly body: Body; ack?(): void; retry?(): void }[];
  ackAll?(): void;
  retryAll?(): void;
}

/**
 * A module worker's handlers, the shape of Cloudflare's `ExportedHandler`: the parameters of
 * `fetch(request, env, ctx)` and the others are typed from here, so a strict-mode handler
 * needs no annotations. `Env` is the bindings type (default `unknown`).
 */
export interface WorkerHandler<Env = unknown> {
  fetch?(request: Request, env: Env, ctx: WorkerContext): Response | Promise<Response>;
  scheduled?(event: WorkerScheduledEvent, env: Env, ctx: WorkerContext): void | Promise<void>;
  queue?(batch: WorkerMessageBatch, env: Env, ctx: WorkerContext): void | Promise<void>;
}

/**
 * Traces a module worker's `fetch`, `scheduled` and `queue` handlers: one trace per invocation
 * (continuing an incoming W3C `traceparent`), the flush handed to `ctx.waitUntil` after the
 * handler's own waitUntil promises settled. Other properties are kept as they are; the handler
 * object is returned with its own type.
 * @example export default instrumentWorker({ async fetch(request, env, ctx) { return new Response("ok"); } });
 */
export function instrumentWorker<Env = unknown, H extends WorkerHandler<Env> = WorkerHandler<Env>>(handler: H, options?: InstrumentWorkerOptions): H;

/** An error from agensight-wasm itself; `code` names the check that failed. */
export class AgensightError extends Error {
  readonly code: string;
  constructor(message: string, code: string);
}
