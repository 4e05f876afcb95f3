// `svctl logs`: the end of a service's multilog directory (log/main), its
// TAI64N labels shown in local time as tai64nlocal shows them, and with -f
// what comes next, across rotations: multilog renames a full `current` to
// `@LABEL.s` and starts a new one, so the reader finishes the file it has
// open (the same inode, now under its new name) and goes on with the new
// `current` from its start.
import fs from 'node:fs';
import path from 'node:path';
import { LocalTimer } from '../multilog/localtime';

/** A service's multilog directory, as svctl add writes log/run. */
export function logDirOf(serviceDir: string): string {
  return path.join(serviceDir, 'log', 'main');
}

/** The old files of a log directory (`@LABEL.s`, `@LABEL.u`), oldest first: their labels sort as their times. */
function oldFiles(logDir: string): string[] {
  try {
    return fs.readdirSync(logDir).filter((f) => f.startsWith('@')).sort();
  } catch (e) {
    // multilog has not made it yet: nothing logged
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** The last n lines of data (a last line without its newline counts). */
function lastLinesOf(data: Buffer, n: number): { lines: Buffer; count: number } {
  if (n <= 0 || data.length === 0) return { lines: data.subarray(data.length), count: 0 };
  // lastIndexOf counts a negative offset from the end: never give it one
  let from = data[data.length - 1] === 0x0a ? data.length - 2 : data.length - 1;
  let start = 0;
  let count = 0;
  while (count < n) {
    const nl = from >= 0 ? data.lastIndexOf(0x0a, from) : -1;
    count++;
    start = nl + 1;
    if (nl < 0) break;
    from = nl - 1;
  }
  return { lines: data.subarray(start), count };
}

/** Where a reader of `current` stands: its descriptor, the inode it has open, and how far it has read. */
export interface Position {
  fd: number;
  ino: number;
  pos: number;
}

/**
 * The last n lines of the log (from older files too when `current` holds
 * fewer), and the position after them in `current` for follow(); the
 * position is undefined when there is no `current` yet.
 */
export function tail(logDir: string, n: number): { text: Buffer; position?: Position } {
  let position: Position | undefined;
  let data = Buffer.alloc(0);
  try {
    const fd = fs.openSync(path.join(logDir, 'current'), 'r');
    data = fs.readFileSync(fd);
    position = { fd, ino: fs.fstatSync(fd).ino, pos: data.length };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const parts: Buffer[] = [];
  const last = lastLinesOf(data, n);
  parts.unshift(last.lines);
  let count = last.count;
  const old = oldFiles(logDir);
  for (let i = old.length - 1; i >= 0 && count < n; i--) {
    const more = lastLinesOf(fs.readFileSync(path.join(logDir, old[i])), n - count);
    parts.unshift(more.lines);
    count += more.count;
  }
  return { text: Buffer.concat(parts), position };
}

/** Local times for the labels, as tai64nlocal writes them (state kept across blocks). */
export function localTimes(): (block: Buffer) => Buffer {
  const timer = new LocalTimer();
  return (block) => timer.feed(block);
}

/** How often the log is looked at whatever the directory watch says. */
const POLL_MS = 500;

/**
 * Hands each new block of the log to out, from position on (or from the
 * start of the first `current` to appear), across rotations, until the
 * returned function is called. An error reading the log stops the
 * following and goes to failed.
 */
export function follow(logDir: string, position: Position | undefined, out: (block: Buffer) => void, failed: (e: unknown) => void): () => void {
  let at = position;
  const buf = Buffer.alloc(65536);
  const drain = (p: Position): void => {
    for (;;) {
      const n = fs.readSync(p.fd, buf, 0, buf.length, p.pos);
      if (n === 0) return;
      p.pos += n;
      out(Buffer.from(buf.subarray(0, n)));
    }
  };
  const lookOnce = (): void => {
    if (at) drain(at);
    let ino: number;
    try {
      ino = fs.statSync(path.join(logDir, 'current')).ino;
    } catch {
      return; // between the rename and the new current
    }
    if (at && at.ino === ino) return;
    // rotated: what was written to the old file before the rename is all there now
    if (at) {
      drain(at);
      fs.closeSync(at.fd);
      at = undefined;
    }
    try {
      const fd = fs.openSync(path.join(logDir, 'current'), 'r');
      at = { fd, ino: fs.fstatSync(fd).ino, pos: 0 };
      drain(at);
    } catch {
      // gone again: the next look
    }
  };
  let watcher: fs.FSWatcher | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    watcher?.close();
    clearInterval(timer);
    if (at) {
      try {
        fs.closeSync(at.fd);
      } catch {
        // closed already
      }
    }
  };
  const look = (): void => {
    if (stopped) return;
    try {
      lookOnce();
    } catch (e) {
      stop();
      failed(e);
    }
  };
  try {
    watcher = fs.watch(logDir, () => look());
    watcher.on('error', () => undefined);
  } catch {
    // no inotify, or not allowed: the poll alone
  }
  timer = setInterval(look, POLL_MS);
  look();
  return stop;
}
