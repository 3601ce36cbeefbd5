// The end of a traced stream's span, for the provider wrappers (providers.js) and the Google
// Gen AI integration: the span ends once, when the stream ends, fails or is closed, and also
// when the stream is garbage-collected unread (a FinalizationRegistry, where the runtime has
// one); ending it unregisters it from that registry.

/** Ends spans of streams that were dropped without being read to the end or closed. */
const abandoned = typeof FinalizationRegistry === "function" ? new FinalizationRegistry((end) => end()) : null;

/**
 * @param {{fail(e: any): void, endStream(): void}} sp the span handle (spans.js `begin`)
 * @param {(e: any) => any} [asError] what the span records of an error
 * @returns {{end(error?: any, failed?: boolean): void, readonly ended: boolean, watch(stream: object): void}}
 *   `end()` ends the span ok, `end(e, true)` failed with `e`; later calls do nothing.
 *   `watch(stream)` ends it when `stream` is garbage-collected before that.
 */
export function streamEnd(sp, asError = (e) => e) {
  let ended = false;
  const token = {};
  const end = (error, failed) => {
    if (ended) return;
    ended = true;
    abandoned?.unregister(token);
    if (failed) sp.fail(asError(error));
    else sp.endStream();
  };
  return {
    end,
    get ended() {
      return ended;
    },
    watch: (stream) => abandoned?.register(stream, () => end(), token),
  };
}
