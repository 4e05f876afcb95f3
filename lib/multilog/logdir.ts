// One log directory: lock, crash recovery at start-up, `current`, rotation
// into @TAI64N.s files (through the processor when there is one), the
// number of old files kept and (beyond 0.76) their total size (`S`) and
// the age at which `current` is rotated (`a`).
//
// Where `current` is cut must match the C multilog byte for byte, and the C
// decides it while flushing its output buffer: a write that reaches SIZE
// bytes, or ends a line within 2000 bytes of SIZE, closes the file. So this
// class models that buffer exactly (OUT_BUF bytes, flushed when full and at
// each input read of READ_SIZE bytes, see Engine) while the real writes are
// batched: only data the model has flushed is written, in large blocks.
import fs from 'node:fs';
import { errnoCode } from '../os/errors';
import * as sys from '../os/sys';
import { format, now } from '../tai64';
import { OPEN_APPEND, OPEN_READ, OPEN_TRUNC } from './openflags';
import { diag, noteFailure, pauseAfter, retry } from './pause';
import { runProcessor } from './processor';
import type { DirSpec } from './script';

const OUT_BUF = 512;
const DIRECT_CHUNK = 8192;
const NEWLINE = 0x0a;
/** `@` and a TAI64N label: shorter @ names are not log files */
const OLD_NAME_MIN = 25;

let procFd: boolean | undefined;

/** An old (archived) log file: a name of at least 25 bytes starting with `@`. */
function isOldFile(n: string): boolean {
  return n.length >= OLD_NAME_MIN && n[0] === '@';
}

/** The oldest 25-byte prefix below `@z` among old file names (`@z` if none is). */
function oldestPrefix(old: string[]): string {
  let oldest = '@z';
  for (const n of old) if (n < oldest) oldest = n.slice(0, OLD_NAME_MIN);
  return oldest;
}

function hasProcFd(): boolean {
  procFd ??= fs.existsSync('/proc/self/fd');
  return procFd;
}

export class LogDir {
  readonly name: string;
  /**
   * How the directory is reached: at first its name's bytes (relative to
   * multilog's working directory, never changed), once open a path through
   * the open descriptor, so that, as for the C tool (which works in it by
   * fchdir), the directory is followed if it is renamed.
   */
  private dir: Buffer;
  private readonly size: number;
  private readonly num: number;
  private readonly total: number;
  private readonly ageMs: number;
  /** when `current`'s first line came (wall clock, ms); undefined while it is empty */
  private firstAt: number | undefined;
  private readonly processor: string | undefined;
  private lock = -1;
  private current = -1;
  /** bytes in `current` as the C multilog counts them (flushed by the model) */
  private bytes = 0;
  /** bytes in the modelled output buffer (the tail of `out`) */
  private buffered = 0;
  /** real output not yet written: out[written, used) */
  private out = Buffer.allocUnsafe(1 << 16);
  private used = 0;
  private written = 0;
  /** how many times `current` was cut */
  rotations = 0;
  /** after SIGTERM: `current` is not cut any more (see holdRotation) */
  private held = false;

  constructor(spec: DirSpec) {
    this.name = spec.name;
    // as given, not normalised: the kernel resolves `d/.`, `..` and symlinks as for the C tool's chdir
    this.dir = Buffer.from(spec.name, 'latin1');
    this.size = spec.size;
    this.num = spec.num;
    this.total = spec.total;
    this.ageMs = spec.age * 1000;
    this.processor = spec.processor;
  }

  private file(f: string): Buffer {
    return Buffer.concat([this.dir, Buffer.from(`/${f}`, 'latin1')]);
  }

