// The package's own error class, a leaf module: the bridge raises it for bad options, core.js
// and the entries re-export it.

/** An error from agensight-wasm itself (bad options): `code` says which check failed. */
export class AgensightError extends Error {
  /**
   * @param {string} message what was wrong and what to do
   * @param {string} code which check failed, e.g. `"invalid_option"`
   */
  constructor(message, code) {
    super(message);
    this.name = "AgensightError";
    this.code = code;
  }
}

/**
 * Rethrows a wasm-side `AgensightError` (a plain Error with name and code) as the class.
 * @param {unknown} e
 * @param {string} context the call that failed, e.g. `"init()"`
 * @returns {AgensightError}
 */
export function asAgensightError(e, context) {
  if (e instanceof AgensightError) return e;
  if (e && e.name === "AgensightError") return new AgensightError(e.message, e.code);
  return new AgensightError(`${context}: ${e && e.message ? e.message : String(e)}`, "invalid_option");
}
