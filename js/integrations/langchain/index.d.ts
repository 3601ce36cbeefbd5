import { BaseCallbackHandler, type BaseCallbackHandlerInput } from "@langchain/core/callbacks/base";

/**
 * A LangChain callback handler: `chain.invoke(input, { callbacks: [new AgensightCallbackHandler()] })`.
 * Chains, chat models, tools and retrievers become spans, each under its parent run, the
 * outermost under the active span.
 */
export declare class AgensightCallbackHandler extends BaseCallbackHandler {
  name: string;
  constructor(input?: BaseCallbackHandlerInput);
}
