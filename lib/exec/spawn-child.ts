// Starting a service's ./run (and anything supervise starts) with
// posix_spawn instead of libuv's spawn: libuv forks the whole Node process
// (5.5 ms here for each start, against 2 ms), which a host of hundreds of
// services pays at every start. The child gets what libuv gave it: the
// working directory, stdin/stdout/stderr as asked (blocking), the
// descriptors our caller gave us at their own numbers (withInherited),
// every signal at its default and none blocked (but those our caller
// ignored: nohup), this process's environment.
import fs from 'node:fs';
import * as sys from '../os/sys';
import { whenChildExits, ChildExit, listenForExits } from '../os/child-exits';
import { launcherRecord } from './exec';
import { cBytes } from '../os/raw-argv';
import type { Std } from './pass-on';

export interface SpawnChildOptions {
  /** The child's working directory (default: ours), a byte string. */
  cwd?: string;
  /** argv[0] without `/` is looked up in PATH, as execvp(3) does. */
  search?: boolean;
  stdio: [Std, Std, Std];
  /** Descriptors of ours given to the child at other numbers, last: [ours, its]. */
  extra?: ReadonlyArray<readonly [number, number]>;
}

let environ: string[] | undefined;

/**
 * process.env as `NAME=VALUE` strings, built at the first start: the
 * programs that start children (supervise, svscan) never change their
 * environment after their first lines (captureLimits), and reading
 * process.env costs more than the spawn's own work here.
 */
function environment(): string[] {
  environ ??= Object.entries(process.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  return environ;
}

const SIGCHLD = 17;

/**
 * The signals our caller ignored (nohup), which the child gets ignored as
 * from the C supervise; but SIGCHLD, which the C supervise catches (so its
 * child gets the default).
 */
function ignoredByCaller(): number[] {
  return launcherRecord().ignored.filter((sig) => sig !== SIGCHLD);
}

/** A descriptor handed to a child as its stdin/stdout/stderr must block there (libuv clears O_NONBLOCK too). */
function blocking(fd: number): void {
  try {
    sys.setNonblock(fd, false);
  } catch {
    // not open: the child's dup2 reports it
  }
}

/**
 * Starts argv[0] (a path, unless opts.search) and returns its pid; onExit
 * is called once it has ended (it is reaped here). Throws, with the exec's
 * errno (ENOENT, EACCES, ENOEXEC...), when it cannot be started. argv's
 * words are byte strings (latin1, lib/os/raw-argv.ts): a service name that
 * is not UTF-8 reaches the child as its bytes.
 */
export function spawnChild(argv: readonly string[], opts: SpawnChildOptions, onExit: (exit: ChildExit) => void): number {
  const open: Array<[number, string, number]> = [];
  const dup2: Array<readonly [number, number]> = [];
  opts.stdio.forEach((std, fd) => {
    const from = std === 'inherit' ? fd : std;
    if (from === 'ignore') {
      open.push([fd, '/dev/null', fd === 0 ? fs.constants.O_RDONLY : fs.constants.O_WRONLY]);
      return;
    }
    blocking(from);
    dup2.push([from, fd]);
  });
  // what our caller gave us above 2, at its own number (Node made it close-on-exec)
  for (const fd of launcherRecord().fds) if (fd > 2) dup2.push([fd, fd]);
  dup2.push(...(opts.extra ?? []));
  listenForExits();
  const keep = ignoredByCaller();
  const words = argv.map(cBytes);
  const cwd = opts.cwd === undefined ? undefined : cBytes(opts.cwd);
  const pid = sys.whileIgnoring(keep, () => sys.posixSpawn(words[0], words, environment(), { cwd, open, dup2, keep, search: opts.search }));
  whenChildExits(pid, onExit);
  return pid;
}
