// The multilog script: the actions given as arguments, in order.

export const DEFAULT_SIZE = 99999;
export const DEFAULT_NUM = 10;
const MIN_SIZE = 4096;
const MAX_SIZE = 16777215;
const MIN_NUM = 2;

// File and directory names are the argument's raw bytes, one per char
// (latin1), used as Buffer.from(name, 'latin1') in paths and written back
// the same way in messages: any byte string names what the C tool names.

export interface DirSpec {
  /** as written in the script (raw bytes as latin1; used in messages) */
  name: string;
  size: number;
  num: number;
  /** `S`: most bytes the archived files may take in all; 0: no limit */
  total: number;
  /** `a`: seconds after which `current`'s first line makes it rotate; 0: never */
  age: number;
  processor: string | undefined;
}

/** `t`: @TAI64N labels; `T`: ISO 8601 UTC stamps (see iso8601.ts). */
export type Stamp = 'none' | 'tai64n' | 'iso';

/** A value multilog 0.76 has no action for, given badly: exit 100 with this message. */
export class ScriptError extends Error {}

export type Action =
  | { kind: 'select'; select: boolean; pattern: Buffer }
  | { kind: 'stderr' }
  | { kind: 'status'; index: number }
  | { kind: 'dir'; index: number };

export interface Script {
  stamp: Stamp;
  actions: Action[];
  statusFiles: string[];
  dirs: DirSpec[];
}

/** Leading decimal digits as a number (0 if none), like scan_ulong: wrapped to 64 bits. */
function leadingNumber(s: string): number {
  const m = /^[0-9]*/.exec(s);
  return m && m[0] ? Number(BigInt.asUintN(64, BigInt(m[0]))) : 0;
}

const MAX_TOTAL = 2n ** 64n - 1n;
const MAX_AGE = 4294967295;

/**
 * The beyond actions' numbers are strict, as s6-log's are (a 0.76 script
 * never holds them, so nothing has to be read the C tool's lenient way):
 * decimal digits only.
 */
function strictNumber(arg: string, max: bigint, what: string): number {
  const digits = arg.slice(1);
  if (!/^[0-9]+$/.test(digits)) throw new ScriptError(`bad action ${arg}: ${what}`);
  const n = BigInt(digits);
  if (n > max) throw new ScriptError(`bad action ${arg}: ${what}`);
  return Number(n > BigInt(Number.MAX_SAFE_INTEGER) ? BigInt(Number.MAX_SAFE_INTEGER) : n);
}

/** `S`: a number of bytes, 0 for no limit (as in s6-log). */
function parseTotal(arg: string): number {
  return strictNumber(arg, MAX_TOTAL, 'S takes a number of bytes (S0: no limit)');
}

/** `a`: a number of seconds, 1 to MAX_AGE. */
function parseAge(arg: string): number {
  const what = `a takes a number of seconds from 1 to ${MAX_AGE}`;
  const n = strictNumber(arg, BigInt(MAX_AGE), what);
  if (n === 0) throw new ScriptError(`bad action ${arg}: ${what}`);
  return n;
}

/** args: the script's arguments as raw bytes. Throws ScriptError on a bad `S` or `a`. */
export function parseScript(args: readonly Buffer[]): Script {
  const script: Script = { stamp: 'none', actions: [], statusFiles: [], dirs: [] };
  let size = DEFAULT_SIZE;
  let num = DEFAULT_NUM;
  let total = 0;
  let age = 0;
  let processor: string | undefined;
  args.forEach((raw, i) => {
    const arg = raw.toString('latin1');
    const rest = arg.slice(1);
    switch (arg[0]) {
      case 't':
        if (i === 0) script.stamp = 'tai64n';
        break;
      case 'T':
        if (i === 0) script.stamp = 'iso';
        break;
      case 'S':
        total = parseTotal(arg);
        break;
      case 'a':
        age = parseAge(arg);
        break;
      case '+':
      case '-':
        script.actions.push({ kind: 'select', select: arg[0] === '+', pattern: raw.subarray(1) });
        break;
      case 'e':
        script.actions.push({ kind: 'stderr' });
        break;
      case '=':
        script.actions.push({ kind: 'status', index: script.statusFiles.length });
        script.statusFiles.push(rest);
        break;
      case 's':
        size = Math.min(MAX_SIZE, Math.max(MIN_SIZE, leadingNumber(rest)));
        break;
      case 'n':
        num = Math.max(MIN_NUM, leadingNumber(rest));
        break;
      case '!':
        // a string for spawn: exact when the bytes are UTF-8
        processor = raw.subarray(1).toString('utf8');
        break;
      case '.':
      case '/':
        script.actions.push({ kind: 'dir', index: script.dirs.length });
        script.dirs.push({ name: arg, size, num, total, age, processor });
        break;
      default:
        // unknown actions are ignored, as in the C multilog
        break;
    }
  });
  return script;
}
