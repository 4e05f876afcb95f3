// The soft resource limits this program was started with. The launcher in
// bin/ records them (from /proc) in DAEMONTOOLS_NODE_LIMITS before Node
// raises some of them; every child started or exec'd must get them back
// (ARCHITECTURE.md pitfalls 7 and 10).
import { throughShell } from './sh-wrap';
import * as sys from '../os/sys';

const ENV = 'DAEMONTOOLS_NODE_LIMITS';

const names: Record<string, number> = {
  'Max cpu time': sys.RLIMIT.CPU,
  'Max file size': sys.RLIMIT.FSIZE,
  'Max data size': sys.RLIMIT.DATA,
  'Max stack size': sys.RLIMIT.STACK,
  'Max core file size': sys.RLIMIT.CORE,
  'Max resident set': sys.RLIMIT.RSS,
  'Max processes': sys.RLIMIT.NPROC,
  'Max open files': sys.RLIMIT.NOFILE,
  'Max locked memory': sys.RLIMIT.MEMLOCK,
  'Max address space': sys.RLIMIT.AS,
  'Max file locks': sys.RLIMIT.LOCKS,
  'Max pending signals': sys.RLIMIT.SIGPENDING,
  'Max msgqueue size': sys.RLIMIT.MSGQUEUE,
  'Max nice priority': sys.RLIMIT.NICE,
  'Max realtime priority': sys.RLIMIT.RTPRIO,
  'Max realtime timeout': sys.RLIMIT.RTTIME,
};

/**
 * Parses the text of /proc/PID/limits (lines joined by `;` or newlines, their
 * words separated by runs of spaces or, as the launcher records them, by one
 * space): resource → soft limit.
 */
export function parseProcLimits(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const line of text.split(/[;\n]/)) {
    const m = /^(Max [a-z ]+?)\s+(unlimited|[0-9]+)\s+(unlimited|[0-9]+)(?:\s|$)/.exec(line);
    if (!m || !(m[1] in names)) continue;
    const soft = m[2] === 'unlimited' ? Infinity : Number(m[2]);
    if (!Number.isNaN(soft)) out.set(names[m[1]], soft);
  }
  return out;
}

let recorded: Map<number, number> | undefined;

/**
 * Reads the recorded limits and removes the variable from this process's
 * environment, so that no child ever sees it. Call once, first thing.
 */
export function captureLimits(): Map<number, number> {
  if (recorded) return recorded;
  const text = process.env[ENV];
  delete process.env[ENV];
  recorded = text ? parseProcLimits(text) : new Map();
  return recorded;
}

type Restore = Array<{ resource: number; limit: sys.RLimit; current: sys.RLimit }>;
let toRestore: Restore | undefined;

/**
 * The soft limits to give children that differ from this process's own
 * (`current`: ours, as read). Read once: a process of ours changes its own
 * limits only around a spawn (spawnWithLimits, which puts them back) or
 * right before an exec.
 */
export function limitsToRestore(): Restore {
  if (toRestore) return toRestore;
  const out: Restore = [];
  for (const [resource, soft] of captureLimits()) {
    const now = sys.getrlimit(resource);
    const want = Math.min(soft, now.hard);
    if (want !== now.soft) out.push({ resource, limit: { soft: want, hard: now.hard }, current: now });
  }
  toRestore = out;
  return out;
}

/** Puts the recorded soft limits back on this process: only right before execve. */
export function restoreLimitsForExec(): void {
  for (const { resource, limit } of limitsToRestore()) {
    try {
      sys.setrlimit(resource, limit);
    } catch {
      // a limit that cannot be restored stays as Node had it
    }
  }
}

let reservedSignalsReset = false;

/** libuv's spawn resets signals 1-31 in the child; 32 and 33 follow this process. */
function resetReservedSignalsOnce(): void {
  if (reservedSignalsReset) return;
  reservedSignalsReset = true;
  try {
    sys.resetReservedSignals();
  } catch {
    // no libc call available: the child inherits what we have
  }
}

// Lowering these in a running Node process could starve or kill it (memory
// allocation fails, SIGXCPU), so a spawned child gets them from a tiny
// `ulimit` prefix instead of from the parent.
const unsafeInParent = new Set<number>([sys.RLIMIT.AS, sys.RLIMIT.DATA, sys.RLIMIT.STACK, sys.RLIMIT.CPU]);
const ulimitFlag: Record<number, [string, number]> = {
  [sys.RLIMIT.AS]: ['-v', 1024],
  [sys.RLIMIT.DATA]: ['-d', 1024],
  [sys.RLIMIT.STACK]: ['-s', 1024],
  [sys.RLIMIT.CPU]: ['-t', 1],
};

/**
 * Runs `spawn` (a synchronous fork+exec, like child_process.spawn) so that
 * the child starts with the recorded soft limits. `spawn` receives the argv
 * to use: the given one, or one prefixed by `/bin/sh -c 'ulimit ...; exec "$@"'`
 * for the few limits a parent cannot lower on itself. Nothing from the
 * command line reaches the shell's script, only numbers.
 */
export function spawnWithLimits<T>(argv: readonly string[], spawn: (argv: readonly string[]) => T): T {
  resetReservedSignalsOnce();
  const restore = limitsToRestore();
  if (restore.length === 0) return spawn(argv);
  const lowered: Array<{ resource: number; previous: sys.RLimit }> = [];
  const ulimits: string[] = [];
  for (const { resource, limit, current } of restore) {
    if (unsafeInParent.has(resource)) {
      const [flag, unit] = ulimitFlag[resource];
      ulimits.push(`ulimit -S ${flag} ${limit.soft === Infinity ? 'unlimited' : Math.floor(limit.soft / unit)}`);
      continue;
    }
    try {
      sys.setrlimit(resource, limit);
      lowered.push({ resource, previous: current });
    } catch {
      // leave it as it is
    }
  }
  try {
    const finalArgv = ulimits.length ? throughShell(ulimits.join('; '), argv) : argv;
    return spawn(finalArgv);
  } finally {
    for (const { resource, previous } of lowered) {
      try {
        sys.setrlimit(resource, previous);
      } catch {
        // cannot happen: raising back to a value we had
      }
    }
  }
}
