// A project of pinned npm packages outside the root node_modules (the bundler tools, the
// benchmark's peers): a manifest and its lockfile in the repository, installed by `npm ci`
// into a scratch directory and reused while both files are unchanged (a stamp of their hash).
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, withLock } from "../../support/package.mjs";

/**
 * @param {{dir: string, manifest: string, lock: string, name: string, what: string, hint: string}} p
 *   `dir` the scratch project, `manifest`/`lock` the committed package.json and lockfile,
 *   `name` of the stamp (node_modules/.<name>-stamp) and of the install lock
 *   (tests/.scratch/.<name>-lock), `what` and `hint` for the error message
 * @returns {{ensure(opts?: {quiet?: boolean}): Promise<string>, upToDate(): boolean, versions: Record<string, string>}}
 */
export function pinnedProject({ dir, manifest, lock, name, what, hint }) {
  const stamp = join(dir, `node_modules/.${name}-stamp`);
  const wanted = () => createHash("sha256").update(readFileSync(manifest)).update(readFileSync(lock)).digest("hex");
  const upToDate = () => existsSync(stamp) && readFileSync(stamp, "utf8").trim() === wanted();
  /** Installs unless the same versions are there; returns `dir`. npm ci may take minutes: a
   * second caller waits for the first for up to ten. */
  async function ensure({ quiet = true } = {}) {
    if (upToDate()) return dir;
    await withLock(join(ROOT, "tests/.scratch", `.${name}-lock`), () => {
      if (upToDate()) return;
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "package.json"), readFileSync(manifest));
      writeFileSync(join(dir, "package-lock.json"), readFileSync(lock));
      try {
        execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: dir, stdio: quiet ? "pipe" : "inherit", encoding: "utf8" });
      } catch (e) {
        throw new Error(`installing ${what} (npm ci in ${dir}) failed: ${hint} and check the npm registry is reachable\n${e.stderr ?? ""}${e.stdout ?? ""}`);
      }
      writeFileSync(stamp, wanted() + "\n");
    }, { waitMs: 600000 });
    return dir;
  }
  return { ensure, upToDate, versions: JSON.parse(readFileSync(manifest, "utf8")).dependencies };
}
