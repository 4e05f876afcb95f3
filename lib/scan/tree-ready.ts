// When a service tree is running: every service svscan would take in the
// scanned directory (and its log service) has a supervisor answering on
// supervise/ok, whether a supervise process or svscan --host.
import fs from 'node:fs';
import path from 'node:path';
import { isSupervised } from '../control/service';

/** The services of dir, as svscan sees them: entries not starting with `.` that are directories (symlinks followed), by name; none when dir cannot be read. */
export function scannedServices(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  return names.filter((n) => {
    if (n.startsWith('.')) return false;
    try {
      return fs.statSync(path.join(dir, n)).isDirectory();
    } catch {
      return false;
    }
  }).sort();
}

/** `NAME` and `NAME/log` (where NAME/log exists, as svscan checks) of dir that no supervisor answers for yet. */
export function unsupervised(dir: string): string[] {
  const out: string[] = [];
  for (const name of scannedServices(dir)) {
    const svc = path.join(dir, name);
    if (!isSupervised(svc)) out.push(name);
    const log = path.join(svc, 'log');
    if (fs.existsSync(log) && !isSupervised(log)) out.push(`${name}/log`);
  }
  return out;
}
