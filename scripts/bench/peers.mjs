// The peers the size and overhead tables compare with beyond the root devDependencies:
// Langfuse's edge stack (`@langfuse/tracing`, `@langfuse/otel`, `@langfuse/openai` on the
// OpenTelemetry SDK) and LangSmith with its OpenAI wrapper, pinned in scripts/bench/peers.json
// with the lockfile scripts/bench/peers-lock.json (regenerate it with `npm install` in a copy
// of peers.json). Installed once into tests/.scratch/bench-peers (`npm ci`) and reused while
// both files are unchanged: run.mjs, size.mjs and overhead.mjs call `ensurePeers()`, so
// `make bench` sets them up; a no-op when they are there.
//
//   node scripts/bench/peers.mjs      (installs, or says they are up to date)

import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { pinnedProject } from "../../tests/bundlers/support/pinned.mjs";
import { BENCH, ROOT } from "./lib.mjs";

export const PEERS = join(ROOT, "tests/.scratch/bench-peers");
const peers = pinnedProject({ dir: PEERS, manifest: join(BENCH, "peers.json"), lock: join(BENCH, "peers-lock.json"), name: "peers", what: "the bench peers", hint: "run node scripts/bench/peers.mjs" });

/** The pinned versions, by package name. */
export const PEER_VERSIONS = peers.versions;

/** Installs the pinned peers unless the same versions are there; returns the directory. */
export const ensurePeers = peers.ensure;

/** Imports a peer's module as a Node ESM import from inside the peers project. */
export async function importPeer(specifier) {
  const resolver = join(PEERS, "resolve.mjs");
  if (!existsSync(resolver)) writeFileSync(resolver, "export const resolve = (specifier) => import.meta.resolve(specifier);\n");
  const { resolve } = await import(pathToFileURL(resolver).href);
  return import(resolve(specifier));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const before = peers.upToDate();
  await ensurePeers({ quiet: false });
  console.log(`[bench peers] ${before ? "up to date" : "installed"} in ${PEERS}`);
}
