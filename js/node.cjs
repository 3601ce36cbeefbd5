// Entry for `require("agensight-wasm")` in Node. Where Node can require an ES module (Node
// 20.19+, 22.12+, 23+: require(esm)), this is the very same module instance that `import`
// gives, so CommonJS and ESM code in one app share one tracer: node.bundle.mjs, which the
// exports map gives `import` there too (`module-sync`; the Node entry as one file,
// scripts/node-bundle.mjs), else node.mjs (a Node with require(esm) behind its flag). On an
// older Node it loads node-compat.cjs, a CommonJS build of node.mjs made at build time
// (scripts/cjs.mjs); there an app that both imports and requires the package gets two
// separate tracers.
"use strict";

let entry;
try {
  // `module-sync` is on exactly where require(esm) is (process.features.require_module).
  entry = require(process.features?.require_module === true ? "./node.bundle.mjs" : "./node.mjs");
} catch (e) {
  if (e && (e.code === "ERR_REQUIRE_ESM" || e.code === "ERR_REQUIRE_ASYNC_MODULE")) entry = require("./node-compat.cjs");
  else throw e;
}
module.exports = entry;
