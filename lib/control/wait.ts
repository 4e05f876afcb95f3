// Beyond 0.76 (s6-svwait's interface): waiting until services reach a
// state, for svwait and svc -W. The state is read from supervise/status
// (and, under our supervise, supervise/info: readiness, ./finish); the
// wait reacts to their replacement through inotify on each supervise/
// directory (they are renamed into place, so the directory is watched, not
// the files), with a re-check once a second as a safety net.
import fs from 'node:fs';
import { Origin } from './cwd';
import { probeOk, readStatus } from './service';
import { Info, InfoReader, lastExitIn } from './svstat-info';
import { fsPath } from '../os/raw-argv';
import { Diag, errnoCode } from '../os/errors';
import { format, parse } from '../tai64';

/**
 * u: up; U: up and ready (readiness only means something for a service
 * with notification-fd under our supervise: otherwise up is ready);
 * d: down; D: down and ./finish done (under the C supervise, d).
 */
export type WaitState = 'u' | 'U' | 'd' | 'D';

export function isWaitState(s: string): s is WaitState {
  return s.length === 1 && 'uUdD'.includes(s);
}

/** What a status said when it was read: the label of its last change and the pid (0: down). */
export interface Seen {
  since: string;
  pid: number;
}

/**
 * A down status is believed to say whether ./finish runs once supervise/info
 * tells of that very exit (its lastExit.at), or once this long has passed:
 * our supervise writes the status, then starts ./finish, then the info.
 * Likewise an up status with an info not current (yet) for -U.
 */
const SETTLE_MS = 100;

/** The safety net's period: the state is read again this often, whatever inotify says. */
const RECHECK_MS = 1000;

function labelMs(label: string): number {
  const t = parse(label);
  return t ? t.sec * 1000 + t.nano / 1e6 : 0;
}

/** What the service directory holds that readiness and ./finish depend on. */
export interface Files {
  /** ./finish exists */
  finish?: boolean;
  /**
   * notification-fd and a supervise/info that is not current: a C
   * supervise runs the service, or ours is starting and has not written
   * its info yet (it writes the status first)
   */
  staleInfo?: boolean;
}

/** ms until a status labelled `since` is SETTLE_MS old (true: it is). */
function settled(since: string, nowMs: number): true | number {
  const left = labelMs(since) + SETTLE_MS - nowMs;
  return left <= 0 ? true : Math.ceil(left);
}

/**
 * Whether a service whose status is `seen` (and info `info`, undefined
 * under the C supervise) is in `state`: true, false, or the number of ms
 * after which to look again (a status whose info may lag).
 * `before`: the status read before commands were sent (svc -W); a change
 * of it since then counts as having passed through the state, as s6-svc
 * waits for the event.
 */
export function inState(
  state: WaitState,
  seen: Seen,
  info: Info | undefined,
  files: Files,
  nowMs: number,
  before?: Seen,
): boolean | number {
  const up = seen.pid !== 0;
  const changed = before !== undefined && before.since !== seen.since;
  switch (state) {
    case 'u':
      return up || (changed && before.pid === 0);
    case 'd':
      return !up || (changed && before.pid !== 0);
    case 'U': {
      if (!up) return false;
      if (!info) return files.staleInfo ? settled(seen.since, nowMs) : true;
      if (info.notification === undefined) return true;
      // a readiness of an earlier ./run is older than this one's start
      return typeof info.readySince === 'string' && info.readySince >= seen.since;
    }
    case 'D': {
      // up again after a change: the ./finish between the two runs is over
      if (up) return changed && before.pid !== 0;
      if (!info || !files.finish) return true;
      if (info.finishing === true) return false;
      if (lastExitIn(info)?.at === seen.since) return true;
      return settled(seen.since, nowMs);
    }
  }
}

/** Why a dir cannot be waited for: `what` names the dir as given, cause as Diag takes it. */
export interface Failure {
  kind: 'failed';
  what: string;
  cause?: unknown;
}

export type Look = { kind: 'seen'; seen: Seen; reached: boolean | number } | Failure;

/**
 * Reads the state of the service in the current directory. A status that
 * reached the state counts even when its supervise has gone (svc -dx);
 * otherwise a supervise must be running.
 */
export function lookHere(dir: string, state: WaitState, before?: Seen): Look {
  let status;
  try {
    status = readStatus('.');
  } catch (e) {
    return { kind: 'failed', what: `unable to read ${dir}/supervise/status`, cause: e };
  }
  if (!status) return { kind: 'failed', what: `unable to read ${dir}/supervise/status`, cause: 'bad format' };
  const seen = { since: format(status.when), pid: status.pid };
  // readiness and ./finish only: u and d are the 18 bytes' alone
  const info = state === 'U' || state === 'D' ? new InfoReader().read() : undefined;
  const files: Files = {
    finish: state === 'D' && info !== undefined && fs.existsSync('finish'),
    staleInfo: state === 'U' && info === undefined && fs.existsSync('supervise/info') && fs.existsSync('notification-fd'),
  };
  const reached = inState(state, seen, info, files, Date.now(), before);
  if (reached !== true) {
    try {
      probeOk('.');
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENXIO' || code === 'ENOENT') return { kind: 'failed', what: `unable to wait for ${dir}`, cause: 'supervise not running' };
      return { kind: 'failed', what: `unable to open ${dir}/supervise/ok`, cause: e };
    }
  }
  return { kind: 'seen', seen, reached };
}

