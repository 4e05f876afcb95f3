// svctl's control verbs: each is svc's letters sent to supervise/control
// (lib/control/svc-control.ts), then, for the ones that change the state,
// a wait for it (lib/control/wait.ts, svwait's code).
import path from 'node:path';
import { Origin } from '../control/cwd';
import { ControlFailure, sendControl } from '../control/svc-control';
import { Seen, WaitEnd, WaitState, seenNow, waitStates } from '../control/wait';
import { errnoCode } from '../os/errors';
import { asBytes, systemError, usageError } from './fail';

export type Verb = 'start' | 'stop' | 'restart' | 'once' | 'pause' | 'continue' | 'kill';

/** The svc letters of each verb (kill: those of its signal). restart is d then u: supervise starts it again once it has exited. */
export const LETTERS: Record<Exclude<Verb, 'kill'>, string> = {
  start: 'u',
  stop: 'd',
  restart: 'du',
  once: 'o',
  pause: 'p',
  continue: 'c',
};

/** The signals supervise can send (svc's letters), by name and number. */
const SIGNALS: Array<[string, number, string]> = [
  ['HUP', 1, 'h'], ['INT', 2, 'i'], ['QUIT', 3, 'q'], ['KILL', 9, 'k'], ['USR1', 10, '1'],
  ['USR2', 12, '2'], ['ALRM', 14, 'a'], ['TERM', 15, 't'], ['CONT', 18, 'c'], ['STOP', 19, 'p'], ['WINCH', 28, 'w'],
];

/** The svc letter for a signal named as kill(1) takes it (TERM, SIGTERM, term, 15); a usage error otherwise. */
export function signalLetter(signal: string): string {
  const name = signal.toUpperCase().replace(/^SIG/, '');
  const found = SIGNALS.find(([n, num]) => n === name || String(num) === signal);
  if (!found) {
    throw usageError(`supervise cannot send signal ${JSON.stringify(signal)}: one of ${SIGNALS.map(([n]) => n).join(' ')} is needed`);
  }
  return found[2];
}

/** Sends letters to the supervise of dir; a system error when none runs or it cannot be written. */
export function sendTo(dir: string, name: string, letters: string): void {
  const here = Origin.shared();
  let failed: ControlFailure | undefined;
  try {
    here.enter(asBytes(dir));
  } catch (e) {
    throw systemError(`unable to chdir to ${dir}`, e);
  }
  try {
    failed = sendControl(Buffer.from(letters, 'latin1'));
  } finally {
    here.back();
  }
  if (!failed) return;
  const code = errnoCode(failed.error);
  if (failed.step === 'open' && (code === 'ENXIO' || code === 'ENOENT')) {
    throw systemError(`unable to control ${name}: supervise not running`);
  }
  throw systemError(`unable to control ${name}`, failed.error);
}

/** The state a verb waits for, undefined for those that do not wait. */
export function awaited(verb: Verb): WaitState | undefined {
  return verb === 'start' || verb === 'once' || verb === 'restart' ? 'u' : verb === 'stop' ? 'd' : undefined;
}

/** The status of each dir now: for restart and once, whose end is a change from it. */
export function before(dirs: readonly string[]): Array<Seen | undefined> {
  return seenNow(dirs.map(asBytes));
}

/**
 * Waits until every dir is in the state verb leads to. restart: the status
 * changed from `was` (the old run ended) and then up again.
 */
export async function waitForVerb(verb: Verb, dirs: readonly string[], was: ReadonlyArray<Seen | undefined>, timeoutMs: number): Promise<WaitEnd> {
  const state = awaited(verb);
  if (!state) return { kind: 'reached' };
  const bytes = dirs.map(asBytes);
  const started = Date.now();
  if (verb === 'restart') {
    // d with `before`: reached once the run that was up has ended (the status changed)
    const down = await waitStates(bytes, { state: 'd', all: true, timeoutMs, before: was });
    if (down.kind !== 'reached') return down;
  }
  const left = timeoutMs - (Date.now() - started);
  if (left <= 0) return { kind: 'timeout' };
  return waitStates(bytes, { state, all: true, timeoutMs: left, before: verb === 'once' ? was : undefined });
}

/** The entry of a service in the scanned directory. */
export function scanEntry(scanDir: string, name: string): string {
  return path.join(scanDir, name);
}
