// Signals ignored by the caller stay ignored across fork and exec: a C
// svscan started with SIGHUP ignored (nohup) runs services that ignore it.
// Node resets every disposition in the children it spawns, so where the
// launcher recorded ignored signals (lib/exec.ts) the child is started
// through sh, which ignores them again before it execs the program.
import { launcherRecord } from './exec';

let ignored: number[] | undefined;

/** argv as given, or behind `sh -c "trap '' SIGS; exec ..."` when our caller ignored signals. */
export function keepIgnored(argv: readonly string[]): readonly string[] {
  ignored ??= launcherRecord().ignored;
  if (ignored.length === 0) return argv;
  return ['/bin/sh', '-c', `trap '' ${ignored.join(' ')}; exec "$@"`, 'sh', ...argv];
}
