// softlimit's options: which resource each letter sets and how a value reads.
import { RLIMIT } from '../os/sys';

export const SOFTLIMIT_USAGE =
  '[-a allbytes] [-c corebytes] [-d databytes] [-f filebytes] [-l lockbytes] [-m membytes] ' +
  '[-o openfiles] [-p processes] [-r residentbytes] [-s stackbytes] [-t cpusecs] child';

export const SOFTLIMIT_OPTSTRING = 'a:c:d:f:l:m:o:p:r:s:t:';

const resources: Record<string, readonly number[]> = {
  a: [RLIMIT.AS],
  c: [RLIMIT.CORE],
  d: [RLIMIT.DATA],
  f: [RLIMIT.FSIZE],
  l: [RLIMIT.MEMLOCK],
  m: [RLIMIT.DATA, RLIMIT.STACK, RLIMIT.MEMLOCK, RLIMIT.AS],
  o: [RLIMIT.NOFILE],
  p: [RLIMIT.NPROC],
  r: [RLIMIT.RSS],
  s: [RLIMIT.STACK],
  t: [RLIMIT.CPU],
};

const ULONG = 1n << 64n;

/**
 * A value as the C tool reads it: `=` is the hard limit (Infinity here,
 * clamped later), otherwise decimal digits only (none means 0), wrapping
 * like an unsigned long; undefined if anything else follows. Values a
 * double cannot hold exactly (above 2^53) come as a bigint.
 */
export function parseLimit(value: string): number | bigint | undefined {
  if (value === '=') return Infinity;
  if (!/^[0-9]*$/.test(value)) return undefined;
  const n = BigInt(value || '0') % ULONG;
  if (n === ULONG - 1n) return Infinity;
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? n : Number(n);
}

/** The resources an option letter sets. */
export function resourcesOf(letter: string): readonly number[] {
  return resources[letter] ?? [];
}
