// Beyond 0.76: the facts our supervise keeps in supervise/info (one JSON
// object: its pid, starts, failed starts, last exit), for `svstat --json`.
// The file outlives the supervise that wrote it (a C supervise, which does
// not know it, may run the service now), so it is believed only while the
// process it names holds supervise/lock: checked in /proc/locks.
import fs from 'node:fs';

export type Info = Record<string, unknown>;

/** How the last ./run ended, as our supervise records it (lib/supervise/files.ts). */
export interface LastExit {
  /** TAI64N label of the moment */
  at: string;
  code: number | null;
  signal: string | null;
  /** an adopted ./run: code and signal unknown */
  adopted?: true;
}

/** The last exit in info, its fields checked (the file is JSON anyone could have written); undefined if none. */
export function lastExitIn(info: Info | null | undefined): LastExit | undefined {
  const last = info?.lastExit;
  if (!last || typeof last !== 'object') return undefined;
  const { at, code, signal, adopted } = last as Record<string, unknown>;
  return {
    at: typeof at === 'string' ? at : '',
    code: typeof code === 'number' ? code : null,
    signal: typeof signal === 'string' && signal !== '' ? signal : null,
    ...(adopted === true ? { adopted: true as const } : {}),
  };
}

export class InfoReader {
  private locks: string | undefined;

  /** supervise/info of the service in the current directory, if it is current; undefined otherwise. */
  read(): Info | undefined {
    let info: unknown;
    let lockInode: number;
    try {
      info = JSON.parse(fs.readFileSync('supervise/info', 'utf8'));
      lockInode = fs.statSync('supervise/lock').ino;
    } catch {
      return undefined;
    }
    if (!info || typeof info !== 'object' || Array.isArray(info)) return undefined;
    const pid = (info as Info).supervise;
    if (typeof pid !== 'number' || !this.holdsLock(pid, lockInode)) return undefined;
    return info as Info;
  }

  private holdsLock(pid: number, inode: number): boolean {
    if (this.locks === undefined) {
      try {
        this.locks = fs.readFileSync('/proc/locks', 'latin1');
      } catch {
        this.locks = '';
      }
    }
    // e.g. "1: FLOCK  ADVISORY  WRITE 13071 fe:00:2156181 0 EOF"
    const re = /^\d+: FLOCK +\S+ +WRITE +(\d+) +[0-9a-f]+:[0-9a-f]+:(\d+) /gm;
    for (let m = re.exec(this.locks); m; m = re.exec(this.locks)) {
      if (Number(m[1]) === pid && Number(m[2]) === inode) return true;
    }
    return false;
  }
}