  /** Start-up: create, lock, recover after a crash, open `current`. Fatal on failure. */
  open(): void {
    try {
      fs.mkdirSync(this.dir, 0o700);
    } catch (e) {
      // exists, or the open below reports why not
      noteFailure(e);
    }
    try {
      // readable (opened) and searchable (entered), as the C tool's open and fchdir need
      const fd = fs.openSync(this.dir, OPEN_READ | fs.constants.O_DIRECTORY);
      fs.statSync(this.file('.'));
      if (hasProcFd()) this.dir = Buffer.from(`/proc/self/fd/${fd}`);
      else fs.closeSync(fd);
    } catch (e) {
      diag.fatal(`unable to open directory ${this.name}`, e);
    }
    try {
      // held (open, locked) until multilog exits
      this.lock = fs.openSync(this.file('lock'), OPEN_APPEND, 0o600);
      sys.flock(this.lock, sys.LOCK_EX | sys.LOCK_NB);
    } catch (e) {
      diag.fatal(`unable to lock directory ${this.name}`, e);
    }
    const finished = this.markedFinished('current');
    if (!finished) this.recover();
    try {
      this.current = fs.openSync(this.file('current'), OPEN_APPEND, 0o600);
    } catch (e) {
      diag.fatal(`unable to ${finished ? 'append' : 'write'} to ${this.name}/current`, e);
    }
    try {
      fs.fchmodSync(this.current, 0o644);
      const st = fs.fstatSync(this.current);
      this.bytes = st.size;
      // an earlier run's lines: their age is counted from the file's last change
      if (st.size > 0) this.firstAt = st.mtimeMs;
    } catch (e) {
      diag.fatal(`unable to set mode of ${this.name}/current`, e);
    }
    if (this.total > 0) this.trimTotal();
  }

  /**
   * `current` was not finished (crash). `state` and `newstate` go (if they
   * can). A `processed` marked finished (0744: the processor had succeeded)
   * is kept as an @….s file and its `previous` dropped; otherwise
   * `processed` goes (if it can) and `previous` is kept as an @….u file.
   * Then `current` is kept as an @….u file and `state` starts empty.
   */
  private recover(): void {
    this.unlinkIfCan('state');
    this.unlinkIfCan('newstate');
    if (this.markedFinished('processed')) {
      this.unlinkIfCan('previous');
      this.save('processed', 's');
    } else {
      this.unlinkIfCan('processed');
      this.save('previous', 'u');
    }
    this.save('current', 'u');
    try {
      fs.closeSync(fs.openSync(this.file('state'), OPEN_TRUNC, 0o644));
    } catch (e) {
      diag.fatal(`unable to write to ${this.name}/state`, e);
    }
  }

  /** Start-up: whether `f` is marked finished (mode 0744); absent is not. Fatal if it cannot be stat'ed. */
  private markedFinished(f: string): boolean {
    try {
      return (fs.statSync(this.file(f)).mode & 0o100) !== 0;
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') diag.fatal(`unable to stat ${this.name}/${f}`, e);
      noteFailure(e);
      return false;
    }
  }

  /** As the C multilog at start-up: a failure is not reported, only remembered. */
  private unlinkIfCan(f: string): void {
    try {
      fs.unlinkSync(this.file(f));
    } catch (e) {
      noteFailure(e);
    }
  }

  /**
   * If `f` exists (stat, so a dangling symlink does not): links it to a new
   * @TAI64N.`code` file unless it has another link already (a crash between
   * the link and the unlink), removes `f`, drops the oldest files.
   */
  private save(f: string, code: string): void {
    const st = retry(`unable to stat ${this.name}/${f}`, () => {
      try {
        return fs.statSync(this.file(f));
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw e;
        noteFailure(e);
        return undefined;
      }
    });
    if (!st) return;
    if (st.nlink === 1) {
      for (;;) {
        const saved = `${format(now())}.${code}`;
        try {
          fs.linkSync(this.file(f), this.file(saved));
          break;
        } catch (e) {
          noteFailure(e);
          pauseAfter(`unable to link to ${this.name}/${saved}`, e);
        }
      }
    }
    retry(`unable to remove ${this.name}/${f}`, () => fs.unlinkSync(this.file(f)));
    this.purge();
  }

  /** Keeps at most num-1 old @… files beside `current`, and within `S`; any failure is reported as the scan's, as by the C tool. */
  private purge(): void {
    this.untilDone(() => this.removeOldest());
    if (this.total > 0) this.trimTotal();
  }

  /** `S`: removes the oldest @… files while the archived files take more than `total` bytes. */
  private trimTotal(): void {
    this.untilDone(() => this.removeOverTotal());
  }

  /** Runs a round of clean-up until it reports nothing left to do, pausing after each failure. */
  private untilDone(round: () => boolean): void {
    for (;;) {
      try {
        if (round()) return;
      } catch (e) {
        noteFailure(e);
        pauseAfter(`unable to read ${this.name}`, e);
      }
    }
  }

