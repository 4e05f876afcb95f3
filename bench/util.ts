// Small helpers of the benchmark: time, statistics, waiting, files.
import fs from 'node:fs';

/** Milliseconds on a monotonic clock. */
export function nowMs(): number {
  return performance.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));
/** Blocks the whole process (only for the synchronous cleanup paths). */
export function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Thrown by the waits when the run is interrupted (Ctrl-C). */
export class Aborted extends Error {}

export const run = { aborted: false };

export function checkAborted(): void {
  if (run.aborted) throw new Aborted('interrupted');
}

/**
 * Polls cond every `everyMs` until it returns a truthy value and resolves with
 * the elapsed milliseconds since `startMs`; rejects after timeoutMs.
 */
export async function until(cond: () => boolean, what: string, startMs: number, timeoutMs: number, everyMs = 1): Promise<number> {
  for (;;) {
    const ms = elapsedIf(cond, what, startMs, timeoutMs);
    if (ms !== undefined) return ms;
    checkAborted();
    await sleep(everyMs);
  }
}

/**
 * One look of a wait: the milliseconds since startMs when cond holds (an
 * exception counts as not yet), undefined while it does not; throws once
 * timeoutMs have passed.
 */
export function elapsedIf(cond: () => boolean, what: string, startMs: number, timeoutMs: number): number | undefined {
  let ok = false;
  try {
    ok = cond();
  } catch {
    ok = false;
  }
  const t = nowMs();
  if (ok) return t - startMs;
  if (t - startMs > timeoutMs) throw new Error(`timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}`);
  return undefined;
}

export function writeExecutable(file: string, text: string): void {
  fs.writeFileSync(file, text, { mode: 0o755 });
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
