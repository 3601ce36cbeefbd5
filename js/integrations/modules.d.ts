/** The SDK classes (or their module namespaces) `instrumentModules` knows. */
export interface InstrumentableModules {
  openai?: unknown;
  anthropic?: unknown;
  googleGenAI?: unknown;
}

/**
 * Patches the given SDK classes so that every client made from them afterwards is traced.
 * `api` is the package's API (`import * as agensight from "agensight-wasm"`). Returns the
 * names patched by this call.
 */
export declare function instrumentModules(modules: InstrumentableModules, api: object): string[];
