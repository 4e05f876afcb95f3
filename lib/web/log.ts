// The log of a service as svweb shows it: the `current` file of the
// multilog directory its log/run writes to (the first `./DIR` or `/DIR`
// argument of multilog in it; `log/main` when none is found), its last
// lines with TAI64N labels shown as local time (as tai64nlocal does), and
// the lines appended later.
import fs from 'node:fs';
import path from 'node:path';
import { follow, openCurrent } from '../multilog/follow';
import { lastLinesOf, readEnd } from '../multilog/last-lines';
import { LocalTimer } from '../multilog/localtime';

const MAX_READ = 1 << 20;

/**
 * The multilog directory named by a log/run script: after a `multilog`
 * word, the first argument that starts with `.` or `/` (multilog's way of
 * telling a directory from an action). Nothing in it is run.
 */
export function multilogDir(script: string): string | undefined {
  for (const line of script.split('\n')) {
    const words = line.replace(/#.*/, '').split(/[\s;|&]+/).filter((w) => w !== '');
    const at = words.findIndex((w) => w === 'multilog' || w.endsWith('/multilog'));
    if (at < 0) continue;
    const dir = words.slice(at + 1).map((w) => w.replace(/^['"]|['"]$/g, '')).find((w) => w.startsWith('.') || w.startsWith('/'));
    if (dir) return dir;
  }
  return undefined;
}

function within(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith('/') ? parent : parent + '/');
}

/**
 * The `current` file of the log of service dir `serviceDir` (a service,
 * or its log service: both show the same log), or undefined when it has
 * none. The directory must lie inside the service directory once links are
 * resolved, unless log/run names it by an absolute path that has no link
 * in it; `current` must be a plain file.
 */
export function logFile(serviceDir: string): string | undefined {
  const main = path.basename(serviceDir) === 'log' ? path.dirname(serviceDir) : serviceDir;
  const logDir = path.join(main, 'log');
  let named: string | undefined;
  try {
    named = multilogDir(fs.readFileSync(path.join(logDir, 'run'), 'utf8'));
  } catch {
    // no log/run to read: try the usual place
  }
  const dir = path.resolve(logDir, named ?? 'main');
  let real: string;
  let realMain: string;
  try {
    real = fs.realpathSync(dir);
    realMain = fs.realpathSync(main);
  } catch {
    return undefined;
  }
  const allowed = within(real, realMain) || (named !== undefined && path.isAbsolute(named) && real === path.resolve(named));
  if (!allowed) return undefined;
  const current = path.join(real, 'current');
  try {
    if (!fs.lstatSync(current).isFile()) return undefined;
  } catch {
    return undefined;
  }
  return current;
}

/** Lines (without newlines) of a block of log text, labels turned into local time. */
export function localLines(block: Buffer): string[] {
  const text = new LocalTimer().feed(block).toString('utf8');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** The last `count` whole lines of file (at most 1 MiB back), and the offset its end had. */
export function tail(file: string, count: number): { lines: string[]; end: number } {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const { data, from } = readEnd(fd, count, MAX_READ);
    // a partial last line waits for its newline (the follower sends it)
    const whole = data.subarray(0, data.lastIndexOf(0x0a) + 1);
    // the first line is whole only when the read reached the start of the file
    const complete = from > 0 ? whole.subarray(whole.indexOf(0x0a) + 1) : whole;
    return { lines: localLines(lastLinesOf(complete, count).lines), end: from + whole.length };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Follows a log file (a multilog directory's `current`) from offset
 * `from`: whole lines appended are passed to onLines as they come, through
 * rotations (lib/multilog/follow.ts). Driven by watching the log
 * directory, with a look every 5 s in case an event was missed; neither
 * keeps the process running. An error reading the log ends the following
 * and goes to onFailure.
 */
export class LogFollower {
  private readonly stop: () => void;

  constructor(file: string, from: number, onLines: (lines: string[]) => void, onFailure: (e: unknown) => void = () => undefined) {
    const logDir = path.dirname(file);
    const position = openCurrent(logDir, from);
    this.stop = follow(logDir, position, (block) => onLines(localLines(block)), onFailure, { pollMs: 5000, keepAlive: false, wholeLines: true });
  }

  close(): void {
    this.stop();
  }
}
