// The shared part of the edge entries (workerd.mjs for Cloudflare Workers, edge.mjs for Vercel
// Edge and Next.js edge routes): given the .wasm as a compiled WebAssembly.Module (each
// platform imports it its own way; none lets code compile bytes at run time), it instantiates
// it synchronously. Local store: memory (bounded). Export outbox: none, the queue is in memory
// only (an isolate has neither files nor IndexedDB, and lives per request or a little longer:
// flush in ctx.waitUntil, as instrumentWorker does, is what delivers). Nothing waits on a
// timer: writes are deferred with queueMicrotask. No static node:* import and no top-level
// await, so it bundles with or without Node.js compatibility and in iife/cjs bundles too.

// The bindings without wasm-bindgen's loaders (scripts/wasm-bindings.mjs): this namespace is
// kept whole, and agensight_wasm.js's would keep the async loader this entry never calls.
import { initSync } from "./wasm/agensight_wasm.js";
import * as bindings from "./wasm/bindings.js";
import { createAgensight } from "./core.js";
import { alsContext, stackContext } from "./context.js";
import { memoryStore } from "./store-memory.js";

/** Largest in-memory store (bytes of JSON lines); past it the oldest records go. */
const MEMORY_STORE_BYTES = 4 << 20;

/**
 * The active-span context: AsyncLocalStorage where the platform has it (a global on Vercel
 * Edge and Next.js; `process.getBuiltinModule` under workerd's `nodejs_compat`); with
 * `importAls` (workerd), a dynamic `import("node:async_hooks")` (`nodejs_compat` and
 * `nodejs_als`), which settles after the module graph is evaluated and before the first
 * request; else the synchronous stack (README, "Context in browsers and workers").
 */
function edgeContext(importAls) {
  if (!importAls) return alsOrStack(globalAls());
  // workerd makes `globalThis.process` at its first read (node:process and the modules it
  // loads: about 1 ms of a worker's cold start), so the import goes first and the global
  // lookup waits for a span that comes before it settles (one traced at global scope). Either
  // way the context is the one the lookup alone would give: AsyncLocalStorage from the
  // lookup stays; the stack (`nodejs_als` only) gives way to the import's.
  let impl = null;
  try {
    // Computed and marked, so that bundlers leave it alone.
    import(/* webpackIgnore: true */ /* @vite-ignore */ ["node", "async_hooks"].join(":")).then(
      (m) => {
        if (typeof m.AsyncLocalStorage === "function" && impl?.kind !== "async") impl = alsContext(m.AsyncLocalStorage);
      },
      () => {},
    );
  } catch {}
  const current = () => (impl ??= alsOrStack(globalAls()));
  return {
    get kind() {
      return current().kind;
    },
    active: () => current().active(),
    run: (handle, fn) => current().run(handle, fn),
    call: (handle, fn, a, b, c, d, e) => current().call(handle, fn, a, b, c, d, e),
  };
}

/** AsyncLocalStorage from a global or `process.getBuiltinModule`, or undefined. */
function globalAls() {
  let ALS = globalThis.AsyncLocalStorage;
  try {
    ALS ??= globalThis.process?.getBuiltinModule?.("node:async_hooks")?.AsyncLocalStorage;
  } catch {}
  return ALS;
}

const alsOrStack = (ALS) => (typeof ALS === "function" ? alsContext(ALS) : stackContext());

/**
 * The Next.js edge sandbox (and Vercel's edge-runtime) compiles a `.wasm?module` outside the
 * VM context that runs the code, so the module fails this realm's `instanceof
 * WebAssembly.Module`, and wasm-bindgen's initSync would then try to compile it as bytes.
 * `new WebAssembly.Instance` accepts a module of any realm (it checks the object, not its
 * prototype): give such a module this realm's prototype.
 */
function sameRealm(module) {
  if (module && !(module instanceof WebAssembly.Module) && Object.prototype.toString.call(module) === "[object WebAssembly.Module]") {
    Object.setPrototypeOf(module, WebAssembly.Module.prototype);
  }
  return module;
}

/**
 * @param {object} p
 * @param {WebAssembly.Module} p.wasmModule the compiled .wasm
 * @param {string} p.platform named in warnings
 * @param {boolean} [p.importAls] try `import("node:async_hooks")` (workerd's nodejs_als)
 */
export function createEdgeEntry({ wasmModule, platform, importAls = false }) {
  let wasm = null;
  let loadError;
  try {
    initSync({ module: sameRealm(wasmModule) });
    wasm = bindings;
  } catch (e) {
    loadError = e;
  }

  // At global scope workerd refuses crypto.getRandomValues and its clock reads 0: an init()
  // made there is seeded from Math.random and completed at the first invocation
  // (instrumentWorker).
  let atGlobalScope = false;
  function randomBytes(n) {
    try {
      return globalThis.crypto.getRandomValues(new Uint8Array(n));
    } catch {
      atGlobalScope = true;
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(Math.random() * 256);
      return b;
    }
  }

  let memory = null;
  const api = createAgensight({
    wasm,
    loadError,
    context: edgeContext(importAls),
    openStore(config) {
      if (config.storage === "file" || config.storage === "indexeddb") {
        console.warn(`agensight: storage "${config.storage}" is not available in ${platform}; keeping traces in memory.`);
      }
      return (memory = memoryStore({ maxBytes: MEMORY_STORE_BYTES }));
    },
    randomBytes,
    now: () => Date.now(),
    defer: (fn) => queueMicrotask(fn),
  });

  let initAgain = null;

  /**
   * Configures tracing (see index.d.ts). At a worker's global scope the ids are seeded and the
   * session's start time taken again at the first invocation of an instrumented handler.
   */
  function init(options) {
    atGlobalScope = false;
    api.init(options);
    initAgain = atGlobalScope ? options : null;
  }

  function beforeInvocation() {
    if (initAgain) {
      const options = initAgain;
      initAgain = null;
      api.init(options);
    }
  }

  return {
    ...api,
    init,
    /** The read-back's reader: the in-memory store (see readback.js). */
    storeReader: () => memory?.reader() ?? null,
    /** For instrumentWorker: finishes an init() made at global scope. */
    beforeInvocation,
  };
}
