// tai64n's transformation: each line gets `@TAI64N ` in front, the label
// taken when the line's first byte was read. Fed in blocks; a partial last
// line is left as it is.
import { format, now } from '../tai64';

const NEWLINE = 0x0a;

export class Stamper {
  private atLineStart = true;

  /** The output for one block of input (all its lines labelled with the block's time). */
  feed(block: Buffer): Buffer {
    const label = Buffer.from(`${format(now())} `, 'latin1');
    const parts: Buffer[] = [];
    let pos = 0;
    while (pos < block.length) {
      if (this.atLineStart) parts.push(label);
      const nl = block.indexOf(NEWLINE, pos);
      const end = nl < 0 ? block.length : nl + 1;
      parts.push(block.subarray(pos, end));
      this.atLineStart = nl >= 0;
      pos = end;
    }
    return Buffer.concat(parts);
  }
}
