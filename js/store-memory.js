// The in-memory local store (storage: "memory", and the default in workerd, which has no
// file system and no IndexedDB). No runtime imports: every entry may use it.

import { forEachLine } from "./records.js";

/** The bound the entries give a memory store (characters of JSON lines): small next to an
 * edge isolate's 128 MB, large enough for a test run's traces. workerd uses 4 MiB. */
export const DEFAULT_MEMORY_STORE_BYTES = 64 * 1024 * 1024;

/**
 * Keeps store lines in memory. With `maxBytes`, the oldest whole lines are dropped once the
 * text grows past it (a long-lived worker isolate must not grow without bound); `dropped`
 * counts the records dropped that way.
 * @param {{ maxBytes?: number }} [options]
 */
export function memoryStore({ maxBytes = Infinity } = {}) {
  // Lines arrive as UTF-8 bytes and are decoded only when read (or trimmed): a store that is
  // never read costs no decoding.
  const utf8 = new TextDecoder();
  let text = "";
  let pending = [];
  let pendingBytes = 0;
  let dropped = 0;
  let droppedSpans = 0;
  const settle = () => {
    if (pending.length) text += pending.map((c) => utf8.decode(c)).join("");
    pending = [];
    pendingBytes = 0;
  };
  const store = {
    kind: "memory",
    /** write() takes the lines as UTF-8 bytes (or text). */
    bytes: true,
    /** @param {Uint8Array | string} lines */
    write(lines) {
      if (typeof lines === "string") {
        settle();
        text += lines;
      } else {
        pending.push(lines);
        pendingBytes += lines.length;
      }
      if (text.length + pendingBytes > maxBytes) {
        settle();
        // Cut at a line boundary so the store keeps whole records only.
        let cut = text.length - maxBytes;
        const nl = text.indexOf("\n", cut - 1);
        cut = nl === -1 ? text.length : nl + 1;
        for (let i = 0, nl = text.indexOf("\n"); nl !== -1 && nl < cut; i = nl + 1, nl = text.indexOf("\n", i)) {
          dropped++;
          if (text.startsWith('{"type":"span"', i)) droppedSpans++;
        }
        text = text.slice(cut);
      }
    },
    read() {
      settle();
      return text;
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
      text = "";
      pending = [];
      pendingBytes = 0;
    },
  };
  return store;
}
