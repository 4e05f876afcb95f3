// SIGKILL for a process that did not stop in time (timeout-kill after `d`,
// timeout-finish for ./finish): to its whole process group when it leads
// one (what it started there goes with it), else to the process alone.
import { procStat } from '../os/proc-stat';

export function killLeader(pid: number): void {
  try {
    process.kill(procStat(pid)?.pgrp === pid ? -pid : pid, 'SIGKILL');
  } catch {
    // gone already
  }
}
