// How ps shows a long-running program: as the C tools show, `supervise
// NAME` or `svscan DIR` (ps -o args), with command name `supervise` (ps -o
// comm, pgrep -x), not `node .../dist/supervise.js NAME`. Node can rewrite
// its argv memory (process.title) but then names the thread after the whole
// title; /proc/self/comm puts the short name back.
import fs from 'node:fs';

/** Shows the process as `prog args...`; a failure leaves the Node title (cosmetic only). */
export function showAs(prog: string, args: readonly string[]): void {
  // a name Node could not decode would show as U+FFFD: better the true bytes
  if (args.some((a) => a.includes('\uFFFD'))) return;
  try {
    process.title = [prog, ...args].join(' ');
  } catch {
    return; // a title Node refuses
  }
  restoreComm(prog);
}

/** After each change of process.title: the command name back to prog (Node sets it to the title's start). */
export function restoreComm(prog: string): void {
  try {
    fs.writeFileSync('/proc/self/comm', prog);
  } catch {
    // no /proc: cosmetic only
  }
}
