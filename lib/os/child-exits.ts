// The exits of children started with posix_spawn (lib/exec/spawn-child.ts):
// libuv reaps only the children it started itself, each by its pid, so
// these are reaped here, at each SIGCHLD, by their pid too. The same pass
// can reap orphans (svscan as PID 1, svscanboot as a subreaper): any other
// terminated child that neither this module nor libuv waits for.
import os from 'node:os';
import * as sys from './sys';

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const waiting = new Map<number, (exit: ChildExit) => void>();
/** Set by reapOrphans(): whether a pid is a child libuv waits for (never reaped here). */
let libuvChild: ((pid: number) => boolean) | undefined;
let listening = false;

const signalNames = new Map<number, NodeJS.Signals>();
for (const [name, n] of Object.entries(os.constants.signals)) if (!signalNames.has(n)) signalNames.set(n, name as NodeJS.Signals);

/** Installs the SIGCHLD listener: before the first child is started, so that no exit goes unseen. */
export function listenForExits(): void {
  if (listening) return;
  listening = true;
  process.on('SIGCHLD', reap);
}

/**
 * Calls onExit once pid (a child of ours, not libuv's) has terminated, and
 * reaps it. Call listenForExits() before starting the child, and this in
 * the same tick: its SIGCHLD is dispatched no sooner than the next one.
 */
export function whenChildExits(pid: number, onExit: (exit: ChildExit) => void): void {
  listenForExits();
  waiting.set(pid, onExit);
}

/** Whether pid is a child whose exit is awaited here. */
export function awaited(pid: number): boolean {
  return waiting.has(pid);
}

/**
 * Reaps, from now on, every terminated child that is neither awaited here
 * nor one of libuv's (isLibuvs), at each SIGCHLD and every intervalMs (a
 * signal can be coalesced). Returns a stop function.
 */
export function reapOrphans(isLibuvs: (pid: number) => boolean, intervalMs = 1000): () => void {
  libuvChild = isLibuvs;
  listenForExits();
  const timer = setInterval(reap, intervalMs);
  return () => {
    clearInterval(timer);
    libuvChild = undefined;
  };
}

function reapOne(pid: number): boolean {
  let exit: sys.WaitStatus | undefined;
  try {
    exit = sys.waitpidNoHang(pid);
  } catch {
    // not our child any more (ECHILD): nothing will ever be reported
    exit = { code: null, signal: null };
  }
  if (!exit) return false;
  const onExit = waiting.get(pid);
  waiting.delete(pid);
  onExit?.({ code: exit.code, signal: exit.signal === null ? null : signalNames.get(exit.signal) ?? null });
  return true;
}

/**
 * Reaps now what has already terminated, without waiting for the SIGCHLD
 * to come round the event loop: called right after signalling a child,
 * whose exit has often happened by the time the status is written.
 */
export function reapExited(): void {
  if (listening) reap();
}

function reap(): void {
  // the terminated children one by one, as long as the first in line is ours to reap
  for (;;) {
    const pid = sys.peekExitedChild();
    if (pid <= 0) return;
    if (waiting.has(pid)) {
      reapOne(pid);
      continue;
    }
    if (!libuvChild || libuvChild(pid)) break;
    if (!sys.reapChild(pid)) break;
  }
  // one of libuv's is first in line (it reaps it on its own pass): ours behind it, by pid
  for (const pid of [...waiting.keys()]) reapOne(pid);
}
