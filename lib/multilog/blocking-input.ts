// Standard input read with plain blocking reads, in large blocks, without
// creating process.stdin: what tai64n and tai64nlocal read through, and what
// multilog reads anything but a pipe or socket through (see input.ts). Kept
// apart from the pipe reader so that the filters never load node:net or
// lib/sys at start-up.
import fs from 'node:fs';

export const BLOCK = 1 << 16;
export const NEWLINE = 0x0a;

export type ReadResult = Buffer | null | 'interrupted';

export interface Input {
  /** The next block; null at end of input; 'interrupted' after wake(). */
  read(): Promise<ReadResult>;
  /** Makes a pending read() return 'interrupted' (signal handlers call it). */
  wake(): void;
  restoreBlocking(): void;
  /** Whether input already taken from the descriptor is waiting to be read(). */
  pending(): boolean;
  /**
   * multilog after SIGTERM: nothing more is read ahead. read() hands over
   * what was read already, then only the bytes up to and including the next
   * newline (the end of the line in progress), read one at a time so that
   * the rest of the input stays unread for whoever reads it next.
   */
  stopAfterLine(): void;
}

export class BlockingInput implements Input {
  private readonly buf = Buffer.allocUnsafe(BLOCK);
  private woken = false;
  private lineOnly = false;

  wake(): void {
    this.woken = true;
  }

  stopAfterLine(): void {
    this.lineOnly = true;
  }

  async read(): Promise<ReadResult> {
    // let signal handlers run between blocks
    await new Promise((resolve) => setImmediate(resolve));
    if (this.woken) {
      this.woken = false;
      return 'interrupted';
    }
    if (!this.lineOnly) {
      const n = await this.readSome(0, BLOCK);
      return n === 0 ? null : this.buf.subarray(0, n);
    }
    let len = 0;
    while (len < BLOCK) {
      if ((await this.readSome(len, 1)) === 0) break;
      if (this.buf[len++] === NEWLINE) break;
    }
    return len === 0 ? null : this.buf.subarray(0, len);
  }

  /** One read(2) into buf[at, at+max), waiting out EAGAIN; 0 at end of input. */
  private async readSome(at: number, max: number): Promise<number> {
    for (;;) {
      try {
        return fs.readSync(0, this.buf, at, max, null);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    }
  }

  pending(): boolean {
    return false;
  }

  restoreBlocking(): void {
    // never changed
  }
}
