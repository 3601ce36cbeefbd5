// `agensight-wasm/google-genai`: tracing for the Google Gen AI SDK (`@google/genai`). One line:
//
//   const ai = wrapGoogleGenAI(new GoogleGenAI({ apiKey }));
//
// No import of `@google/genai` here: the client is given.

import * as agensight from "agensight-wasm";
import { createGoogleGenAI } from "./wrap.js";

const google = createGoogleGenAI(agensight);

/**
 * Traces a `GoogleGenAI` client: `models.generateContent`, `models.generateContentStream` and
 * `models.embedContent` become `llm` spans (`google_genai.models.generateContent`, ...) with
 * model, usage (from `usageMetadata`), prompts, completions and function calls;
 * `gen_ai.system` is `gcp.gemini`, or `gcp.vertex_ai` for a Vertex AI client. Returns a Proxy
 * of the client; the client itself is not modified.
 * @template T
 * @param {T} client
 * @returns {T}
 */
export const wrapGoogleGenAI = (client) => google.wrapGoogleGenAI(client);
