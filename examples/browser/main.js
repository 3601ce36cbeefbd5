import * as agensight from "agensight-wasm";
import { makeAgent } from "./agent.js";

const { init, flush, readLocal, exportLocal, clearLocal } = agensight;
init({ name: "browser-example" });
const ask = makeAgent(agensight);
const out = document.getElementById("out");

async function show(note = "") {
  const { traces } = await readLocal(); // works before any trace too: the records survive reloads
  out.textContent =
    note +
    `${traces.length} trace(s) in IndexedDB\n\n` +
    traces
      .map((t) => `${t.name}  ${t.id}  ${t.total_tokens} tokens\n` + t.spans.map((s) => `${"  ".repeat(s.depth + 1)}${s.name} [${s.kind}] ${(s.duration * 1000).toFixed(1)} ms`).join("\n"))
      .join("\n\n");
}

document.getElementById("ask").onclick = async () => {
  const answer = await ask("What's the weather in Paris?");
  await flush();
  show(`answer: ${answer}\n\n`);
};

const worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
worker.onmessage = (e) => show(`answer (worker): ${e.data}\n\n`);
document.getElementById("ask-worker").onclick = () => worker.postMessage("What's the weather in Lyon?");

document.getElementById("export").onclick = async () => {
  const blob = new Blob([JSON.stringify(await exportLocal())], { type: "application/json" });
  const a = Object.assign(document.createElement("a"), { href: URL.createObjectURL(blob), download: "agensight-traces.json" });
  a.click(); // open it with: npx agensight-wasm view --file agensight-traces.json
};
document.getElementById("clear").onclick = async () => {
  await clearLocal();
  show();
};

show();