  /** The directory's names in the order the kernel gives them (raw bytes as latin1). */
  private scan(): string[] {
    const dir = fs.opendirSync(this.dir, { encoding: 'latin1' });
    const names: string[] = [];
    try {
      for (let e = dir.readSync(); e !== null; e = dir.readSync()) names.push(e.name);
    } finally {
      dir.closeSync();
    }
    return names;
  }

  /**
   * One round of the C multilog's clean-up, observed: old files are the
   * names of at least 25 bytes starting with `@`; when there are num of
   * them or more, the oldest 25-byte prefix below `@z` is found, and the
   * first file (in directory order) that starts with it is removed. Any
   * failure, the removal's included, is thrown. True when nothing had to go.
   */
  private removeOldest(): boolean {
    const names = this.scan();
    const old = names.filter(isOldFile);
    noteFailure(undefined);
    if (old.length < this.num) return true;
    this.removeFirstOf(names, oldestPrefix(old));
    return false;
  }

  /**
   * One round of `S`: the archived files are the old @… files plus
   * `previous` and `processed` (`current` is not counted); when they take
   * more than `total` bytes, the oldest @… file goes, as in removeOldest.
   * True when nothing had to (or could) go.
   */
  private removeOverTotal(): boolean {
    const names = this.scan();
    const old = names.filter(isOldFile);
    let sum = 0;
    for (const n of names) {
      if (!isOldFile(n) && n !== 'previous' && n !== 'processed') continue;
      const st = fs.statSync(this.file(n), { throwIfNoEntry: false });
      if (st) sum += st.size;
    }
    noteFailure(undefined);
    if (sum <= this.total) return true;
    // only `previous` or `processed` left (being made into an @… file): they stay
    return !this.removeFirstOf(names, oldestPrefix(old));
  }

  /** Removes the first old file (in directory order) whose name starts with the prefix; false if there is none. */
  private removeFirstOf(names: string[], prefix: string): boolean {
    const victim = names.find((n) => isOldFile(n) && n.startsWith(prefix));
    if (victim === undefined) return false;
    fs.unlinkSync(this.file(victim));
    return true;
  }

  private room(n: number): void {
    if (this.used + n <= this.out.length) return;
    if (this.written > 0) {
      this.out.copy(this.out, 0, this.written, this.used);
      this.used -= this.written;
      this.written = 0;
      if (this.used + n <= this.out.length) return;
    }
    const bigger = Buffer.allocUnsafe(Math.max(this.out.length * 2, this.used + n));
    this.out.copy(bigger, 0, 0, this.used);
    this.out = bigger;
  }

  private append(src: Buffer, start: number, end: number): void {
    this.room(end - start);
    src.copy(this.out, this.used, start, end);
    this.used += end - start;
  }

  /** Writes out[written, upto) to `current`; a partial write is resumed, never repeated. */
  private writeOut(upto: number): void {
    while (this.written < upto) {
      const n = retry(`unable to write to ${this.name}/current`, () =>
        fs.writeSync(this.current, this.out, this.written, upto - this.written));
      this.written += n;
    }
  }

  /**
   * The C write operation: the model's data out[from, to) reaches `current`.
   * A write never passes SIZE; once `current` is within 2000 bytes of SIZE
   * a write stops after its last newline and `current` is cut there.
   */
  private flushModel(from: number, to: number): void {
    let pos = from;
    if (this.held) {
      this.bytes += to - from;
      return;
    }
    while (pos < to) {
      if (this.bytes >= this.size) {
        this.writeOut(pos);
        this.rotate();
      }
      let w = Math.min(to - pos, this.size - this.bytes);
      if (this.bytes + w + 2000 >= this.size) {
        const nl = this.out.lastIndexOf(NEWLINE, pos + w - 1);
        if (nl >= pos) w = nl + 1 - pos;
      }
      this.bytes += w;
      pos += w;
      if (this.bytes >= this.size || (this.out[pos - 1] === NEWLINE && this.bytes + 2000 >= this.size)) {
        this.writeOut(pos);
        this.rotate();
      }
    }
    if (this.firstAt === undefined && this.bytes > 0) this.firstAt = Date.now();
  }

  /** The C buffer_flush. */
  private flushBuffer(): void {
    if (this.buffered === 0) return;
    const n = this.buffered;
    this.buffered = 0;
    this.flushModel(this.used - n, this.used);
  }

