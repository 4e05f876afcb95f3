// The services of a scanned directory as svweb shows them: one per entry of
// the directory that svscan would supervise (a directory, not a dot name),
// plus `NAME/log` for each one with a log directory, each with exactly what
// `svstat --json` reports for it (lib/control/svstat-report.ts does the
// reading: this module only lists the entries and names them).
import fs from 'node:fs';
import path from 'node:path';
import { Origin } from '../control/cwd';
import { formatJson, newRecord, probe } from '../control/svstat-report';
import { Info, InfoReader } from '../control/svstat-info';
import type { Want } from '../supervise/status';

/**
 * One line of `svstat --json` (see commands/svstat.ts), with the service's
 * name in the scanned directory. The fields after `state` are there when
 * state is `up` or `down`; `error` only when state is `error`.
 */
export interface ServiceView {
  /** `NAME` or `NAME/log`: an entry of the scanned directory (and its log) */
  name: string;
  /** the service directory as svweb reached it: the scanned dir joined with name */
  dir: string;
  state: 'up' | 'down' | 'not running' | 'error';
  /** the reason, as svstat prints it after `dir: ` (e.g. "unable to open supervise/ok: access denied") */
  error?: string;
  pid?: number | null;
  /** whole seconds since the last change of pid */
  seconds?: number;
  /** the TAI64N label of that change, `@` + 24 hex digits */
  since?: string;
  paused?: boolean;
  want?: Want;
  normallyUp?: boolean;
  ready?: boolean;
  readySince?: string | null;
  finishing?: true | null;
  failedInRow?: number | null;
  restartAt?: string | null;
  gaveUp?: number | null;
  /** our supervise's supervise/info while it is current (starts, last exit, ...) */
  info?: Info;
}

/** A name svweb accepts for a service: an entry name, or an entry name and `/log`. */
export function isServiceName(name: string): boolean {
  const entry = name.endsWith('/log') ? name.slice(0, -4) : name;
  return (
    entry.length > 0 &&
    entry.length <= 255 &&
    !entry.startsWith('.') &&
    !entry.includes('/') &&
    !entry.includes('\0')
  );
}

/**
 * Whether p is a directory or a link to one: whether p/ can be reached (a
 * file, or nothing, is ENOTDIR or ENOENT). Asked for every entry every 5 s
 * while a page is open: no Stats object, no exception for a missing log/.
 */
function isDirectory(p: string): boolean {
  return fs.existsSync(p + '/');
}

/**
 * The names of the services in dir, sorted: every entry svscan would take
 * (a directory or a link to one, not a dot name), and `NAME/log` where
 * NAME/log is a directory. Names that are not UTF-8 are left out (they
 * cannot be named in a URL or in JSON).
 */
export function serviceNames(dir: string): string[] {
  const names: string[] = [];
  for (const raw of fs.readdirSync(dir, { encoding: 'buffer' })) {
    const name = raw.toString('utf8');
    if (!Buffer.from(name).equals(raw) || !isServiceName(name)) continue;
    const full = path.join(dir, name);
    if (!isDirectory(full)) continue;
    names.push(name);
    if (isDirectory(path.join(full, 'log'))) names.push(`${name}/log`);
  }
  return names.sort();
}


/**
 * Runs fn inside the service directory `serviceDir`, as svc and svstat act
 * (lib/control/cwd.ts), and comes back. Throws the chdir's error.
 */
export function inServiceDir<T>(serviceDir: string, fn: () => T): T {
  const origin = Origin.shared();
  origin.enter(Buffer.from(serviceDir, 'utf8').toString('latin1'));
  try {
    return fn();
  } finally {
    origin.back();
  }
}

/**
 * What `svstat --json` says of each named service of dir, read as svstat
 * reads it (one status buffer and one look at /proc/locks for the lot). A
 * directory that cannot be entered is an error.
 */
export function viewServices(dir: string, names: readonly string[]): ServiceView[] {
  const record = newRecord();
  const infos = new InfoReader();
  const views: ServiceView[] = [];
  for (const name of names) {
    const full = path.join(dir, name);
    let line: string;
    try {
      line = inServiceDir(full, () => {
        const report = probe(Math.floor(Date.now() / 1000), record);
        if (report.kind === 'status') report.info = infos.read();
        return formatJson(full, report);
      });
    } catch (e) {
      line = formatJson(full, { kind: 'failure', what: 'unable to chdir', cause: e });
    }
    views.push({ name, ...(JSON.parse(line) as Omit<ServiceView, 'name'>) });
  }
  return views;
}

/** Every service of dir and every log service (`NAME/log`), sorted by name, as `svstat --json` reports them. */
export async function readServices(dir: string): Promise<ServiceView[]> {
  return viewServices(dir, serviceNames(dir));
}
