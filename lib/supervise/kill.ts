// SIGKILL for a process that did not stop in time (timeout-kill after `d`,
// timeout-finish for ./finish): to its whole process group when it leads
// one (what it started there goes with it), else to the process alone.
import fs from 'node:fs';

/** Field 5 (process group) of /proc/PID/stat; undefined when there is no such process. */
function processGroup(pid: number): number | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    // the name (field 2) is in parentheses and may hold anything: count after its last ')'
    return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[2]);
  } catch {
    return undefined;
  }
}

export function killLeader(pid: number): void {
  try {
    process.kill(processGroup(pid) === pid ? -pid : pid, 'SIGKILL');
  } catch {
    // gone already
  }
}