  /** The C buffer_put of src[start, end). */
  put(src: Buffer, start: number, end: number): void {
    let len = end - start;
    if (len > OUT_BUF - this.buffered) {
      this.flushBuffer();
      while (len > OUT_BUF) {
        const n = Math.min(DIRECT_CHUNK, len);
        this.append(src, start, start + n);
        this.flushModel(this.used - n, this.used);
        start += n;
        len -= n;
      }
    }
    this.append(src, start, start + len);
    this.buffered += len;
  }

  /** src[start, end) put one byte at a time (the rest of a long line), done in blocks. */
  putBytes(src: Buffer, start: number, end: number): void {
    while (start < end) {
      if (this.buffered === OUT_BUF) this.flushBuffer();
      const n = Math.min(OUT_BUF - this.buffered, end - start);
      this.append(src, start, start + n);
      this.buffered += n;
      start += n;
    }
  }

  /** Before each modelled read of input: flush the model's buffer. */
  flushRead(): void {
    this.flushBuffer();
  }

  /** Writes everything the model has flushed (end of an input block). */
  sync(): void {
    this.writeOut(this.used - this.buffered);
    if (this.buffered === 0) {
      this.used = 0;
      this.written = 0;
    }
  }

  /**
   * After SIGTERM: whatever multilog has still to write (what it had read
   * ahead, and the rest of the line in progress) goes to `current` whatever
   * its size, so that shutting down costs no rotation and no processor run;
   * the next multilog on this directory cuts that `current` at its first
   * write, as the C multilog does with a full one.
   */
  holdRotation(): void {
    this.held = true;
  }

  /** SIGALRM: rotate now if `current` holds anything. */
  forceRotate(): void {
    this.flushBuffer();
    this.sync();
    if (this.bytes > 0) this.rotate();
  }

  /** `a`: when `current` is due to be rotated for its age (wall clock, ms); undefined if never (empty, no `a`, or after SIGTERM). */
  ageDeadline(): number | undefined {
    if (this.ageMs === 0 || this.firstAt === undefined || this.held) return undefined;
    return this.firstAt + this.ageMs;
  }

  /** `a`: rotates `current` if its first line is older than the age. */
  rotateIfOld(nowMs: number): void {
    const due = this.ageDeadline();
    if (due !== undefined && nowMs >= due) this.forceRotate();
  }

  /** `current` is full: it becomes an @….s file (through the processor if any). */
  private rotate(): void {
    this.rotations++;
    this.firstAt = undefined;
    retry(`unable to write ${this.name}/current to disk`, () => fs.fsyncSync(this.current));
    try {
      fs.closeSync(this.current);
    } catch {
      // the data is on disk already
    }
    retry(`unable to rename current to previous in directory ${this.name}`, () =>
      fs.renameSync(this.file('current'), this.file('previous')));
    this.current = retry(`unable to create ${this.name}/current`, () =>
      fs.openSync(this.file('current'), OPEN_APPEND, 0o600));
    retry(`unable to set mode of ${this.name}/current`, () => fs.fchmodSync(this.current, 0o644));
    this.bytes = 0;
    retry(`unable to set mode of ${this.name}/previous`, () => fs.chmodSync(this.file('previous'), 0o744));
    if (this.processor === undefined) {
      this.save('previous', 's');
      return;
    }
    runProcessor(this.processor, this.dir, this.name);
    this.finishFile('processed', 0o744);
    this.finishFile('newstate', undefined);
    retry(`unable to remove ${this.name}/previous`, () => fs.unlinkSync(this.file('previous')));
    retry(`unable to rename newstate to state in directory ${this.name}`, () =>
      fs.renameSync(this.file('newstate'), this.file('state')));
    this.save('processed', 's');
  }

  private finishFile(f: string, mode: number | undefined): void {
    const fd = retry(`unable to create ${this.name}/${f}`, () =>
      fs.openSync(this.file(f), OPEN_APPEND, 0o600));
    retry(`unable to write ${this.name}/${f} to disk`, () => fs.fsyncSync(fd));
    if (mode !== undefined) retry(`unable to set mode of ${this.name}/${f}`, () => fs.fchmodSync(fd, mode));
    fs.closeSync(fd);
  }

  /** End of input: everything written, `current` on disk and marked finished (0744). */
  close(): void {
    this.flushBuffer();
    this.sync();
    retry(`unable to write ${this.name}/current to disk`, () => fs.fsyncSync(this.current));
    retry(`unable to set mode of ${this.name}/current`, () => fs.fchmodSync(this.current, 0o744));
  }
}
