// The traced code, shared by the page and the web worker. Each passes its agensight-wasm module
// in: inside a worker a bare "agensight-wasm" does not resolve without a bundler (import maps
// do not apply to workers), so the worker imports the package by path.
export function makeAgent({ trace, span, bindContext }) {
  const callLlm = span(async (messages) => {
    await new Promise((r) => setTimeout(r, 20)); // stands in for fetch("https://api.openai.com/...")
    return {
      id: `chatcmpl-${crypto.randomUUID()}`,
      object: "chat.completion",
      model: "gpt-4o-mini",
      choices: [{ index: 0, message: { role: "assistant", content: `Echo: ${messages.at(-1).content}` }, finish_reason: "stop" }],
      usage: { prompt_tokens: 8, completion_tokens: 5, total_tokens: 13 },
    };
  }, { name: "llm" });

  // Browsers have no AsyncLocalStorage: the active span is lost after the first `await` of a
  // traced function. bindContext() before it keeps the later calls inside this trace.
  return trace(async (question) => {
    const llm = bindContext(callLlm);
    const draft = await llm([{ role: "user", content: question }]);
    const final = await llm([{ role: "user", content: question }, draft.choices[0].message, { role: "user", content: "shorter" }]);
    return final.choices[0].message.content;
  }, { name: "browser_agent", session: "browser-demo" });
}
