// svctl's waits: a pause, and a poll until a condition holds or a deadline passes.

/** Resolves after ms. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How often pollUntil looks. */
export const POLL_MS = 50;

/** Waits until cond() holds (true) or deadline (ms since the epoch) has passed (false). */
export async function pollUntil(cond: () => boolean, deadline: number): Promise<boolean> {
  for (;;) {
    if (cond()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(POLL_MS);
  }
}
