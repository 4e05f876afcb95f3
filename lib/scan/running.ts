// Whether an svscan works in a scanned directory. svscan holds no lock of
// its own; what shows it is a process called svscan (ours and the C one
// both name themselves so) whose working directory is that directory
// (svscan chdirs into it). /proc/PID/cwd of another user's process cannot
// be read: root sees every svscan, a user his own, and `hidden` says when
// some could not be looked at.
import fs from 'node:fs';

export interface SvscanSearch {
  /** an svscan working in the directory */
  pid?: number;
  /** whether /proc could not tell for some process (or at all) */
  hidden: boolean;
}

/** The svscan working in the directory of identity id (fs.statSync of it), if /proc shows one. */
export function svscanIn(id: fs.Stats): SvscanSearch {
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p));
  } catch {
    return { hidden: true };
  }
  let hidden = false;
  for (const pid of pids) {
    let comm: string;
    try {
      comm = fs.readFileSync(`/proc/${pid}/comm`, 'latin1');
    } catch {
      continue; // gone
    }
    if (comm !== 'svscan\n') continue;
    try {
      const cwd = fs.statSync(`/proc/${pid}/cwd`);
      if (cwd.dev === id.dev && cwd.ino === id.ino) return { pid: Number(pid), hidden };
    } catch (e) {
      // another user's (EACCES), or gone meanwhile (ENOENT)
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') hidden = true;
    }
  }
  return { hidden };
}
