// Strict parsing of OTLP/HTTP JSON against the OTLP protobuf schema, with protobufjs: every
// field must exist in the schema under its lowerCamelCase JSON name and have the JSON-mapping
// type (int64 as decimal strings, enums as integers, which OTLP requires), ids must be hex of
// the right length (OTLP's one change to the mapping), and the result must survive a binary
// protobuf encode/decode round trip. The schema is the subset of opentelemetry-proto
// (common/v1, resource/v1, trace/v1, collector/trace/v1) that traces use, field numbers and all.
import protobuf from "protobufjs";

const PROTO = `
syntax = "proto3";
package opentelemetry.proto;
message AnyValue {
  oneof value {
    string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4;
    ArrayValue array_value = 5; KeyValueList kvlist_value = 6; bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue { string key = 1; AnyValue value = 2; }
message InstrumentationScope { string name = 1; string version = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
message Resource { repeated KeyValue attributes = 1; uint32 dropped_attributes_count = 2; }
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; string schema_url = 3; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; string schema_url = 3; }
message Span {
  bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; bytes parent_span_id = 4; fixed32 flags = 16;
  string name = 5; SpanKind kind = 6; fixed64 start_time_unix_nano = 7; fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9; uint32 dropped_attributes_count = 10;
  repeated Event events = 11; uint32 dropped_events_count = 12;
  repeated Link links = 13; uint32 dropped_links_count = 14; Status status = 15;
  enum SpanKind { SPAN_KIND_UNSPECIFIED = 0; SPAN_KIND_INTERNAL = 1; SPAN_KIND_SERVER = 2; SPAN_KIND_CLIENT = 3; SPAN_KIND_PRODUCER = 4; SPAN_KIND_CONSUMER = 5; }
  message Event { fixed64 time_unix_nano = 1; string name = 2; repeated KeyValue attributes = 3; uint32 dropped_attributes_count = 4; }
  message Link { bytes trace_id = 1; bytes span_id = 2; string trace_state = 3; repeated KeyValue attributes = 4; uint32 dropped_attributes_count = 5; fixed32 flags = 6; }
}
message Status { reserved 1; string message = 2; StatusCode code = 3; enum StatusCode { STATUS_CODE_UNSET = 0; STATUS_CODE_OK = 1; STATUS_CODE_ERROR = 2; } }
`;

const root = protobuf.parse(PROTO).root;
const Request = root.lookupType("opentelemetry.proto.ExportTraceServiceRequest");
const ID_BYTES = { traceId: 16, spanId: 8, parentSpanId: 8 };

function check(type, obj, path) {
  if (obj === null || typeof obj !== "object" || Array.isArray(obj)) throw new Error(`${path}: expected an object`);
  const out = {};
  for (const [k, v] of Object.entries(obj)) {
    const field = type.fields[k];
    if (!field) throw new Error(`${path}.${k}: not a field of ${type.name}`);
    if (field.repeated) {
      if (!Array.isArray(v)) throw new Error(`${path}.${k}: expected an array`);
      out[k] = v.map((e, i) => scalar(field, e, `${path}.${k}[${i}]`));
    } else out[k] = scalar(field, v, `${path}.${k}`);
  }
  return out;
}

function scalar(field, v, path) {
  field.resolve();
  if (field.resolvedType instanceof protobuf.Type) return check(field.resolvedType, v, path);
  if (field.resolvedType instanceof protobuf.Enum) {
    if (!Number.isInteger(v) || !Object.values(field.resolvedType.values).includes(v)) throw new Error(`${path}: enum must be one of its integers, got ${JSON.stringify(v)}`);
    return v;
  }
  switch (field.type) {
    case "string":
      if (typeof v !== "string") throw new Error(`${path}: expected a string`);
      return v;
    case "bool":
      if (typeof v !== "boolean") throw new Error(`${path}: expected a boolean`);
      return v;
    case "double":
      if (typeof v !== "number") throw new Error(`${path}: expected a number`);
      return v;
    case "int64":
    case "fixed64":
    case "uint64":
      if (!(typeof v === "string" && /^-?\d+$/.test(v)) && !Number.isSafeInteger(v)) throw new Error(`${path}: expected a 64-bit integer (decimal string), got ${JSON.stringify(v)}`);
      return String(v);
    case "uint32":
    case "fixed32":
      if (!Number.isInteger(v) || v < 0) throw new Error(`${path}: expected a 32-bit unsigned integer`);
      return v;
    case "bytes": {
      const name = path.split(".").at(-1);
      const len = ID_BYTES[name];
      if (typeof v !== "string" || !/^[0-9a-f]*$/.test(v) || (len && v.length !== len * 2)) throw new Error(`${path}: expected ${len ?? "some"} bytes as lowercase hex, got ${JSON.stringify(v)}`);
      return Buffer.from(v, "hex");
    }
    default:
      throw new Error(`${path}: unhandled type ${field.type}`);
  }
}

/** Parses an OTLP/HTTP JSON body strictly; returns it as plain JSON (ids as hex again). */
export function parseOtlpRequest(text) {
  const checked = check(Request, JSON.parse(text), "$");
  return plain(Request.decode(Request.encode(Request.fromObject(checked)).finish()));
}

/**
 * Decodes an OTLP/HTTP protobuf body (`application/x-protobuf`) with the same schema; returns
 * what parseOtlpRequest returns for the same message. Throws on bytes that are not one.
 */
export function decodeOtlpProtobuf(bytes) {
  return plain(Request.decode(bytes));
}

/** A decoded request as OTLP JSON (ids as hex). */
function plain(decoded) {
  const out = Request.toObject(decoded, { longs: String, enums: Number, bytes: String, defaults: false, json: true });
  const hex = (b64) => (b64 === undefined ? undefined : Buffer.from(b64, "base64").toString("hex"));
  for (const rs of out.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) Object.assign(s, { traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId) });
    }
  }
  return out;
}
