"""Loads Agensight records into the reference package's own SQLite schema and runs its dashboard
code over them, as its local dashboard server does.

stdin: JSON `[{"type": "session|trace|span|prompt|completion|tool|trace/update", "data": {...}}]`
(the records as the cloud API receives them). stdout: JSON
`{"traces": [...rows], "sessions": [...rows], "structured": {trace_id: agent view}}`, where the
agent view is what the dashboard's trace route (`GET /api/traces/{id}/spans`, the function
get_structured_trace) answers: trace input/output and the agents with their tools and final
completion. The database is a temporary file: the package's default one lives inside
site-packages and is never touched.
"""
import loopback  # noqa: F401

import json
import sys
import tempfile
import warnings
from pathlib import Path

warnings.simplefilter("ignore")

import agensight.tracing.db as db  # noqa: E402

workdir = tempfile.mkdtemp(prefix="agensight-dashboard-")
db.DB_FILE = Path(workdir) / "traces.db"
db.init_schema()

import logging  # noqa: E402

logging.disable(logging.CRITICAL)
from agensight._server.routes import trace as routes  # noqa: E402

INSERTS = {
    "session": ("sessions", ["id", "started_at", "session_name", "user_id", "metadata"]),
    "trace": ("traces", ["id", "name", "started_at", "ended_at", "session_id", "metadata"]),
    "span": ("spans", ["id", "trace_id", "parent_id", "name", "started_at", "ended_at", "duration",
                       "kind", "status", "attributes"]),
    "prompt": ("prompts", ["span_id", "role", "content", "message_index"]),
    "completion": ("completions", ["span_id", "role", "content", "finish_reason", "total_tokens",
                                   "prompt_tokens", "completion_tokens"]),
    "tool": ("tools", ["span_id", "name", "arguments"]),
}

conn = db.get_db()
for record in json.load(sys.stdin):
    kind, data = record["type"], record["data"]
    if kind == "trace/update":
        conn.execute("UPDATE traces SET total_tokens = ? WHERE id = ?", (data["total_tokens"], data["id"]))
        continue
    table, columns = INSERTS[kind]
    # A session or trace id seen again keeps its first record, as the reference's own local
    # store does (INSERT OR IGNORE); what the cloud API does with a repeat is not public.
    verb = "INSERT OR IGNORE" if kind in ("session", "trace") else "INSERT"
    conn.execute(f"{verb} INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                 [data.get(c) for c in columns])
conn.commit()

traces = routes.list_traces()
out = {
    "traces": traces,
    "sessions": routes.list_sessions(None, None),
    "structured": {t["id"]: json.loads(routes.get_structured_trace(t["id"]).body) for t in traces},
}
json.dump(out, sys.stdout)
