// Helpers the viewer tests share: how Chromium is started, and waiting for the traces table.

export const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"];

/** Waits until the table shows the rows of the search and filters as they are now (the page
 * marks its table body with the query its rows answer, and whether pages are loading). */
export async function settled(page) {
  await page.waitForFunction(() => {
    const v = (id) => document.querySelector(`[data-testid="${id}"]`).value;
    const session = v("filter-session");
    const key = JSON.stringify({ q: v("search").trim(), session: session === "\u0000none" ? null : session, status: v("filter-status") });
    const body = document.querySelector('[data-testid="traces-body"]');
    return body.dataset.key === key && body.dataset.loading === "0";
  });
}
