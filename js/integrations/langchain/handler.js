// The callback handler behind `agensight-wasm/langchain`: LangChain runs (chains, chat models
// and LLMs, tools, retrievers) become spans, each under its parent run's span, a root run
// under the span active when it starts. Handlers are awaited (`awaitHandlers`), so a root run
// starts in the caller's async context, inside its trace().

import { BaseCallbackHandler } from "@langchain/core/callbacks/base";
import { beginChat, chatRequest, endWith } from "../chat-shape.js";
import { chatMessage, chatResult, modelOf, systemOf } from "./messages.js";

/** Runs open at once at most; past it the oldest is ended as an error. */
const MAX_RUNS = 10000;

const nameOf = (serialized, runName, fallback) => runName || (Array.isArray(serialized?.id) ? serialized.id.at(-1) : undefined) || serialized?.name || fallback;

/** @param {{internal?: {begin: Function}}} api the package's API */
export function createHandlerClass(api) {
  return class AgensightCallbackHandler extends BaseCallbackHandler {
    name = "agensight";

    constructor(input) {
      super({ ...input, _awaitHandler: true });
      this.awaitHandlers = true;
      /** runId -> span handle */
      this.runs = new Map();
    }

    start(runId, parentRunId, name, opts) {
      const parent = parentRunId ? this.runs.get(parentRunId) : undefined;
      const begin = () => api.internal?.begin(name, opts) ?? null;
      const sp = parent ? parent.run(begin) : begin();
      this.keep(runId, sp);
      return sp;
    }

    keep(runId, sp) {
      if (!sp) return;
      if (this.runs.size >= MAX_RUNS) {
        const [oldest, old] = this.runs.entries().next().value;
        this.runs.delete(oldest);
        old.fail(new Error(`agensight: LangChain run still open when ${MAX_RUNS} newer ones started; ended here`));
      }
      this.runs.set(runId, sp);
    }

    finish(runId, value, error) {
      const sp = this.runs.get(runId);
      if (!sp) return;
      this.runs.delete(runId);
      if (error !== undefined) sp.fail(error);
      else sp.end(value);
    }

    // The order @langchain/core calls it with (its .d.ts names runType fourth).
    handleChainStart(chain, inputs, runId, parentRunId, tags, metadata, runType, runName) {
      this.start(runId, parentRunId, nameOf(chain, runName, "chain"), { kind: "chain", args: [inputs] });
    }
    handleChainEnd(outputs, runId) {
      this.finish(runId, outputs);
    }
    handleChainError(err, runId) {
      this.finish(runId, undefined, err);
    }

    startLlm(runId, parentRunId, llm, runName, request, extra) {
      const parent = parentRunId ? this.runs.get(parentRunId) : undefined;
      const begin = (n, o) => api.internal?.begin(n, o) ?? null;
      const go = () => beginChat(begin, nameOf(llm, runName, "llm"), { system: systemOf(llm, extra), request });
      this.keep(runId, parent ? parent.run(go) : go());
    }
    handleChatModelStart(llm, messages, runId, parentRunId, extraParams, tags, metadata, runName) {
      const p = extraParams?.invocation_params ?? {};
      const request = chatRequest({
        model: modelOf(llm, extraParams),
        messages: (messages?.[0] ?? []).map(chatMessage),
        temperature: p.temperature,
        maxTokens: p.max_tokens ?? p.max_completion_tokens ?? p.maxTokens,
        tools: Array.isArray(p.tools) ? p.tools : undefined,
      });
      this.startLlm(runId, parentRunId, llm, runName, request, { ...extraParams, metadata });
    }
    handleLLMStart(llm, prompts, runId, parentRunId, extraParams, tags, metadata, runName) {
      const request = chatRequest({ model: modelOf(llm, extraParams), messages: (prompts ?? []).map((p) => ({ role: "user", content: p })) });
      this.startLlm(runId, parentRunId, llm, runName, request, { ...extraParams, metadata });
    }
    handleLLMEnd(output, runId) {
      const sp = this.runs.get(runId);
      if (!sp) return;
      this.runs.delete(runId);
      let response;
      try {
        response = chatResult(output);
      } catch {
        return sp.end(undefined);
      }
      endWith(sp, response);
    }
    handleLLMError(err, runId) {
      this.finish(runId, undefined, err);
    }

    handleToolStart(tool, input, runId, parentRunId, tags, metadata, runName) {
      let args = input;
      try {
        args = typeof input === "string" && /^\s*[[{]/.test(input) ? JSON.parse(input) : input;
      } catch {}
      this.start(runId, parentRunId, nameOf(tool, runName, "tool"), { kind: "tool", args: [args] });
    }
    handleToolEnd(output, runId) {
      // A ToolMessage: its content is the tool's answer.
      const value = output && typeof output === "object" && typeof output.content !== "undefined" && (typeof output.getType === "function" || output.tool_call_id !== undefined) ? output.content : output;
      this.finish(runId, value);
    }
    handleToolError(err, runId) {
      this.finish(runId, undefined, err);
    }

    handleRetrieverStart(retriever, query, runId, parentRunId, tags, metadata, name) {
      this.start(runId, parentRunId, nameOf(retriever, name, "retriever"), { kind: "retriever", args: [query] });
    }
    handleRetrieverEnd(documents, runId) {
      this.finish(runId, (documents ?? []).map((d) => ({ pageContent: d?.pageContent, metadata: d?.metadata, id: d?.id })));
    }
    handleRetrieverError(err, runId) {
      this.finish(runId, undefined, err);
    }
  };
}
