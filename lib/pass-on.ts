// What a child gets through the C tools' fork and exec that Node's spawn
// takes away: signals ignored by our caller (nohup: a C svscan started so
// runs services that ignore SIGHUP) and descriptors above 2 our caller gave
// us (Node marks 3-15 close-on-exec at start). The launcher records both
// (lib/exec.ts); here they are handed on to a child.
import { StdioOptions } from 'node:child_process';
import { launcherRecord } from './exec';
import { throughShell } from './sh-wrap';

let record: { fds: number[]; ignored: number[] } | undefined;

function recorded(): { fds: number[]; ignored: number[] } {
  record ??= launcherRecord();
  return record;
}

/** argv as given, or behind `sh -c "trap '' SIGS; exec ..."` when our caller ignored signals. */
export function keepIgnored(argv: readonly string[]): readonly string[] {
  const { ignored } = recorded();
  if (ignored.length === 0) return argv;
  return throughShell(`trap '' ${ignored.join(' ')}`, argv);
}

type Std = 'inherit' | 'ignore' | number;

/** stdio for spawn: the three given, then every inherited descriptor at its own number. */
export function withInherited(stdio: [Std, Std, Std]): StdioOptions {
  const { fds } = recorded();
  if (fds.length === 0) return stdio;
  const out: Std[] = [...stdio];
  const top = Math.max(...fds);
  for (let fd = 3; fd <= top; fd++) out.push(fds.includes(fd) ? fd : 'ignore');
  return out;
}
