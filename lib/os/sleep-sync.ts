// A synchronous sleep: the thread blocks (signals wait, as in a C tool's
// sleep), for the few places that must not return to the event loop.
// Made on first use: most programs that import it never sleep.
let sleeper: Int32Array | undefined;

/** Blocks for ms milliseconds. */
export function sleepSync(ms: number): void {
  sleeper ??= new Int32Array(new SharedArrayBuffer(4));
  Atomics.wait(sleeper, 0, 0, ms);
}
