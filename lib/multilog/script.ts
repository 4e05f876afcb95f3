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
  processor: string | undefined;
}

export type Action =
  | { kind: 'select'; select: boolean; pattern: Buffer }
  | { kind: 'stderr' }
  | { kind: 'status'; index: number }
  | { kind: 'dir'; index: number };

export interface Script {
  timestamp: boolean;
  actions: Action[];
  statusFiles: string[];
  dirs: DirSpec[];
}

/** Leading decimal digits as a number (0 if none), like scan_ulong: wrapped to 64 bits. */
function leadingNumber(s: string): number {
  const m = /^[0-9]*/.exec(s);
  return m && m[0] ? Number(BigInt.asUintN(64, BigInt(m[0]))) : 0;
}

/** args: the script's arguments as raw bytes. */
export function parseScript(args: readonly Buffer[]): Script {
  const script: Script = { timestamp: false, actions: [], statusFiles: [], dirs: [] };
  let size = DEFAULT_SIZE;
  let num = DEFAULT_NUM;
  let processor: string | undefined;
  args.forEach((raw, i) => {
    const arg = raw.toString('latin1');
    const rest = arg.slice(1);
    switch (arg[0]) {
      case 't':
        if (i === 0) script.timestamp = true;
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
        script.dirs.push({ name: arg, size, num, processor });
        break;
      default:
        // unknown actions are ignored, as in the C multilog
        break;
    }
  });
  return script;
}
