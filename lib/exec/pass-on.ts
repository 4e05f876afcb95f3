// What a child gets through the C tools' fork and exec that Node's spawn
// takes away: signals ignored by our caller (nohup: a C svscan started so
// runs services that ignore SIGHUP) and descriptors above 2 our caller gave
// us (Node marks 3-15 close-on-exec at start). The launcher records both
// (lib/exec/exec.ts); here they are handed on to a child.
import { StdioOptions } from 'node:child_process';
import os from 'node:os';
import { launcherRecord } from './exec';

/** The sh command `trap '' SIGS` for the signals our caller ignored, or undefined when there are none. */
export function trapIgnored(): string | undefined {
  const { ignored } = launcherRecord();
  return ignored.length ? `trap '' ${ignored.join(' ')}` : undefined;
}

/** Signals that would end or stop us by default, and that a listener can take. */
const KEEPABLE = ['SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGTERM', 'SIGUSR2', 'SIGALRM', 'SIGVTALRM', 'SIGPROF', 'SIGXCPU', 'SIGIO',
  'SIGPWR', 'SIGSYS', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU'] as const;

/**
 * The C programs keep for themselves the signals their caller ignored
 * (nohup supervise survives HUP); Node reset them to the default at start.
 * Each one that would end or stop us is taken by a listener that does
 * nothing: the same as ignoring it. A child still gets it ignored
 * (spawnChild passes it on; a shell's `trap`, trapIgnored()).
 */
export function ignoreForOurselves(): void {
  const { ignored } = launcherRecord();
  for (const name of KEEPABLE) {
    if (ignored.includes(os.constants.signals[name])) process.on(name, () => undefined);
  }
}

export type Std = 'inherit' | 'ignore' | number;

/** stdio for spawn: the three given, then every inherited descriptor at its own number. */
export function withInherited(stdio: [Std, Std, Std]): StdioOptions {
  const { fds } = launcherRecord();
  if (fds.length === 0) return stdio;
  const out: Std[] = [...stdio];
  const top = Math.max(...fds);
  for (let fd = 3; fd <= top; fd++) out.push(fds.includes(fd) ? fd : 'ignore');
  return out;
}
