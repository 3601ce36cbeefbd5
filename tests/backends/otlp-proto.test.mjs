// The OTLP protobuf encoder (src/encode/otlp_proto.rs) checked with the official generated classes of
// opentelemetry-proto (Python, the venv of scripts/bootstrap-python): the Rust test
// otlp_proto::tests::cross_check_fixtures writes rich sample batches both as protobuf and as
// our OTLP/HTTP JSON; otlp_proto_check.py decodes the protobuf with trace_service_pb2, parses
// the JSON strictly into the same message type, and compares them field by field, and our
// bytes with what the official serializer writes for that message.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "../support/package.mjs";

const run = promisify(execFile);

test("protobuf bodies decode with the official classes to exactly the JSON body's message, byte for byte", async () => {
  const dir = mkdtempSync(join(tmpdir(), "otlp-proto-"));
  await run("cargo", ["test", "--quiet", "--lib", "encode::otlp_proto::tests::cross_check_fixtures", "--", "--exact"], { cwd: ROOT, env: { ...process.env, OTLP_PROTO_DUMP: dir }, maxBuffer: 16 << 20 });
  assert.ok(readFileSync(join(dir, "sample.pb")).length > 20_000, "the sample includes a capture over 16 KiB");
  const { stdout } = await run(join(ROOT, "tests/.scratch/pyenv/bin/python"), [join(ROOT, "tests/backends/otlp_proto_check.py"), dir], { maxBuffer: 16 << 20 });
  const report = JSON.parse(stdout);
  assert.deepEqual(report.differences, []);
  assert.deepEqual(report, { spans: 6, differences: [], bytes_equal: true, messages_equal: true });
});
