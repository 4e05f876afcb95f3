// An `=FILE` action: FILE always holds the last selected line, padded with
// newlines to 1001 bytes, rewritten in place.
import fs from 'node:fs';
import * as sys from '../os/sys';
import { OPEN_APPEND, OPEN_WRITE } from './openflags';
import { diag, retry } from './pause';

const SIZE = 1001;

export class StatusFile {
  private readonly fd: number;
  private readonly buf = Buffer.alloc(SIZE, 0x0a);

  /** Creates FILE (mode 0600) if needed, without truncating it. Fatal on failure. */
  constructor(private readonly name: string) {
    try {
      const file = Buffer.from(name, 'latin1'); // the argument's bytes
      fs.closeSync(fs.openSync(file, OPEN_APPEND, 0o600));
      this.fd = fs.openSync(file, OPEN_WRITE);
    } catch (e) {
      diag.fatal(`unable to create ${name}`, e);
    }
  }

  write(line: Buffer, len: number): void {
    line.copy(this.buf, 0, 0, len);
    this.buf.fill(0x0a, len);
    // as the C multilog: back to the start, then write (not pwrite: a FIFO or a /proc file fails as it does there)
    retry(`unable to move to beginning of ${this.name}`, () => sys.lseek(this.fd, 0, sys.SEEK_SET));
    let off = 0;
    while (off < SIZE) {
      const done = off;
      off += retry(`unable to write ${this.name}`, () => fs.writeSync(this.fd, this.buf, done, SIZE - done));
    }
  }
}
