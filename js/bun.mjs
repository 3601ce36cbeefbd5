// Entry for Bun (the `bun` condition): Bun runs the Node entry as it is (node:fs reads the
// .wasm, AsyncLocalStorage context, file store and outbox), so this only re-exports it and
// the two cannot drift apart. No top-level await, so `require()` works too.

export * from "./node.mjs";
