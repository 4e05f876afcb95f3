// TAI64 and TAI64N labels as daemontools writes them: 2^62 + 10 + Unix
// seconds (leap seconds ignored), big-endian, then nanoseconds.

export interface Tai64n {
  /** Unix seconds */
  sec: number;
  nano: number;
}

const TWO32 = 0x100000000;

/** The current time with microsecond precision, as daemontools takes it. */
export function now(): Tai64n {
  const ms = performance.timeOrigin + performance.now();
  const sec = Math.floor(ms / 1000);
  const usec = Math.min(999999, Math.floor((ms - sec * 1000) * 1000));
  return { sec, nano: usec * 1000 + 500 };
}

export function fromDate(d: Date): Tai64n {
  const ms = d.getTime();
  const sec = Math.floor(ms / 1000);
  return { sec, nano: (ms - sec * 1000) * 1000000 };
}

/** Writes the 8-byte TAI64 label of `sec` at buf[off]. */
export function writeTai64(buf: Buffer, off: number, sec: number): void {
  const t = sec + 10;
  const hi = Math.floor(t / TWO32);
  buf.writeUInt32BE((0x40000000 + hi) >>> 0, off);
  buf.writeUInt32BE(t - hi * TWO32, off + 4);
}

export function readTai64(buf: Buffer, off: number): number {
  const hi = buf.readUInt32BE(off) - 0x40000000;
  return hi * TWO32 + buf.readUInt32BE(off + 4) - 10;
}

export function pack(t: Tai64n): Buffer {
  const b = Buffer.alloc(12);
  writeTai64(b, 0, t.sec);
  b.writeUInt32BE(t.nano, 8);
  return b;
}

export function unpack(buf: Buffer, off = 0): Tai64n {
  return { sec: readTai64(buf, off), nano: buf.readUInt32BE(off + 8) };
}

/** `@` + 24 lowercase hex digits. */
export function format(t: Tai64n): string {
  return '@' + pack(t).toString('hex');
}

/** Parses `@` + 24 hex digits (the `@` optional); undefined if malformed. */
export function parse(label: string): Tai64n | undefined {
  const hex = label.startsWith('@') ? label.slice(1) : label;
  if (!/^[0-9a-fA-F]{24}$/.test(hex)) return undefined;
  return unpack(Buffer.from(hex, 'hex'));
}
