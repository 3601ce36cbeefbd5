// The in-memory local store (storage: "memory", and the default in workerd, which has no
// file system and no IndexedDB). No runtime imports: every entry may use it.

import { forEachLine } from "./records.js";

/** The bound the entries give a memory store (characters of JSON lines): small next to an
 * edge isolate's 128 MB, large enough for a test run's traces. workerd uses 4 MiB. */
export const DEFAULT_MEMORY_STORE_BYTES = 64 * 1024 * 1024;

/** How a span record's line starts (the store counts the spans its bound dropped). */
const SPAN_LINE = '{"type":"span"';

/**
 * Keeps store lines in memory. With `maxBytes`, the oldest whole lines are dropped once the
 * text grows past it (a long-lived worker isolate must not grow without bound); `dropped`
 * counts the records dropped that way.
 * @param {{ maxBytes?: number }} [options]
 */
export function memoryStore({ maxBytes = Infinity } = {}) {
  // Lines arrive as UTF-8 bytes and are decoded only when read, or when the bound is reached
  // (it counts characters). They are kept as the chunks they were written in, so the bound
  // drops whole chunks off the front and cuts at most one: writing at the bound costs the
  // chunk written, not a copy of the whole store.
  const utf8 = new TextDecoder();
  /** @type {(string | Uint8Array)[]} */
  let chunks = [];
  // Characters of the decoded chunks plus bytes of the others (a UTF-8 byte count is never
  // below the UTF-16 length, so this only over-estimates until decoded).
  let size = 0;
  let dropped = 0;
  let droppedSpans = 0;
  // The start (up to SPAN_LINE's length) of a line dropped with an earlier chunk whose end
  // was not dropped yet (null: none), to tell whether it is a span record.
  let openLine = null;

  const decodeAll = () => {
    size = 0;
    for (let i = 0; i < chunks.length; i++) {
      if (typeof chunks[i] !== "string") chunks[i] = utf8.decode(chunks[i]);
      size += chunks[i].length;
    }
  };

  /** Counts the records dropped with `c.slice(0, end)`. */
  const countDropped = (c, end) => {
    const head = (i) => (i === 0 && openLine !== null ? openLine + c.slice(0, SPAN_LINE.length) : c.slice(i, i + SPAN_LINE.length));
    let i = 0;
    for (let nl = c.indexOf("\n"); nl !== -1 && nl < end; i = nl + 1, nl = c.indexOf("\n", i)) {
      dropped++;
      if (head(i).startsWith(SPAN_LINE)) droppedSpans++;
      openLine = null;
    }
    if (i < end) openLine = head(i).slice(0, Math.min(SPAN_LINE.length, (i === 0 && openLine !== null ? openLine.length : 0) + end - i));
  };

  /** Drops the fewest oldest whole lines that bring the text within the bound. */
  const trim = () => {
    decodeAll();
    // At least `need` characters go, then the rest of the line the last of them is in.
    let need = size - maxBytes;
    let first = 0;
    while (need > 0 && first < chunks.length) {
      const c = /** @type {string} */ (chunks[first]);
      const nl = need - 1 < c.length ? c.indexOf("\n", need - 1) : -1;
      if (nl === -1) {
        // All of this chunk goes; an unended line goes on into the next one.
        countDropped(c, c.length);
        size -= c.length;
        need = need > c.length ? need - c.length : 1;
        first++;
      } else {
        countDropped(c, nl + 1);
        size -= nl + 1;
        chunks[first] = c.slice(nl + 1);
        need = 0;
      }
    }
    // Everything went, an unended last line too: what comes next starts a line of its own.
    if (first === chunks.length) openLine = null;
    if (first) chunks = chunks.slice(first);
  };

  const store = {
    kind: "memory",
    /** write() takes the lines as UTF-8 bytes (or text). */
    bytes: true,
    /** @param {Uint8Array | string} lines bytes good during the call only (a view into wasm
     * memory): copied */
    write(lines) {
      if (lines.length === 0) return;
      chunks.push(typeof lines === "string" ? lines : lines.slice());
      size += lines.length;
      if (size > maxBytes) trim();
    },
    read() {
      decodeAll();
      if (chunks.length > 1) chunks = [chunks.join("")];
      return chunks.length ? /** @type {string} */ (chunks[0]) : "";
    },
    /** Records dropped by the bound. */
    get dropped() {
      return dropped;
    },
    /** Spans the store could not write (none: memory does not fail) and dropped by its bound. */
    counts: () => ({ failed: 0, dropped: droppedSpans }),
    /** The store's reader (see readback.js): its lines, the newest `maxBytes` characters. */
    reader() {
      return {
        scan: (sink, { maxBytes: limit = Infinity } = {}) => {
          const all = store.read();
          let from = 0;
          if (all.length > limit) {
            const nl = all.indexOf("\n", all.length - limit - 1);
            from = nl === -1 ? all.length : nl + 1;
            sink.omit(from);
          }
          forEachLine(from ? all.slice(from) : all, sink.line);
        },
        clear: () => store.clear(),
      };
    },
    clear() {
      chunks = [];
      size = 0;
      openLine = null;
    },
  };
  return store;
}
