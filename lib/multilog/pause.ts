// "Warn, pause, retry the same step": multilog never gives up on a log
// directory and never skips a step. Like the C multilog it sleeps 5 seconds
// between attempts, synchronously (signals wait, as they do in the C tool).
import { Diag, reason } from '../errors';

export const PAUSE_MS = 5000;
const diag: Diag = new Diag('multilog');
const sleeper = new Int32Array(new SharedArrayBuffer(4));

export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

/** `multilog: warning: WHAT, pausing: REASON` then a pause. */
export function pauseAfter(what: string, err?: unknown): void {
  diag.warn(err === undefined ? `${what}, pausing` : `${what}, pausing: ${reason(err)}`);
  sleepSync(PAUSE_MS);
}

/** Runs `step` until it succeeds, warning and pausing after each failure. */
export function retry<T>(what: string, step: () => T): T {
  for (;;) {
    try {
      return step();
    } catch (e) {
      pauseAfter(what, e);
    }
  }
}
