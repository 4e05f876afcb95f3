// Whether an svscan looks after a scanned directory: a service linked into
// a directory nobody scans would never start. The svscan process is looked
// for first (lib/scan/running.ts); a supervise answering for one of the
// directory's entries (supervise/ok has a reader) counts only when /proc
// cannot tell (another user's svscan): supervise processes outlive an
// svscan that was killed, so alone they prove nothing when /proc can see.
import fs from 'node:fs';
import path from 'node:path';
import { isSupervised } from '../control/service';
import { svscanIn } from '../scan/running';
import { systemError } from './fail';
import { shText } from './sh-quote';

/** True when an entry of scanDir is supervised now. */
function anySupervised(entries: readonly string[], scanDir: string): boolean {
  return entries.some((e) => !e.startsWith('.') && isSupervised(path.join(scanDir, e)));
}

/** The command that starts a tree on scanDir, for the messages (the directory quoted for sh). */
export function startHint(scanDir: string): string {
  return `svscanboot --daemon ${shText(scanDir).toString()}`;
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
      ? `no svscan is running for ${scanDir} (it does not exist); start one with: mkdir -p ${shText(scanDir).toString()} && ${startHint(scanDir)}`
      : `unable to read ${scanDir}`, missing ? undefined : e);
  }
  const found = svscanIn(id);
  if (found.pid !== undefined || (found.hidden && anySupervised(entries, scanDir))) return;
  throw systemError(`no svscan is running for ${scanDir}; start it with: ${startHint(scanDir)}`);
}
