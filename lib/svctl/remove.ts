// `svctl rm NAME [--purge]`: out of the scanned directory first (so svscan
// does not start it again), then down and its supervise gone (svc -dx, the
// service before its log so the log gets all of its output), then its
// directory removed with --purge, kept otherwise.
import fs from 'node:fs';
import path from 'node:path';
import fse from 'fs-extra';
import { isSupervised } from '../control/service';
import { errnoCode, reason } from '../os/errors';
import { sendTo } from './control';
import { systemError, usageError } from './fail';
import { entryExists } from './build';
import { pollUntil } from './sleep';

/** Where a service named name is: its entry in the scanned directory (if any) and its directory. */
export interface Located {
  /** the entry in the scanned directory; undefined when only the kept directory is left */
  entry?: string;
  /** whether the entry is a link (svctl's) or the service directory itself */
  linked: boolean;
  /** the service directory (the link's target, resolved) */
  dir: string;
}

/** Finds name in the scanned directory, else in the services directory; a usage error when in neither. */
export function locate(scanDir: string, servicesDir: string, name: string): Located {
  const entry = path.join(scanDir, name);
  let st: fs.Stats | undefined;
  try {
    st = fs.lstatSync(entry);
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw systemError(`unable to look at ${entry}`, e);
  }
  if (st) {
    try {
      return { entry, linked: st.isSymbolicLink(), dir: fs.realpathSync(entry) };
    } catch (e) {
      // a link to a directory gone: still an entry to remove
      if (errnoCode(e) !== 'ENOENT' || !st.isSymbolicLink()) throw systemError(`unable to resolve ${entry}`, e);
      return { entry, linked: true, dir: path.resolve(scanDir, fs.readlinkSync(entry)) };
    }
  }
  const kept = path.join(servicesDir, name);
  if (entryExists(servicesDir, name)) return { linked: false, dir: kept };
  throw usageError(`no service ${name} (neither ${entry} nor ${kept} exists)`);
}

/** Whether dir is an entry of parent (either of them possibly through links). */
function inDir(parent: string, dir: string): boolean {
  let real = parent;
  try {
    real = fs.realpathSync(parent);
  } catch {
    // not there: compared as given
  }
  return path.dirname(dir) === real || path.dirname(dir) === parent;
}

/** Sends d and x to the supervise of dir and waits until it has gone; false if it still runs at deadline. */
async function stopSupervise(dir: string, label: string, deadline: number): Promise<boolean> {
  if (!isSupervised(dir)) return true;
  try {
    sendTo(dir, label, 'dx');
  } catch {
    // exited meanwhile
  }
  return pollUntil(() => !isSupervised(dir), deadline);
}

/** Renames the hidden directory back to its entry after a failure (svscan takes it again); the words that say how that went. */
function putBack(hidden: string, entry: string): string {
  try {
    fs.renameSync(hidden, entry);
    return ` (${entry} put back)`;
  } catch (e) {
    return ` (it stays as ${hidden}: unable to rename it back to ${entry}: ${reason(e)})`;
  }
}

/** fs-extra's move throws plain errors of its own ("dest already exists."): the errno they stand for, for daemontools' wording. */
function errnoOf(e: unknown, dest: string): unknown {
  if (errnoCode(e) !== undefined) return e;
  return fs.existsSync(dest) ? Object.assign(new Error('dest already exists'), { code: 'EEXIST' }) : e;
}

export interface Removed {
  dir: string;
  purged: boolean;
  /** supervise processes still running at the deadline (their directories) */
  left: string[];
}

/**
 * Removes the service: its entry in scanDir (a link is unlinked; a real
 * directory is renamed to a dot name there, which svscan ignores), then
 * svc -dx on it and its log, waiting until deadline; then with purge its
 * directory is removed (only one inside servicesDir, or the renamed one),
 * else a real directory is moved to servicesDir.
 */
export async function removeService(scanDir: string, servicesDir: string, name: string, purge: boolean, deadline: number): Promise<Removed> {
  const where = locate(scanDir, servicesDir, name);
  // refused before anything is done: a directory elsewhere is not svctl's to delete
  if (purge && where.linked && !inDir(servicesDir, where.dir)) {
    throw usageError(`not purged: ${where.dir} is not in ${servicesDir} (remove it yourself; svctl rm ${name} without --purge unlinks it)`);
  }
  const kept = path.join(servicesDir, name);
  // a directory in the scanned directory itself is kept by moving it there: refused before it is hidden
  if (!purge && where.entry !== undefined && !where.linked && entryExists(servicesDir, name)) {
    throw usageError(`${kept} exists already: move it away first (or delete ${where.entry} instead with svctl rm --purge ${name})`);
  }
  let dir = where.dir;
  if (where.entry !== undefined) {
    try {
      if (where.linked) {
        fs.unlinkSync(where.entry);
      } else {
        // the same inode: its supervise keeps running in it, svscan no longer sees it
        const hidden = path.join(scanDir, `.${name}.removed-${process.pid}`);
        fs.renameSync(where.entry, hidden);
        dir = hidden;
      }
    } catch (e) {
      throw systemError(`unable to remove ${where.entry}`, e);
    }
  }
  const left: string[] = [];
  if (!(await stopSupervise(dir, name, deadline))) left.push(dir);
  const log = path.join(dir, 'log');
  if (fs.existsSync(log) && !(await stopSupervise(log, `${name}/log`, deadline))) left.push(log);
  if (purge) {
    if (left.length) throw systemError(`not purged: ${left.join(' and ')} still supervised`);
    try {
      fse.removeSync(dir);
    } catch (e) {
      throw systemError(`unable to remove ${dir}`, e);
    }
    return { dir, purged: true, left };
  }
  if (dir !== where.dir) {
    // a directory that was in the scanned directory itself: kept in the services directory,
    // unless a supervise still runs in it (it stays under its dot name then)
    if (left.length) return { dir, purged: false, left };
    try {
      // supervise's state is stale once it has exited, and its FIFOs cannot be copied to another file system
      fse.removeSync(path.join(dir, 'supervise'));
      fse.removeSync(path.join(log, 'supervise'));
      fse.moveSync(dir, kept, { overwrite: false });
    } catch (e) {
      throw systemError(`unable to move ${dir} to ${kept}${putBack(dir, where.entry ?? dir)}`, errnoOf(e, kept));
    }
    return { dir: kept, purged: false, left };
  }
  return { dir, purged: false, left };
}
