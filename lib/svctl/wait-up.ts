// After `svctl add` links a service in: wait until svscan has started its
// supervise (and its log's), then until it is up, then that it stays up a
// moment (a command that is not found, or exits at once, is up for an
// instant only); or say why not: how its last run ended and the end of
// its log.
import fs from 'node:fs';
import path from 'node:path';
import { isSupervised } from '../control/service';
import { InfoReader, lastExitIn } from '../control/svstat-info';
import { Origin } from '../control/cwd';
import { Seen, seenNow, waitStates } from '../control/wait';
import { asBytes } from './fail';
import { procStat } from '../os/proc-stat';
import { localTimes, logDirOf, tail } from './log-view';
import { pollUntil } from './sleep';

/** How long a service must stay up to count as started: supervise's own rule for a failed start (start-secs' default). */
export const STAY_UP_MS = 1000;

/** Waits until every dir has a supervise answering (svscan notices a new entry at once, the C one within 5 s); false on timeout. */
export function waitSupervised(dirs: readonly string[], deadline: number): Promise<boolean> {
  return pollUntil(() => dirs.every((d) => isSupervised(d)), deadline);
}

export type UpEnd = { kind: 'up' } | { kind: 'not supervised' } | { kind: 'not up'; stayed: boolean };

/**
 * Waits until dir (and log, if given) is supervised, dir up, and still up
 * with the same run STAY_UP_MS later; all before deadline (ms since the
 * epoch). `stayed` false: it came up but its run ended at once.
 */
export async function waitUp(dir: string, log: string | undefined, deadline: number): Promise<UpEnd> {
  if (!(await waitSupervised(log ? [dir, log] : [dir], deadline))) return { kind: 'not supervised' };
  const bytes = [asBytes(dir)];
  const left = deadline - Date.now();
  if (left <= 0) return { kind: 'not up', stayed: true };
  const up = await waitStates(bytes, { state: 'u', all: true, timeoutMs: left });
  if (up.kind !== 'reached') return { kind: 'not up', stayed: true };
  const seen: Array<Seen | undefined> = seenNow(bytes);
  // d with `before`: reached when this run ends (its status changes); the timeout is the good end
  const ended = await waitStates(bytes, { state: 'd', all: true, timeoutMs: STAY_UP_MS, before: seen });
  if (ended.kind !== 'timeout') return { kind: 'not up', stayed: false };
  // a supervise slow to notice the exit (a busy machine) has not changed the status yet: the process tells
  const now = seenNow(bytes)[0];
  const same = now !== undefined && seen[0] !== undefined && now.since === seen[0].since && now.pid !== 0;
  return same && running(now.pid) ? { kind: 'up' } : { kind: 'not up', stayed: false };
}

/** Whether pid runs (exited but not yet reaped by its supervise: a zombie, not running). */
function running(pid: number): boolean {
  const st = procStat(pid);
  return st !== undefined && st.state !== 'Z' && st.state !== 'X';
}

/** How the last run of dir ended, as our supervise's info tells (undefined under the C supervise). */
export function lastExitOf(dir: string): string | undefined {
  const here = Origin.shared();
  try {
    here.enter(asBytes(dir));
    const exit = lastExitIn(new InfoReader().read());
    if (!exit) return undefined;
    return exit.code !== null ? `exit code ${exit.code}` : exit.signal ? `killed by SIG${exit.signal.replace(/^SIG/, '')}` : undefined;
  } catch {
    return undefined;
  } finally {
    here.back();
  }
}

/** The last n lines of the service's log, in local time, each indented; '' when there is none (yet). */
export function logEnd(serviceDir: string, n: number): string {
  try {
    const { text, position } = tail(logDirOf(serviceDir), n);
    if (position) fs.closeSync(position.fd);
    const shown = localTimes()(text).toString('latin1');
    return shown.split('\n').filter((l) => l !== '').map((l) => `  ${l}\n`).join('');
  } catch {
    return '';
  }
}

/** Whether the service has a log directory with something in it yet. */
export function logHasLines(serviceDir: string): boolean {
  try {
    return fs.statSync(path.join(logDirOf(serviceDir), 'current')).size > 0;
  } catch {
    return false;
  }
}
