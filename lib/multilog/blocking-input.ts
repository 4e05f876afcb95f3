// Standard input read with plain blocking reads, in large blocks, without
// creating process.stdin: what tai64n and tai64nlocal read through, and what
// multilog reads anything but a pipe or socket through (see input.ts). Kept
// apart from the pipe reader so that the filters never load node:net or
// lib/sys at start-up.
import fs from 'node:fs';

const BLOCK = 1 << 16;

export type ReadResult = Buffer | null | 'interrupted';

export interface Input {
  /** The next block; null at end of input; 'interrupted' after wake(). */
  read(): Promise<ReadResult>;
  /** Makes a pending read() return 'interrupted' (signal handlers call it). */
  wake(): void;
  restoreBlocking(): void;
  /** Whether input already taken from the descriptor is waiting to be read(). */
  pending(): boolean;
}

export class BlockingInput implements Input {
  private readonly buf = Buffer.allocUnsafe(BLOCK);
  private woken = false;

  wake(): void {
    this.woken = true;
  }

  async read(): Promise<ReadResult> {
    // let signal handlers run between blocks
    await new Promise((resolve) => setImmediate(resolve));
    if (this.woken) {
      this.woken = false;
      return 'interrupted';
    }
    for (;;) {
      try {
        const n = fs.readSync(0, this.buf, 0, BLOCK, null);
        return n === 0 ? null : this.buf.subarray(0, n);
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
