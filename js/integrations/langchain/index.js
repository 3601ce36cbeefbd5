// `agensight-wasm/langchain`: LangChain.js (`@langchain/core`) runs as agensight spans. One
// line, where the run starts:
//
//   await chain.invoke(input, { callbacks: [new AgensightCallbackHandler()] });
//
// `@langchain/core` is an optional peer dependency, imported only from here.

import * as agensight from "agensight-wasm";
import { createHandlerClass } from "./handler.js";

/**
 * A LangChain callback handler (`BaseCallbackHandler`): chains become `chain` spans, chat
 * models and LLMs `llm` spans (model, usage, prompts, completions, tool calls), tools `tool`
 * spans named after the tool, retrievers `retriever` spans with the documents found; each
 * under its parent run's span, the outermost under the span active when it starts (so inside
 * the surrounding trace()). Work done inside a tool's function is not under its tool span:
 * LangChain's callbacks cannot change the context the tool runs in.
 */
export const AgensightCallbackHandler = createHandlerClass(agensight);
