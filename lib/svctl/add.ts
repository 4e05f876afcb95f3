// `svctl add`: every check that can fail before anything is made, then the
// directory built, linked into the scanned directory, and the wait until
// the service is up.
import fs from 'node:fs';
import path from 'node:path';
import { getpwnam } from '../os/sys';
import { reason } from '../os/errors';
import { ServiceSpec } from './scripts';
import { Places } from './places';
import { buildService, entryExists, linkService, unbuild } from './build';
import { requireSvscan } from './svscan-check';
import { usageError } from './fail';
import { UpEnd, lastExitOf, logEnd, logHasLines, waitSupervised, waitUp } from './wait-up';

/** A directory named by an option: absolute, and there; a usage error otherwise. */
export function existingDir(option: string, dir: string): string {
  const abs = path.resolve(dir);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch (e) {
    throw usageError(`${option} ${abs}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : 'cannot be read'}`);
  }
  if (!st.isDirectory()) throw usageError(`${option} ${abs}: not a directory`);
  return abs;
}

/** The account for --user: it must exist, and only root can run a service as someone. */
export function checkUser(user: string, euid: number = process.geteuid!()): void {
  if (!getpwnam(user)) throw usageError(`unknown account ${user}`);
  if (euid !== 0) throw usageError(`--user ${user}: only root can run a service as another account (setuidgid)`);
}

/** Whether a and b are one directory (either may not exist yet). */
function sameDir(a: string, b: string): boolean {
  if (path.resolve(a) === path.resolve(b)) return true;
  try {
    const sa = fs.statSync(a);
    const sb = fs.statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** Everything that can be refused before a file is written. */
export function checkAdd(places: Places, name: string, spec: ServiceSpec): void {
  if (spec.command.length === 0) throw usageError('no command: svctl add NAME [options] -- COMMAND [ARGS...]');
  if (spec.user !== undefined) checkUser(spec.user);
  if (sameDir(places.scanDir, places.servicesDir)) {
    throw usageError(`the services directory ${places.servicesDir} is the scanned directory: svscan would see services half built`);
  }
  if (entryExists(places.scanDir, name)) throw usageError(`${path.join(places.scanDir, name)} exists already`);
  if (entryExists(places.servicesDir, name)) {
    throw usageError(`${path.join(places.servicesDir, name)} exists already (kept by svctl rm; svctl rm --purge ${name} removes it)`);
  }
  requireSvscan(places.scanDir);
}

export interface Added {
  dir: string;
  link: string;
}

/** Builds and links the service (throws, leaving nothing behind, when it cannot). */
export function addService(places: Places, name: string, spec: ServiceSpec): Added {
  checkAdd(places, name, spec);
  const dir = buildService(places.servicesDir, name, spec);
  try {
    return { dir, link: linkService(places.scanDir, name, dir) };
  } catch (e) {
    unbuild(dir);
    throw e;
  }
}

/**
 * Why supervise cannot start dir/run, as access(2) says it (a mode without
 * x, a file system mounted noexec: supervise's own `unable to start`
 * warning goes to svscan's output, out of sight); undefined when it can.
 */
export function runProblem(dir: string): string | undefined {
  try {
    fs.accessSync(path.join(dir, 'run'), fs.constants.X_OK);
    return undefined;
  } catch (e) {
    return reason(e);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** How long a failed service's log is given to show the failure. */
const LOG_GRACE_MS = 1000;

/** Lines of the log shown when the service is not up. */
export const LOG_LINES = 10;

/**
 * Waits until the service added is up (or, with spec.down, supervised);
 * undefined when it is, else why not: a message and the end of its log.
 */
export async function waitAdded(added: Added, name: string, spec: ServiceSpec, timeoutMs: number): Promise<{ why: string; log: string } | undefined> {
  const deadline = Date.now() + timeoutMs;
  const log = spec.log ? path.join(added.dir, 'log') : undefined;
  let end: UpEnd;
  if (spec.down) {
    end = (await waitSupervised(log ? [added.dir, log] : [added.dir], deadline)) ? { kind: 'up' } : { kind: 'not supervised' };
  } else {
    end = await waitUp(added.dir, log, deadline);
  }
  if (end.kind === 'up') return undefined;
  const seconds = timeoutMs / 1000;
  if (end.kind === 'not supervised') {
    return { why: `${name} is linked but no supervise runs for it after ${seconds} seconds (is svscan still running for ${path.dirname(added.link)}?)`, log: '' };
  }
  const cannot = runProblem(added.dir);
  if (cannot) return { why: `${name}: supervise cannot start ${path.join(added.dir, 'run')}: ${cannot}; it keeps trying (svctl rm ${name} removes it)`, log: '' };
  // our supervise writes the status, then its info; the log comes through multilog: a moment for both
  const until = Date.now() + LOG_GRACE_MS;
  let exit = lastExitOf(added.dir);
  while ((exit === undefined || (log && !logHasLines(added.dir))) && Date.now() < until) {
    await sleep(50);
    exit = lastExitOf(added.dir);
  }
  const how = end.stayed ? `is not up after ${seconds} seconds` : `does not stay up${exit ? ` (${exit})` : ''}`;
  const tail = log ? logEnd(added.dir, LOG_LINES) : '';
  return { why: `${name} ${how}; supervise keeps trying (svctl rm ${name} removes it)${tail ? '; the end of its log:' : ''}`, log: tail };
}
