// Entry for `require("agensight-wasm")` in Node. Where Node can require an ES module (Node
// 20.19+, 22.12+, 23+: require(esm)), this is the very same module instance that `import`
// gives, so CommonJS and ESM code in one app share one tracer. On an older Node it loads
// node-compat.cjs, a CommonJS build of node.mjs made at build time (scripts/cjs.mjs); there an
// app that both imports and requires the package gets two separate tracers.
"use strict";

let entry;
try {
  entry = require("./node.mjs");
} catch (e) {
  if (e && (e.code === "ERR_REQUIRE_ESM" || e.code === "ERR_REQUIRE_ASYNC_MODULE")) entry = require("./node-compat.cjs");
  else throw e;
}
module.exports = entry;
