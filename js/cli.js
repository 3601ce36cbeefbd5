#!/usr/bin/env node
// agensight-wasm command line: `agensight-wasm view` starts the local viewer.

import { spawn } from "node:child_process";
import { parseArgs } from "node:util";
import { startViewer } from "./viewer/server.js";

const USAGE = `Usage: agensight-wasm view [options]

Starts the local trace viewer on 127.0.0.1 over the local store that init({ mode: "local" })
writes (Node, Deno, Bun), or over a file exported from a browser with exportLocal().

Options:
  --dir <path>    store directory (default: .agensight)
  --file <path>   open an exported JSON file (exportLocal()) instead of the store
  --port <n>      port on 127.0.0.1 (default: 4319; 0 picks a free port)
  --open          open the viewer in a browser
  -h, --help      show this help
`;

function fail(message, code = 2) {
  process.stderr.write(`agensight-wasm: ${message}\n\n${USAGE}`);
  process.exit(code);
}

function openBrowser(url) {
  const [cmd, args] =
    process.platform === "darwin" ? ["open", [url]] : process.platform === "win32" ? ["cmd", ["/c", "start", '""', url]] : ["xdg-open", [url]];
  const warn = (why) => process.stderr.write(`agensight-wasm: warning: could not open a browser (${why}); open ${url} yourself.\n`);
  try {
    const child = spawn(cmd, args, { stdio: "ignore", detached: true, windowsHide: true });
    child.on("error", (e) => warn(e.code === "ENOENT" ? `${cmd} not found` : e.message));
    child.on("exit", (code) => code && warn(`${cmd} exited with code ${code}`));
    child.unref();
  } catch (e) {
    warn(e.message);
  }
}

async function main(argv) {
  const [command, ...rest] = argv;
  if (command === undefined) fail("missing command");
  if (command === "-h" || command === "--help" || command === "help") {
    process.stdout.write(USAGE);
    return;
  }
  if (command !== "view") fail(`unknown command ${JSON.stringify(command)}`);
  let values;
  try {
    ({ values } = parseArgs({
      args: rest,
      options: {
        dir: { type: "string", default: ".agensight" },
        file: { type: "string" },
        port: { type: "string", default: "4319" },
        open: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    fail(e.message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (!/^\d+$/.test(values.port) || Number(values.port) > 65535) fail(`invalid --port ${JSON.stringify(values.port)}: use a number from 0 to 65535`);
  let viewer;
  try {
    viewer = await startViewer({ dir: values.dir, file: values.file, port: Number(values.port) });
  } catch (e) {
    process.stderr.write(`agensight-wasm: ${e.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`Agensight viewer: ${viewer.url}\n`);
  if (values.open) openBrowser(viewer.url);
  const stop = () => {
    viewer.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main(process.argv.slice(2));
