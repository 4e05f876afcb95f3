// Fields of /proc/PID/stat: the process's state, its process group, its
// session and controlling terminal, and its start time (clock ticks after boot).
import fs from 'node:fs';

export interface ProcStat {
  /** field 3: R, S, D, T, Z, X... */
  state: string;
  /** field 5 */
  pgrp: number;
  /** field 6: the session id */
  session: number;
  /** field 7: the controlling terminal's device number (0: none) */
  tty: number;
  /** field 22, as text (it can exceed 2^53 in principle) */
  start: string;
}

/** The fields of the text of /proc/PID/stat; undefined when it is not one. */
export function parseProcStat(text: string): ProcStat | undefined {
  // the name (field 2) is in parentheses and may hold anything: count after its last ')'
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3, so field 5 is rest[2] and field 22 is rest[19]
  if (rest.length < 20) return undefined;
  return { state: rest[0], pgrp: Number(rest[2]), session: Number(rest[3]), tty: Number(rest[4]), start: rest[19] };
}

/** /proc/PID/stat's fields; undefined when there is no such process. */
export function procStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return undefined;
  }
}
