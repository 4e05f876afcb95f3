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
import { isSupervised } from '../control/service';
import { pollUntil } from './sleep';

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

/** p with its longest existing leading part resolved through links (the rest may not exist yet). */
function realOrPlanned(p: string): string {
  const abs = path.resolve(p);
  try {
    return fs.realpathSync(abs);
  } catch {
    const up = path.dirname(abs);
    return up === abs ? abs : path.join(realOrPlanned(up), path.basename(abs));
  }
}

/** Where inner is below outer: its path from outer, undefined when it is not below. */
function below(outer: string, inner: string): string | undefined {
  const rel = path.relative(realOrPlanned(outer), realOrPlanned(inner));
  return rel === '' || rel === '..' || rel.startsWith('../') || path.isAbsolute(rel) ? undefined : rel;
}

/** Everything that can be refused before a file is written. */
export function checkAdd(places: Places, name: string, spec: ServiceSpec): void {
  if (spec.command.length === 0) throw usageError('no command: svctl add NAME [options] -- COMMAND [ARGS...]');
  if (spec.user !== undefined) checkUser(spec.user);
  if (sameDir(places.scanDir, places.servicesDir)) {
    throw usageError(`the services directory ${places.servicesDir} is the scanned directory: svscan would see services half built`);
  }
  const inside = below(places.scanDir, places.servicesDir);
  // svscan takes every entry whose name does not start with a dot for a service
  if (inside !== undefined && !inside.split('/').some((c) => c.startsWith('.'))) {
    throw usageError(`the services directory ${places.servicesDir} is inside the scanned directory under a name svscan takes for a service (${inside}): put it elsewhere, or under a name starting with a dot`);
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

/**
 * No supervise came for the service: its link is removed and, since
 * nothing has run from it, its directory too; the message says so (or
 * what could not be taken back).
 */
function takeBack(added: Added, name: string, seconds: number): string {
  const why = `${name} was not added: no supervise runs for it after ${seconds} seconds (is svscan still running for ${path.dirname(added.link)}?)`;
  try {
    fs.unlinkSync(added.link);
  } catch (e) {
    return `${why}; unable to remove ${added.link}: ${reason(e)}`;
  }
  // one that came between the deadline and the unlink keeps its directory: svctl rm stops it
  if ([added.dir, path.join(added.dir, 'log')].some((d) => isSupervised(d))) return `${why}; ${added.link} removed, ${added.dir} kept (supervised now)`;
  try {
    unbuild(added.dir);
  } catch (e) {
    return `${why}; ${added.link} removed; unable to remove ${added.dir}: ${reason(e)}`;
  }
  return `${why}; ${added.link} and ${added.dir} removed`;
}

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
  if (end.kind === 'not supervised') return { why: takeBack(added, name, seconds), log: '' };
  const cannot = runProblem(added.dir);
  if (cannot) return { why: `${name}: supervise cannot start ${path.join(added.dir, 'run')}: ${cannot}; it keeps trying (svctl rm ${name} removes it)`, log: '' };
  // our supervise writes the status, then its info; the log comes through multilog: a moment for both
  let exit: string | undefined;
  await pollUntil(() => {
    exit = lastExitOf(added.dir);
    return exit !== undefined && (!log || logHasLines(added.dir));
  }, Date.now() + LOG_GRACE_MS);
  const how = end.stayed ? `is not up after ${seconds} seconds` : `does not stay up${exit ? ` (${exit})` : ''}`;
  const tail = log ? logEnd(added.dir, LOG_LINES) : '';
  return { why: `${name} ${how}; supervise keeps trying (svctl rm ${name} removes it)${tail ? '; the end of its log:' : ''}`, log: tail };
}
