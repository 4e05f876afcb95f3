// What /proc says about a process: parent, memory, CPU time, context switches.
import fs from 'node:fs';

export function allPids(): number[] {
  return fs.readdirSync('/proc').filter((f) => /^\d+$/.test(f)).map(Number);
}

interface Stat {
  ppid: number;
  state: string;
}

export function stat(pid: number): Stat | undefined {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: rest[0], ppid: Number(rest[1]) };
  } catch {
    return undefined;
  }
}

/** Alive and not a zombie. */
export function alive(pid: number): boolean {
  const s = stat(pid);
  return s !== undefined && s.state !== 'Z';
}

export function childrenOf(pid: number): number[] {
  return allPids().filter((p) => stat(p)?.ppid === pid);
}

export interface Memory {
  pssKB: number;
  privateDirtyKB: number;
}

/** PSS and Private_Dirty from /proc/PID/smaps_rollup. */
export function memory(pid: number): Memory {
  const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'latin1');
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    if (!m) throw new Error(`no ${name} in /proc/${pid}/smaps_rollup`);
    return Number(m[1]);
  };
  return { pssKB: field('Pss'), privateDirtyKB: field('Private_Dirty') };
}

export interface Activity {
  cpuNs: number;
  switches: number;
}

/** CPU time and context switches summed over every thread of pid. */
export function activity(pid: number): Activity {
  let cpuNs = 0;
  let switches = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      cpuNs += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'latin1').split(' ')[0]);
      const status = fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'latin1');
      for (const m of status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)) switches += Number(m[1]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return { cpuNs, switches };
}

/** The pids whose cwd is under `dir` or (if given) whose environment holds `marker` (NAME=value). */
export function findProcs(dir: string, marker?: string): number[] {
  const needle = marker === undefined ? undefined : Buffer.from(`\0${marker}\0`);
  const out: number[] = [];
  for (const pid of allPids()) {
    if (pid === process.pid) continue;
    let hit = false;
    try {
      const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
      hit = cwd === dir || cwd.startsWith(dir + '/');
    } catch {
      // gone, or a kernel thread
    }
    if (!hit && needle) {
      try {
        const env = Buffer.concat([Buffer.from([0]), fs.readFileSync(`/proc/${pid}/environ`)]);
        hit = env.includes(needle);
      } catch {
        // gone
      }
    }
    if (hit && alive(pid)) out.push(pid);
  }
  return out;
}
