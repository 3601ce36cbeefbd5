// `instrumentModules(modules, api)`: the provider SDK classes patched once so that every
// client made from them afterwards is traced, with no per-client wrapping (the pattern that
// works in bundled and edge code, where module hooks do not exist).
//
// How: these SDKs assign their resources in the constructor (`this.chat = new Chat(this)`,
// `this.models = new Models(...)`). An accessor on the class prototype for each traced
// resource takes that assignment (the raw resource is kept per instance) and hands out the
// traced resource on read: the same Proxies `wrapOpenAI` / `wrapAnthropic` /
// `wrapGoogleGenAI` make, built on first read. Instances made before the call are not traced
// (their resources are own properties); subclasses (`AzureOpenAI`) are, through the chain.
// SDK code that reads the resource through the client (`client.chat.completions.create` from
// a helper such as `runTools`, `ai.chats` using `ai.models`) is traced too.
//
// Importing this module also plugs `init({ instrumentModules })` into the package's API (the
// one side effect in the package: package.json "sideEffects" names this file). The core does
// not import it, so apps that do not use it do not bundle the wrappers.

import { internal, wrapAnthropic, wrapOpenAI } from "agensight-wasm";
import { createGoogleGenAI } from "./google-genai/wrap.js";

/** Marks a patched prototype, so that a second call changes nothing. */
const PATCHED = Symbol.for("agensight.instrumented");

const SDKS = {
  openai: { names: ["OpenAI", "default"], resources: ["chat", "responses", "embeddings"], wrap: (api) => api.wrapOpenAI },
  anthropic: { names: ["Anthropic", "default"], resources: ["messages", "beta"], wrap: (api) => api.wrapAnthropic },
  googleGenAI: { names: ["GoogleGenAI"], resources: ["models"], wrap: null },
};

/** The class itself, or the class out of a module namespace (`import * as m from "openai"`). */
function classOf(value, names) {
  if (typeof value === "function") return value;
  if (value && typeof value === "object") for (const n of names) if (typeof value[n] === "function") return value[n];
  return undefined;
}

/**
 * An accessor for `prop` on `proto`: writes keep the raw resource for the instance, reads
 * return `traced(instance, raw)`. While `traced` runs, reads return the raw resource (the
 * wrappers' Proxies read the resource through the instance).
 */
function patchResource(proto, prop, traced) {
  const raw = new WeakMap();
  let inside = false;
  Object.defineProperty(proto, prop, {
    configurable: true,
    enumerable: false,
    get() {
      const r = raw.get(this);
      if (inside || r === undefined || r === null || typeof r !== "object") return r;
      inside = true;
      try {
        return traced(this, r);
      } catch {
        return r;
      } finally {
        inside = false;
      }
    },
    set(value) {
      raw.set(this, value);
    },
  });
}

/**
 * Patches the given SDK classes so that every client made from them afterwards is traced:
 * `{ openai: OpenAI, anthropic: Anthropic, googleGenAI: GoogleGenAI }` (the classes, or
 * their module namespaces). `api` is the package's API (`import * as agensight from
 * "agensight-wasm"`). Returns the names patched now (a class patched before is skipped).
 * @param {{ openai?: Function|object, anthropic?: Function|object, googleGenAI?: Function|object }} modules
 * @param {object} api
 * @returns {string[]}
 */
export function instrumentModules(modules, api) {
  if (modules === null || typeof modules !== "object") throw new TypeError("instrumentModules(): expected an object such as { openai: OpenAI }");
  if (!api || typeof api.wrapOpenAI !== "function") throw new TypeError('instrumentModules(): expected the package\'s API as the second argument (import * as agensight from "agensight-wasm")');
  let google;
  const done = [];
  for (const [key, value] of Object.entries(modules)) {
    if (value === undefined) continue;
    const sdk = SDKS[key];
    if (!sdk) throw new TypeError(`instrumentModules(): unknown module "${key}" (known: ${Object.keys(SDKS).join(", ")})`);
    const cls = classOf(value, sdk.names);
    if (!cls || !cls.prototype) throw new TypeError(`instrumentModules(): "${key}" is not the SDK's class or module`);
    const proto = cls.prototype;
    if (Object.prototype.hasOwnProperty.call(proto, PATCHED)) continue;
    Object.defineProperty(proto, PATCHED, { value: true });
    let traced;
    if (sdk.wrap) {
      const wrap = sdk.wrap(api);
      traced = (client, _raw, prop) => wrap(client)[prop];
    } else {
      google ??= createGoogleGenAI(api);
      traced = (_client, raw) => google.traceModels(raw);
    }
    for (const prop of sdk.resources) patchResource(proto, prop, (client, raw) => traced(client, raw, prop));
    done.push(key);
  }
  return done;
}

// Named imports, not the namespace: a bundle keeps only these of the package's exports.
const api = { internal, wrapOpenAI, wrapAnthropic };
internal.extend("instrumentModules", (modules) => instrumentModules(modules, api));
