// The log of a service as svweb shows it: the `current` file of the
// multilog directory its log/run writes to (the first `./DIR` or `/DIR`
// argument of multilog in it; `log/main` when none is found), its last
// lines with TAI64N labels shown as local time (as tai64nlocal does), and
// the lines appended later.
import fs from 'node:fs';
import path from 'node:path';
import { LocalTimer } from '../multilog/localtime';

const MAX_READ = 1 << 20;
const CHUNK = 64 * 1024;

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
    const size = fs.fstatSync(fd).size;
    let start = size;
    let chunks: Buffer[] = [];
    let newlines = 0;
    while (start > 0 && newlines <= count && size - start < MAX_READ) {
      const len = Math.min(CHUNK, start);
      start -= len;
      const buf = Buffer.alloc(len);
      const got = fs.readSync(fd, buf, 0, len, start);
      chunks = [buf.subarray(0, got), ...chunks];
      for (let i = 0; i < got; i++) if (buf[i] === 0x0a) newlines++;
    }
    let all = Buffer.concat(chunks);
    // a partial last line waits for its newline (the follower sends it)
    const lastNl = all.lastIndexOf(0x0a);
    const end = start + lastNl + 1;
    all = all.subarray(0, lastNl + 1);
    // the first line is whole only when the read reached the start of the file
    if (start > 0) all = all.subarray(all.indexOf(0x0a) + 1);
    const lines = localLines(all);
    return { lines: lines.slice(Math.max(0, lines.length - count)), end };
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Follows a log file from offset `from`: whole lines appended are passed
 * to onLines as they come, through a rotation (multilog renames current and
 * starts a new one: the rest of the old one, then the new one from its
 * start). Driven by watching the log directory, with a look every 5 s in
 * case an event was missed.
 */
export class LogFollower {
  private fd: number;
  private ino: number;
  private offset: number;
  private partial = Buffer.alloc(0);
  private readonly watcher: fs.FSWatcher;
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(private readonly file: string, from: number, private readonly onLines: (lines: string[]) => void) {
    this.fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    this.ino = fs.fstatSync(this.fd).ino;
    this.offset = from;
    this.watcher = fs.watch(path.dirname(file), { persistent: false }, () => this.check());
    this.watcher.on('error', () => undefined);
    this.timer = setInterval(() => this.check(), 5000);
    this.timer.unref();
    this.check();
  }

  private readNew(): void {
    const buf = Buffer.alloc(CHUNK);
    const out: Buffer[] = [this.partial];
    for (;;) {
      const got = fs.readSync(this.fd, buf, 0, buf.length, this.offset);
      if (got <= 0) break;
      this.offset += got;
      out.push(Buffer.from(buf.subarray(0, got)));
      if (got < buf.length) break;
    }
    const all = Buffer.concat(out);
    const nl = all.lastIndexOf(0x0a);
    this.partial = all.subarray(nl + 1);
    if (nl >= 0) this.onLines(localLines(all.subarray(0, nl + 1)));
  }

  check(): void {
    if (this.closed) return;
    try {
      this.readNew();
      const st = fs.statSync(this.file, { throwIfNoEntry: false });
      if (st && st.ino !== this.ino) {
        // rotated: what was left of the old file is read; the new one from its start
        fs.closeSync(this.fd);
        this.fd = fs.openSync(this.file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
        this.ino = fs.fstatSync(this.fd).ino;
        this.offset = 0;
        this.partial = Buffer.alloc(0);
        this.readNew();
      }
    } catch {
      // the file is gone for a moment (rotation): the next event or look tries again
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.watcher.close();
    clearInterval(this.timer);
    fs.closeSync(this.fd);
  }
}
