// Runs the script on the input, line by line, fed in blocks of any size.
//
// Like the C multilog, a line's first 1000 bytes (timestamp included) are
// what selection, `e` and `=` see; once 1000 bytes have come the line is
// committed and the rest streams to the selected directories. The C tool
// reads its input 1024 bytes at a time and flushes its directory buffers
// before each read; that is modelled here (flushRead every 1024 bytes of
// each block and at its end) because it decides where files are cut.
import fs from 'node:fs';
import { format, now } from '../tai64';
import { isoPrefix } from './iso8601';
import type { LogDir } from './logdir';
import { match } from './pattern';
import type { Action, Script } from './script';
import type { StatusFile } from './statusfile';

const LINE_MAX = 1000;
const STDERR_MAX = 200;
const READ_SIZE = 1024;
const NEWLINE = 0x0a;
const NL = Buffer.from('\n');
const ELLIPSIS = Buffer.from('...\n');

function writeAllStderr(buf: Buffer): void {
  if (buf.length === 0) return;
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(2, buf, off, buf.length - off);
    } catch {
      return; // stderr is best effort
    }
  }
}

export class Engine {
  private readonly actions: Action[];
  private readonly line = Buffer.allocUnsafe(LINE_MAX);
  private lineLen = 0;
  private inLine = false;
  private streaming = false;
  /** per directory: is the current line going there */
  private readonly chosen: boolean[];
  private stamp: Buffer | undefined;
  private readonly stamped: boolean;
  /** `e` output of the current block, written at its end */
  private errOut = Buffer.allocUnsafe(1 << 16);
  private errLen = 0;

  constructor(private readonly script: Script, private readonly dirs: LogDir[], private readonly statusFiles: StatusFile[]) {
    this.actions = script.actions;
    this.chosen = dirs.map(() => false);
    this.stamped = script.stamp !== 'none';
  }

  /** Whether a line has begun and not yet ended. */
  midLine(): boolean {
    return this.inLine;
  }

  /** Whether a long line's first part is in directory d's `current` and its rest still to come. */
  lineSplitIn(d: LogDir): boolean {
    return this.inLine && this.streaming && this.chosen[this.dirs.indexOf(d)];
  }

  /**
   * Processes one block of input (what one read(2) returned) from `from` on;
   * afterwards every directory has written what the model flushed. The C
   * tool would have read the same block 1024 bytes at a time. Returns where
   * it stopped: the block's end, or earlier, at one of those 1024-byte
   * boundaries, when a directory was rotated (a rotation may have run a
   * processor for a long time: the caller lets signals in before going on).
   */
  feed(buf: Buffer, from = 0): number {
    if (from === 0) this.stamp = undefined;
    const rotations = this.rotations();
    let pos = from;
    while (pos < buf.length) {
      if (pos > from) for (const d of this.dirs) d.flushRead();
      const end = Math.min(buf.length, pos + READ_SIZE);
      this.segment(buf, pos, end);
      pos = end;
      if (this.rotations() !== rotations) break;
    }
    this.flushStderr();
    for (const d of this.dirs) {
      d.flushRead();
      d.sync();
    }
    return pos;
  }

  private rotations(): number {
    let n = 0;
    for (const d of this.dirs) n += d.rotations;
    return n;
  }

  private flushStderr(): void {
    writeAllStderr(this.errOut.subarray(0, this.errLen));
    this.errLen = 0;
  }

  private addStderr(src: Buffer, len: number, tail: Buffer): void {
    const need = this.errLen + len + tail.length;
    if (need > this.errOut.length) {
      if (this.errLen > 0) this.flushStderr();
      if (len + tail.length > this.errOut.length) this.errOut = Buffer.allocUnsafe(len + tail.length);
    }
    src.copy(this.errOut, this.errLen, 0, len);
    this.errLen += len;
    tail.copy(this.errOut, this.errLen);
    this.errLen += tail.length;
  }

  /** End of input: a partial last line gets its newline. */
  finish(): void {
    if (this.inLine) {
      if (this.streaming) this.stream(NL, 0, 1);
      else this.endLine();
      this.inLine = false;
    }
    this.flushStderr();
  }

  private timestamp(): Buffer {
    if (!this.stamp) {
      const t = now();
      this.stamp = Buffer.from(this.script.stamp === 'iso' ? isoPrefix(t) : `${format(t)} `, 'latin1');
    }
    return this.stamp;
  }

  private segment(buf: Buffer, pos: number, end: number): void {
    while (pos < end) {
      if (!this.inLine) {
        this.inLine = true;
        this.streaming = false;
        this.lineLen = 0;
        if (this.stamped) {
          const ts = this.timestamp();
          ts.copy(this.line, 0);
          this.lineLen = ts.length;
        }
      }
      let nl = buf.indexOf(NEWLINE, pos);
      if (nl >= end) nl = -1;
      if (this.streaming) {
        const stop = nl < 0 ? end : nl + 1;
        this.stream(buf, pos, stop);
        pos = stop;
        if (nl >= 0) this.inLine = false;
        continue;
      }
      const stop = nl < 0 ? end : nl;
      const take = Math.min(stop - pos, LINE_MAX - this.lineLen);
      buf.copy(this.line, this.lineLen, pos, pos + take);
      this.lineLen += take;
      pos += take;
      if (this.lineLen === LINE_MAX) {
        this.commit();
        this.streaming = true;
      } else if (nl >= 0) {
        this.endLine();
        this.inLine = false;
        pos = nl + 1;
      }
    }
  }

  /** Runs the script's selection, `e` and `=` on the line's first bytes. */
  private select(): void {
    let selected = true;
    const len = this.lineLen;
    for (const a of this.actions) {
      switch (a.kind) {
        case 'select':
          if (selected !== a.select && match(a.pattern, this.line, 0, len)) selected = a.select;
          break;
        case 'stderr':
          if (selected) this.toStderr();
          break;
        case 'status':
          if (selected) this.statusFiles[a.index].write(this.line, len);
          break;
        case 'dir':
          this.chosen[a.index] = selected;
          break;
      }
    }
  }

  private toStderr(): void {
    if (this.lineLen <= STDERR_MAX) this.addStderr(this.line, this.lineLen, NL);
    else this.addStderr(this.line, STDERR_MAX, ELLIPSIS);
  }

  /** The line reached 1000 bytes: decide now, send the first part, stream the rest. */
  private commit(): void {
    this.select();
    for (let i = 0; i < this.dirs.length; i++) if (this.chosen[i]) this.dirs[i].put(this.line, 0, this.lineLen);
  }

  private endLine(): void {
    this.select();
    for (let i = 0; i < this.dirs.length; i++) {
      if (!this.chosen[i]) continue;
      this.dirs[i].put(this.line, 0, this.lineLen);
      this.dirs[i].put(NL, 0, 1);
    }
  }

  /** The rest of a long line. */
  private stream(buf: Buffer, start: number, end: number): void {
    for (let i = 0; i < this.dirs.length; i++) if (this.chosen[i]) this.dirs[i].putBytes(buf, start, end);
  }
}
