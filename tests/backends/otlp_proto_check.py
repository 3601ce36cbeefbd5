"""Decodes our OTLP protobuf body with the official generated classes (opentelemetry-proto's
trace_service_pb2) and compares it with our OTLP/HTTP JSON body of the same batches.

argv: DIR holding sample.pb and sample.json (written by the Rust test
otlp_proto::tests::cross_check_fixtures). stdout: JSON {"spans", "differences", "bytes_equal"}:
`differences` lists every field where the two decoded messages differ; `bytes_equal` says whether
our bytes are exactly what the official serializer writes for the JSON body's message.
"""
import base64
import json
import sys
from pathlib import Path

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

folder = Path(sys.argv[1])
raw = (folder / "sample.pb").read_bytes()
from_proto = ExportTraceServiceRequest.FromString(raw)  # raises on malformed bytes

# OTLP/HTTP JSON differs from the protobuf JSON mapping in one point: ids are hex, not base64.
doc = json.loads((folder / "sample.json").read_text())
for rs in doc["resourceSpans"]:
    for ss in rs["scopeSpans"]:
        for span in ss["spans"]:
            for key in ("traceId", "spanId", "parentSpanId"):
                if key in span:
                    span[key] = base64.b64encode(bytes.fromhex(span[key])).decode()
from_json = json_format.ParseDict(doc, ExportTraceServiceRequest())  # strict: unknown fields fail


def flat(value, path, out):
    if isinstance(value, dict):
        for k, v in value.items():
            flat(v, f"{path}.{k}", out)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            flat(v, f"{path}[{i}]", out)
    else:
        out[path] = value
    return out


a = flat(json_format.MessageToDict(from_proto), "$", {})
b = flat(json_format.MessageToDict(from_json), "$", {})
differences = [f"{k}: protobuf {a.get(k)!r}, json {b.get(k)!r}" for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k)]
spans = sum(len(ss.spans) for rs in from_proto.resource_spans for ss in rs.scope_spans)
json.dump({
    "spans": spans,
    "differences": differences,
    "bytes_equal": from_json.SerializeToString(deterministic=True) == raw,
    "messages_equal": from_json == from_proto,
}, sys.stdout)
