"""The Agensight docs' multi-agent chat example, with the reference client (PyPI agensight 0.6.3)
used as its docs say: init() in prod mode with a token and a session, a span named `llm` that
calls an LLM (here the real OpenAI client pointed at the local OpenAI double), a trace
`multi_agent_chat` with its own session and metadata calling it twice (a plan, then a summary of
the plan), the final output printed. The JS twin is example.mjs; the test running both is
agensight-reference.test.mjs.

Environment: AGENSIGHT_TEST_BASE (the local receiver, see loopback.py), OPENAI_BASE_URL (the
OpenAI double), AGENSIGHT_MODE (default prod), AGENSIGHT_SCENARIO: `docs` (default), `leak`
(then a second trace without a session), `double` (then a trace whose span returns the OpenAI
response itself, as `return client.chat.completions.create(...)` does).
"""
import loopback  # noqa: F401  (first: loopback only, cloud URL redirected)

import os
import warnings

warnings.simplefilter("ignore")

from openai import OpenAI  # noqa: E402
from opentelemetry import trace as otel  # noqa: E402

import agensight  # noqa: E402
from agensight import span, trace  # noqa: E402

client = OpenAI(base_url=os.environ["OPENAI_BASE_URL"], api_key="sk-test-not-a-key")

TOOLS = [{
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}]

agensight.init(
    name="chat-service",
    mode=os.environ.get("AGENSIGHT_MODE", "prod"),
    token="tok-test-12345",
    session="user_456",
)


@span(name="llm")
def llm(messages):
    reply = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=TOOLS)
    message = reply.choices[0].message
    tool = message.tool_calls[0].function.name if message.tool_calls else None
    return {"content": message.content or "", "tool_used": tool}


@trace(name="multi_agent_chat", session={"id": "user_789", "name": "multi agent chat", "user_id": "123"}, plan="pro")
def multi_agent_chat():
    plan = llm([{"role": "user", "content": "Weather in Paris?"}])
    summary = llm([{"role": "user", "content": f"Summarize this plan: {plan['tool_used']}"}])
    return summary["content"]


@trace(name="second_trace")
def second_trace():
    return llm([{"role": "user", "content": "And tomorrow?"}])["content"]


@span(name="llm_raw")
def llm_raw(messages):
    return client.chat.completions.create(model="gpt-4o-mini", messages=messages)


@trace(name="raw_trace")
def raw_trace():
    return llm_raw([{"role": "user", "content": "And tomorrow?"}]).choices[0].message.content


print("final:", multi_agent_chat())
scenario = os.environ.get("AGENSIGHT_SCENARIO", "docs")
if scenario == "leak":
    print("second:", second_trace())
if scenario == "double":
    print("raw:", raw_trace())
otel.get_tracer_provider().force_flush()