export type WaitEnd = { kind: 'reached' } | { kind: 'timeout' } | Failure;

export interface WaitOptions {
  state: WaitState;
  /** true: every dir (-a); false: one of them (-o) */
  all: boolean;
  /** 0: no timeout */
  timeoutMs: number;
  /** per dir, the status read before commands were sent (svc -W) */
  before?: ReadonlyArray<Seen | undefined>;
  /** Called once when the state was not reached at the first look: the wait begins. */
  onWaiting?: () => void;
}

/** Looks at each dir from the starting directory (lib/control/cwd.ts's Origin): Look per dir, or a chdir failure. */
export class Looker {
  private constructor(private readonly origin: Origin) {}

  static open(): Looker {
    return new Looker(Origin.open());
  }

  look(dir: string, state: WaitState, before?: Seen): Look {
    try {
      this.origin.enter(dir);
    } catch (e) {
      return { kind: 'failed', what: `unable to chdir to ${dir}`, cause: e };
    }
    try {
      return lookHere(dir, state, before);
    } finally {
      this.origin.back();
    }
  }
}

/**
 * Waits until the dirs (byte strings, lib/os/raw-argv.ts) reach opts.state:
 * all of them or one. The state is read at once (already reached: resolves
 * at once), then at every change in a supervise/ directory, and once a
 * second. A dir that cannot be read, or whose supervise is not running
 * while the state is not reached, ends the wait as failed.
 */
export function waitStates(dirs: readonly string[], opts: WaitOptions): Promise<WaitEnd> {
  return new Promise((resolve) => {
    let looker: Looker;
    try {
      looker = Looker.open();
    } catch (e) {
      resolve({ kind: 'failed', what: 'unable to open current directory', cause: e });
      return;
    }
    const done = dirs.map(() => false);
    const watchers: fs.FSWatcher[] = [];
    const timers: NodeJS.Timeout[] = [];
    let over = false;
    const end = (how: WaitEnd): void => {
      if (over) return;
      over = true;
      for (const w of watchers) w.close();
      for (const t of timers) clearTimeout(t);
      resolve(how);
    };
    const check = (i: number): void => {
      if (over || done[i]) return;
      let look: Look;
      try {
        look = looker.look(dirs[i], opts.state, opts.before?.[i]);
      } catch (e) {
        end({ kind: 'failed', what: 'unable to set directory', cause: e });
        return;
      }
      if (look.kind === 'failed') {
        end(look);
        return;
      }
      if (typeof look.reached === 'number') {
        timers.push(setTimeout(() => check(i), look.reached));
        return;
      }
      if (!look.reached) return;
      done[i] = true;
      if (!opts.all || done.every((d) => d)) end({ kind: 'reached' });
    };
    const checkAll = (): void => {
      for (let i = 0; i < dirs.length && !over; i++) check(i);
    };
    // watch first, then read: no change falls between the two
    for (let i = 0; i < dirs.length; i++) {
      try {
        const w = fs.watch(fsPath(`${dirs[i]}/supervise`), { persistent: true }, () => check(i));
        w.on('error', () => undefined);
        watchers.push(w);
      } catch {
        // no supervise/ yet, or no inotify: the first read says why, the safety net does the rest
      }
    }
    checkAll();
    if (over) return;
    opts.onWaiting?.();
    const net = setInterval(checkAll, RECHECK_MS);
    timers.push(net);
    if (opts.timeoutMs > 0) timers.push(setTimeout(() => end({ kind: 'timeout' }), opts.timeoutMs));
  });
}

/** The status of each dir as it is now (undefined where it cannot be read), for `before`. */
export function seenNow(dirs: readonly string[]): Array<Seen | undefined> {
  let looker: Looker;
  try {
    looker = Looker.open();
  } catch {
    return dirs.map(() => undefined);
  }
  return dirs.map((dir) => {
    const look = looker.look(dir, 'u');
    return look.kind === 'seen' ? look.seen : undefined;
  });
}

/** Parses a timeout in ms as s6 does (digits only); undefined when malformed. */
export function parseTimeout(text: string): number | undefined {
  return /^[0-9]+$/.test(text) ? Number(text) : undefined;
}

/** s6-svwait's exit code when the time is up. */
export const EXIT_TIMEOUT = 99;

/** Waits as waitStates does, then exits: 0 reached, 99 `fatal: timed out`, 111 with the failure. */
export async function waitAndExit(diag: Diag, dirs: readonly string[], opts: WaitOptions): Promise<never> {
  const end = await waitStates(dirs, opts);
  if (end.kind === 'timeout') diag.fatal('timed out', undefined, EXIT_TIMEOUT);
  if (end.kind === 'failed') diag.fatal(end.what, end.cause);
  process.exit(0);
}
