// The in-memory local store (storage: "memory", and the default in workerd, which has no
// file system and no IndexedDB). No runtime imports: every entry may use it.

/**
 * Keeps store lines in memory. With `maxBytes`, the oldest whole lines are dropped once the
 * text grows past it (a long-lived worker isolate must not grow without bound); `dropped`
 * counts the records dropped that way.
 * @param {{ maxBytes?: number }} [options]
 */
export function memoryStore({ maxBytes = Infinity } = {}) {
  let text = "";
  let dropped = 0;
  return {
    kind: "memory",
    write(t) {
      text += t;
      if (text.length > maxBytes) {
        // Cut at a line boundary so the store keeps whole records only.
        let cut = text.length - maxBytes;
        const nl = text.indexOf("\n", cut - 1);
        cut = nl === -1 ? text.length : nl + 1;
        for (let i = text.indexOf("\n"); i !== -1 && i < cut; i = text.indexOf("\n", i + 1)) dropped++;
        text = text.slice(cut);
      }
    },
    read: () => text,
    get dropped() {
      return dropped;
    },
    clear() {
      text = "";
    },
  };
}
