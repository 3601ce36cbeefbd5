// A static server for this example (a bundler's dev server does the same): serves this folder,
// .wasm as application/wasm so the module compiles while it downloads.
//   npm install && node serve.mjs        then open http://127.0.0.1:8080
import { createServer } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL(".", import.meta.url));
const types = { ".html": "text/html", ".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm", ".json": "application/json" };
const port = Number(process.env.PORT ?? 8080);

createServer(async (req, res) => {
  const path = normalize(join(root, decodeURIComponent(new URL(req.url, "http://x").pathname)));
  const file = path.endsWith("/") ? join(path, "index.html") : path;
  let body;
  try {
    if (!file.startsWith(root)) throw new Error("outside");
    body = await readFile(file);
  } catch {
    res.writeHead(404).end("not found");
    return;
  }
  res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(body);
}).listen(port, "127.0.0.1", () => console.log(`http://127.0.0.1:${port}`));
