/**
 * Traces a `GoogleGenAI` client (`@google/genai`): `models.generateContent`,
 * `models.generateContentStream` and `models.embedContent` become `llm` spans with model,
 * usage, prompts, completions and function calls. Returns the client (a Proxy of it).
 */
export declare function wrapGoogleGenAI<T extends object>(client: T): T;
