// js/store-memory.js: the memory store (storage "memory", and workerd's local store), bounded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { memoryStore } from "../../js/store-memory.js";

const line = (i) => JSON.stringify({ type: "span", data: { i } }) + "\n";

test("unbounded by default: keeps every line, clear() empties it", () => {
  const m = memoryStore();
  for (let i = 0; i < 1000; i++) m.write(line(i));
  assert.equal(m.read().split("\n").length - 1, 1000);
  assert.equal(m.dropped, 0);
  m.clear();
  assert.equal(m.read(), "");
});

test("bounded: the oldest whole lines go, the rest stay whole", () => {
  const m = memoryStore({ maxBytes: 200 });
  for (let i = 0; i < 50; i++) m.write(line(i) + line(i + 1000));
  const text = m.read();
  assert.ok(text.length <= 200, `${text.length} characters`);
  const lines = text.trimEnd().split("\n").map((l) => JSON.parse(l).data.i);
  assert.deepEqual(lines.at(-1), 1049, "the newest record is kept");
  assert.ok(text.endsWith("\n"));
  assert.equal(m.dropped + lines.length, 100, "every record is kept or counted as dropped");
});

test("a single batch larger than the bound keeps what fits at its end", () => {
  const m = memoryStore({ maxBytes: 60 });
  m.write(line(1) + line(2) + line(3));
  assert.deepEqual(m.read().trimEnd().split("\n").map((l) => JSON.parse(l).data.i), [3]);
  assert.equal(m.dropped, 2);
});

test("UTF-8 bytes (what the tracer hands over) read back as the same text, bounded alike", () => {
  const bytes = (s) => new TextEncoder().encode(s);
  const m = memoryStore();
  m.write(bytes(line("21 °C") + line("😀")));
  m.write(line(3));
  m.write(bytes(line("ünï")));
  assert.deepEqual(m.read().trimEnd().split("\n").map((l) => JSON.parse(l).data.i), ["21 °C", "😀", 3, "ünï"]);

  const b = memoryStore({ maxBytes: 200 });
  for (let i = 0; i < 50; i++) b.write(bytes(line(i) + line(`${i} °C`)));
  const text = b.read();
  assert.ok(text.length <= 200, `${text.length} characters`);
  const kept = text.trimEnd().split("\n").map((l) => JSON.parse(l).data.i);
  assert.equal(kept.at(-1), "49 °C", "the newest record is kept");
  assert.equal(b.dropped + kept.length, 100, "every record is kept or counted as dropped");
});
