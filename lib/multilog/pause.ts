// "Warn, pause, retry the same step": multilog never gives up on a log
// directory and never skips a step. Like the C multilog it sleeps 5 seconds
// between attempts, synchronously (signals wait, as they do in the C tool).
import { Diag, reason } from '../os/errors';
import { sleepSync } from '../os/sleep-sync';

export const PAUSE_MS = 5000;
/** multilog's messages; names in them are the arguments' raw bytes (latin1). */
export const diag: Diag = new Diag('multilog', 'latin1');

/** `multilog: warning: WHAT, pausing: REASON` then a pause. */
export function pauseAfter(what: string, err?: unknown): void {
  diag.warn(err === undefined ? `${what}, pausing` : `${what}, pausing: ${reason(err)}`);
  sleepSync(PAUSE_MS);
}

// The error of the C multilog's last failed system call, which one of its
// warnings prints although it has nothing to do with it (see processor.ts):
// a directory scan resets it ("no error").
const NO_ERROR = new Error('no error');
let stale: unknown = NO_ERROR;

/** Notes err as the last failed call (undefined: a directory scan, which clears it). */
export function noteFailure(err: unknown): void {
  stale = err ?? NO_ERROR;
}

/** The last failed call's error, as the C multilog still holds it. */
export function staleFailure(): unknown {
  return stale;
}

/** Runs `step` until it succeeds, warning and pausing after each failure. */
export function retry<T>(what: string, step: () => T): T {
  for (;;) {
    try {
      return step();
    } catch (e) {
      noteFailure(e);
      pauseAfter(what, e);
    }
  }
}
