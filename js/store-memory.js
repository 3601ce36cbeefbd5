// The in-memory local store (storage: "memory", and the default in workerd, which has no
// file system and no IndexedDB). No runtime imports: every entry may use it.

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
  const settle = () => {
    if (pending.length) text += pending.map((c) => utf8.decode(c)).join("");
    pending = [];
    pendingBytes = 0;
  };
  return {
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
        for (let i = text.indexOf("\n"); i !== -1 && i < cut; i = text.indexOf("\n", i + 1)) dropped++;
        text = text.slice(cut);
      }
    },
    read() {
      settle();
      return text;
    },
    get dropped() {
      return dropped;
    },
    clear() {
      text = "";
      pending = [];
      pendingBytes = 0;
    },
  };
}
