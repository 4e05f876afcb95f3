// tai64nlocal's transformation: a line starting with `@` and lowercase hex
// digits gets that label replaced by the local time it stands for,
// `YYYY-MM-DD HH:MM:SS.NNNNNNNNN`. Like the C tool, every hex digit after
// the `@` is shifted into a 96-bit register (seconds, then nanoseconds), and
// a label cut off by the end of input is dropped.
//
// Far labels are rendered as glibc's localtime() and the C tool's printing
// of the year do it (the year as a C int, printed as an unsigned long). A
// label whose year does not fit an int (a bare `@`, too few digits,
// uppercase hex) crashes the C tool, which then loses its unflushed output;
// such a line is passed through unchanged here, as SPEC.md says of lines
// that hold no label.

const AT = 0x40;
const AT_BUFFER = Buffer.from('@');
const EMPTY = Buffer.alloc(0);
const NEWLINE = 0x0a;
const TAI_OFFSET = 2n ** 62n + 10n;
// what Date can represent, less room for a zone offset
const DATE_LIMIT = 8640000000000n - 2n * 86400n;
// the Gregorian calendar (and a zone's rules for the far future) repeat every 400 years
const CYCLE_SECONDS = 12622780800n;
const CYCLE_YEARS = 400n;
const INT_MIN = -(2n ** 31n);
const INT_MAX = 2n ** 31n - 1n;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

/** A fixed offset (seconds east of UTC) for a POSIX TZ without DST rules, such as `XYZ-3:30`. */
export function posixFixedOffset(tz: string | undefined): number | undefined {
  if (!tz) return undefined;
  const m = /^:?(?:[A-Za-z]{3,}|<[^>]+>)([+-]?)(\d{1,2})(?::(\d{1,2}))?(?::(\d{1,2}))?$/.exec(tz);
  if (!m) return undefined;
  const west = Number(m[2]) * 3600 + Number(m[3] ?? 0) * 60 + Number(m[4] ?? 0);
  return m[1] === '-' ? west : -west;
}

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export class LocalTimer {
  private state: 'start' | 'label' | 'copy' = 'start';
  private hi = 0; // register bits 64..95
  private mid = 0; // bits 32..63
  private lo = 0; // bits 0..31 (nanoseconds)
  private lastSec: bigint | undefined;
  private lastText = '';
  /** Digits of a label begun in an earlier block. */
  private carry = EMPTY;

  constructor(private readonly fixedOffset: number | undefined = posixFixedOffset(process.env.TZ)) {}

  private shiftIn(d: number): void {
    this.hi = ((this.hi << 4) | (this.mid >>> 28)) >>> 0;
    this.mid = ((this.mid << 4) | (this.lo >>> 28)) >>> 0;
    this.lo = ((this.lo << 4) | d) >>> 0;
  }

  /** `YYYY-MM-DD HH:MM:SS` of unix as localtime() gives it and the C tool prints it; undefined past a C int's years. */
  private secondsText(unix: bigint): string | undefined {
    if (unix === this.lastSec) return this.lastText;
    // bring unix into Date's range by whole 400-year cycles
    let cycles = 0n;
    if (unix > DATE_LIMIT) cycles = (unix - DATE_LIMIT) / CYCLE_SECONDS + 1n;
    else if (unix < -DATE_LIMIT) cycles = -((-DATE_LIMIT - unix) / CYCLE_SECONDS + 1n);
    const shifted = Number(unix - cycles * CYCLE_SECONDS);
    let d: Date;
    let y: number, mo: number, da: number, h: number, mi: number, s: number;
    if (this.fixedOffset !== undefined) {
      d = new Date((shifted + this.fixedOffset) * 1000);
      [y, mo, da, h, mi, s] = [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
    } else {
      d = new Date(shifted * 1000);
      [y, mo, da, h, mi, s] = [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()];
    }
    const year = BigInt(y) + cycles * CYCLE_YEARS;
    if (year - 1900n < INT_MIN || year - 1900n > INT_MAX) return undefined;
    const printed = BigInt.asUintN(64, BigInt.asIntN(32, year));
    this.lastSec = unix;
    this.lastText = `${printed}-${pad(mo, 2)}-${pad(da, 2)} ${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}`;
    return this.lastText;
  }

  /** The label in the register as local time; undefined where it has no date. */
  private render(): string | undefined {
    const secs = (BigInt(this.hi) << 32n) | BigInt(this.mid);
    const text = this.secondsText(BigInt.asIntN(64, secs - TAI_OFFSET));
    return text === undefined ? undefined : `${text}.${pad(this.lo, 9)}`;
  }

  /** The label's replacement, or the label as it was (digits from earlier blocks in `carry`). */
  private labelText(block: Buffer, start: number, end: number): Buffer {
    const text = this.render();
    const out = text === undefined ? Buffer.concat([AT_BUFFER, this.carry, block.subarray(start, end)]) : Buffer.from(text, 'latin1');
    this.carry = EMPTY;
    return out;
  }

  feed(block: Buffer): Buffer {
    const parts: Buffer[] = [];
    let pos = 0;
    let copyFrom = 0;
    let labelStart = 0; // where the digits of the current label start in this block
    while (pos < block.length) {
      if (this.state === 'start') {
        if (block[pos] === AT) {
          this.state = 'label';
          this.hi = this.mid = this.lo = 0;
          if (pos > copyFrom) parts.push(block.subarray(copyFrom, pos));
          pos++;
          labelStart = pos;
          copyFrom = pos;
          continue;
        }
        this.state = 'copy';
      }
      if (this.state === 'label') {
        const d = hexValue(block[pos]);
        if (d >= 0) {
          this.shiftIn(d);
          pos++;
          copyFrom = pos;
          continue;
        }
        parts.push(this.labelText(block, labelStart, pos));
        this.state = 'copy';
        copyFrom = pos;
      }
      const nl = block.indexOf(NEWLINE, pos);
      if (nl < 0) {
        pos = block.length;
        break;
      }
      pos = nl + 1;
      this.state = 'start';
    }
    if (this.state === 'label') this.carry = Buffer.concat([this.carry, block.subarray(labelStart)]);
    else if (pos > copyFrom) parts.push(block.subarray(copyFrom, pos));
    return Buffer.concat(parts);
  }
}
