// The 18-byte supervise/status record shared with the C daemontools:
// 0-11 TAI64N time of the last pid change, 12-15 pid (little-endian),
// 16 paused flag, 17 want ('u', 'd', or 0 for "once").
import { pack, unpack, Tai64n } from '../tai64';

export const STATUS_SIZE = 18;

export type Want = 'up' | 'down' | 'once';

export interface Status {
  when: Tai64n;
  pid: number;
  paused: boolean;
  want: Want;
}

export function encodeStatus(s: Status): Buffer {
  const b = Buffer.alloc(STATUS_SIZE);
  pack(s.when).copy(b, 0);
  b.writeUInt32LE(s.pid >>> 0, 12);
  b[16] = s.paused ? 1 : 0;
  b[17] = s.want === 'up' ? 0x75 : s.want === 'down' ? 0x64 : 0;
  return b;
}

/** Decodes a status record; undefined when it is too short (svstat's "bad format"). */
export function decodeStatus(b: Buffer): Status | undefined {
  if (b.length < STATUS_SIZE) return undefined;
  const w = b[17];
  return {
    when: unpack(b, 0),
    pid: b.readUInt32LE(12),
    paused: b[16] !== 0,
    want: w === 0x75 ? 'up' : w === 0x64 ? 'down' : 'once',
  };
}
