// When a service tree is running: every service svscan would take in the
// scanned directory (and its log service) has a supervisor answering on
// supervise/ok, whether a supervise process or svscan --host. Names are
// bytes (a name need not be UTF-8): they are read and used as buffers.
import fs from 'node:fs';
import { isSupervised } from '../control/service';

const SLASH = Buffer.from('/');

function join(dir: Buffer, name: string | Buffer): Buffer {
  return Buffer.concat([dir, SLASH, typeof name === 'string' ? Buffer.from(name) : name]);
}

/** The entries of dir svscan takes for services: names not starting with `.` that are directories (symlinks followed), sorted by their bytes; none when dir cannot be read. */
export function scannedNames(dir: string): Buffer[] {
  const at = Buffer.from(dir);
  let names: Buffer[];
  try {
    names = fs.readdirSync(at, { encoding: 'buffer' });
  } catch {
    return [];
  }
  return names.filter((n) => {
    if (n[0] === 0x2e) return false;
    try {
      return fs.statSync(join(at, n)).isDirectory();
    } catch {
      return false;
    }
  }).sort(Buffer.compare);
}

/** scannedNames as text, for callers that take UTF-8 names (svctl's): names that are not UTF-8 are left out. */
export function scannedServices(dir: string): string[] {
  return scannedNames(dir).filter((n) => Buffer.from(n.toString()).equals(n)).map((n) => n.toString());
}

/** `NAME` and `NAME/log` (where NAME/log exists, as svscan checks) of dir that no supervisor answers for yet; names as their bytes (latin1). */
export function unsupervised(dir: string): string[] {
  const at = Buffer.from(dir);
  const out: string[] = [];
  for (const name of scannedNames(dir)) {
    const svc = join(at, name);
    const label = name.toString('latin1');
    if (!isSupervised(svc)) out.push(label);
    const log = join(svc, 'log');
    if (fs.existsSync(log) && !isSupervised(log)) out.push(`${label}/log`);
  }
  return out;
}
