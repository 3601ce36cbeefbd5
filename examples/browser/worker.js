// A dedicated (module) web worker: same package, same IndexedDB database as the page.
import * as agensight from "./node_modules/agensight-wasm/browser.mjs";
import { makeAgent } from "./agent.js";

agensight.init({ name: "browser-example-worker" });
const ask = makeAgent(agensight);
onmessage = async (e) => {
  const answer = await ask(e.data);
  await agensight.flush(); // written to IndexedDB once this resolves
  postMessage(answer);
};
