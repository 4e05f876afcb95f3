// Whether an svscan looks after a scanned directory: a service linked into
// a directory nobody scans would never start. svscan holds no lock of its
// own; what shows it is either a supervise answering for one of the
// directory's entries (supervise/ok has a reader), or a process called
// svscan (ours and the C one both name themselves so) whose working
// directory is that directory (svscan chdirs into it). /proc/PID/cwd of
// another user's process cannot be read: root sees every svscan, a user
// his own.
import fs from 'node:fs';
import path from 'node:path';
import { isSupervised } from '../control/service';
import { systemError } from './fail';

/** True when an entry of scanDir is supervised now. */
function anySupervised(entries: readonly string[], scanDir: string): boolean {
  return entries.some((e) => !e.startsWith('.') && isSupervised(path.join(scanDir, e)));
}

/** True when a process named svscan works in the directory of identity id. */
function svscanIn(id: fs.Stats): boolean {
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p));
  } catch {
    return false;
  }
  for (const pid of pids) {
    try {
      if (fs.readFileSync(`/proc/${pid}/comm`, 'latin1') !== 'svscan\n') continue;
      const cwd = fs.statSync(`/proc/${pid}/cwd`);
      if (cwd.dev === id.dev && cwd.ino === id.ino) return true;
    } catch {
      // gone, or another user's
    }
  }
  return false;
}

/** The command that starts a tree on scanDir, for the messages. */
export function startHint(scanDir: string): string {
  return `svscanboot --daemon ${scanDir}`;
}

/** Throws (111) unless an svscan scans scanDir, saying how to start one. */
export function requireSvscan(scanDir: string): void {
  let id: fs.Stats;
  let entries: string[];
  try {
    id = fs.statSync(scanDir);
    entries = fs.readdirSync(scanDir);
  } catch (e) {
    const missing = (e as NodeJS.ErrnoException).code === 'ENOENT';
    throw systemError(missing
      ? `no svscan is running for ${scanDir} (it does not exist); start one with: mkdir -p ${scanDir} && ${startHint(scanDir)}`
      : `unable to read ${scanDir}`, missing ? undefined : e);
  }
  if (anySupervised(entries, scanDir) || svscanIn(id)) return;
  throw systemError(`no svscan is running for ${scanDir}; start it with: ${startHint(scanDir)}`);
}
