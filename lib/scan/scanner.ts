// The svscan loop: one Scanner object watches the current directory (the
// caller chdirs into the scanned directory first) and keeps one `supervise`
// process per service, plus one per log service, each connected to its
// service by a pipe that lives as long as the service is known. In host
// mode the supervisors run in this process instead (scan-host.ts).
// Names are byte strings (latin1, lib/os/raw-argv.ts), as the C svscan
// takes them: a name that is not UTF-8 is supervised and printed as its
// bytes.
import fs from 'node:fs';
import { Diag, errnoCode, reason, writeStderr } from '../os/errors';
import type { Std } from '../exec/pass-on';
import { spawnWithLimits } from '../exec/limits';
import { spawnChild } from '../exec/spawn-child';
import { cBytes, fsPath } from '../os/raw-argv';
import { isSupervised } from '../control/service';
import * as sys from '../os/sys';
import { watchEntries, EntryWatch } from './watch';
import { Hosted } from './host';
import { SetupError } from '../supervise/files';
import { recoverLogPipe } from '../supervise/adopt';

export interface ScannerOptions {
  diag: Diag;
  /** Periodic rescan, the safety net (the original's 5 seconds). */
  rescanMs?: number;
  /** Delay between a watcher event and the rescan it triggers; 0 disables the watcher. */
  watchDelayMs?: number;
  /** The program started for each service, found through PATH. */
  supervise?: string;
  /** Host mode: supervise every service in this process, start no supervise. */
  host?: boolean;
  /** Called after each periodic rescan (the one wakeup an idle svscan has). */
  afterRescan?: () => void;
}

export interface StopOptions {
  /** Longest wait for every supervise to exit. */
  graceMs: number;
  /** How long a log service may take to drain its pipe to EOF before it is told to go down. */
  drainMs: number;
}

type Kind = 'main' | 'log';

/** A supervise process we started. */
interface Spawned {
  pid: number;
}

/** What supervises one side of a service: a supervise process we started, or a supervisor hosted here. */
type Side = Spawned | Hosted;

class Service {
  active = true;
  main?: Side;
  log?: Side;
  /** Host mode: sides whose lock another process holds, warned about once. */
  readonly lockWarned = new Set<Kind>();
  /** [read end, write end]; only for services with a log. */
  pipe?: [number, number];
  mainTold = false;
  logToldAt?: number;
  logToldDown = false;

  constructor(public name: string, public readonly key: string, public readonly hasLog: boolean) {}

  running(kind: Kind): Side | undefined {
    return kind === 'main' ? this.main : this.log;
  }

  label(kind: Kind): string {
    return kind === 'main' ? this.name : `${this.name}/log`;
  }

  /** The service directory: through our supervisor's hold on it when we have one (it survives a rename). */
  dir(kind: Kind): string {
    const side = this.running(kind);
    if (side instanceof Hosted) return side.dir;
    if (side) return `/proc/${side.pid}/cwd`;
    return this.label(kind);
  }

  /**
   * Control bytes for this side: straight to a supervisor hosted here (so a
   * deleted control FIFO cannot hold the tree's stop), else through its
   * control FIFO. False when nobody took them.
   */
  tell(kind: Kind, bytes: string): boolean {
    const side = this.running(kind);
    if (side instanceof Hosted) {
      side.command(bytes);
      return true;
    }
    return sendControl(this.dir(kind), bytes);
  }

  /** Whether a supervise runs for this side: ours, or one found through its ok FIFO. */
  up(kind: Kind): boolean {
    if (this.running(kind)) return true;
    return this.active && isSupervised(fsPath(this.label(kind)));
  }

  closePipe(end: 0 | 1 | 'both'): void {
    if (!this.pipe) return;
    for (const i of end === 'both' ? [0, 1] : [end]) {
      if (this.pipe[i] < 0) continue;
      try {
        sys.close(this.pipe[i]);
      } catch {
        // already closed: nothing to release
      }
      this.pipe[i] = -1;
    }
  }
}

/**
 * The entries of dir in the order readdir(3) returns them, as the C svscan
 * sees them (fs.readdirSync sorts): of two names for one service, the
 * first in this order names its supervise. Names as byte strings.
 */
export function readdirInOrder(dir: string): string[] {
  const d = fs.opendirSync(dir, { bufferSize: 128, encoding: 'latin1' });
  const names: string[] = [];
  try {
    for (let e = d.readSync(); e; e = d.readSync()) names.push(e.name);
  } finally {
    d.closeSync();
  }
  return names;
}

/**
 * fn on a path to the directory dir names (a byte string): dir itself when
 * it is UTF-8, else /proc/self/fd/N of a descriptor held for the call, for
 * helpers that take paths as text. `otherwise` when it cannot be opened.
 */
function atDir<T>(dir: string, fn: (path: string) => T, otherwise: T): T {
  const p = fsPath(dir);
  if (typeof p === 'string') return fn(p);
  let fd: number;
  try {
    fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  } catch {
    return otherwise;
  }
  try {
    return fn(`/proc/self/fd/${fd}`);
  } finally {
    fs.closeSync(fd);
  }
}

/** Writes control bytes to DIR/supervise/control without blocking; false if no supervise reads it. */
function sendControl(dir: string, bytes: string): boolean {
  try {
    const fd = fs.openSync(fsPath(`${dir}/supervise/control`), fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    try {
      fs.writeSync(fd, bytes);
    } finally {
      fs.closeSync(fd);
    }
    return true;
  } catch {
    return false;
  }
}

export class Scanner {
  private readonly services = new Map<string, Service>();
  private readonly diag: Diag;
  private readonly rescanMs: number;
  private readonly watchDelayMs: number;
  private readonly supervise: string;
  private readonly hostMode: boolean;
  private readonly afterRescan: () => void;
  private interval?: NodeJS.Timeout;
  private watch?: EntryWatch;
  private stopping = false;
  /**
   * Warnings printed since the last periodic scan. A scan the watcher asks
   * for prints only new ones, so a persistent problem (a dangling symlink,
   * say) is reported once per period, as by the C svscan, however often
   * entries come and go.
   */
  private readonly warned = new Set<string>();
  private quiet = false;

  constructor(opts: ScannerOptions) {
    this.diag = opts.diag;
    this.rescanMs = opts.rescanMs ?? 5000;
    this.watchDelayMs = opts.watchDelayMs ?? 100;
    this.supervise = opts.supervise ?? 'supervise';
    this.hostMode = opts.host ?? false;
    this.afterRescan = opts.afterRescan ?? (() => undefined);
  }

  /** Scans now, then every rescanMs and whenever the watcher sees an entry come or go. */
  start(): void {
    this.scan();
    this.interval = setInterval(() => {
      this.scan();
      this.afterRescan();
    }, this.rescanMs);
    if (this.watchDelayMs > 0) {
      try {
        this.watch = watchEntries(process.cwd(), this.watchDelayMs, () => this.scan(false), () => {
          // the periodic rescan goes on: the watcher is only a hint
          this.watch = undefined;
        });
      } catch {
        this.watch = undefined;
      }
    }
  }

  /** The pids of our children: the supervise processes this scanner started, or in host mode every ./run. */
  pids(): number[] {
    const out: number[] = [];
    for (const s of this.services.values()) {
      for (const side of [s.main, s.log]) {
        // an adopted ./run is no child of ours: the reaper takes it when it is re-parented here
        const pid = side instanceof Hosted ? side.childPid : side?.pid;
        if (pid) out.push(pid);
      }
    }
    return out;
  }

  /**
   * A periodic scan (`full`) starts every missing supervise, as the C
   * svscan's scan does every 5 seconds. A scan the watcher asks for starts
   * those of services seen for the first time only: a supervise that exits
   * at once (a `log` that is a file, say) is restarted at the C tool's pace.
   */
  scan(full = true): void {
    if (this.stopping) return;
    if (full) this.warned.clear();
    this.quiet = !full;
    let names: string[];
    try {
      names = readdirInOrder('.');
    } catch (e) {
      this.warn('unable to read directory', e);
      return;
    }
    const known = new Set(this.services.values());
    for (const s of known) s.active = false;
    for (const name of names) {
      if (name.startsWith('.')) continue;
      try {
        this.found(name);
      } catch (e) {
        this.warn(`unable to start ${name}`, e);
      }
    }
    for (const s of this.services.values()) {
      try {
        if (!s.active) this.forgetIfGone(s);
        else if (full || !known.has(s)) this.startMissing(s);
      } catch (e) {
        this.warn(`unable to start ${s.name}`, e);
      }
    }
  }

  /** diag.warn, except for a repeat in a watcher's scan (see `warned`). */
  private warn(what: string, err?: unknown): void {
    const key = `${what}\0${errnoCode(err) ?? ''}`;
    if (this.quiet && this.warned.has(key)) return;
    this.warned.add(key);
    this.diag.warn(what, err);
  }

  private found(name: string): void {
    let id: sys.FileIdentity;
    try {
      id = sys.fileIdentity(cBytes(name));
    } catch (e) {
      this.warn(`unable to stat ${name}`, e);
      return;
    }
    if (!id.directory) return;
    const key = id.key;
    const known = this.services.get(key);
    if (known) {
      if (!known.active) known.name = name; // the first name in directory order wins
      known.active = true;
      return;
    }
    // The original checks for `log` only here, when it first sees a
    // service, and takes any entry it can stat.
    let hasLog = false;
    try {
      fs.statSync(fsPath(`${name}/log`));
      hasLog = true;
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') {
        this.warn(`unable to stat ${name}/log`, e);
        return;
      }
    }
    const s = new Service(name, key, hasLog);
    if (hasLog) {
      try {
        // beyond 0.76: the pipe of a service whose processes outlived the
        // svscan before us (a killed host) is taken back from them, so that
        // nothing written is lost and later restarts use that same pipe
        s.pipe = atDir(name, recoverLogPipe, undefined) ?? sys.pipe2(sys.O_CLOEXEC);
      } catch (e) {
        this.warn(`unable to create pipe for ${name}`, e);
        return;
      }
    }
    this.services.set(key, s);
  }

  private startMissing(s: Service): void {
    if (!s.up('main')) this.spawnSupervise(s, 'main');
    if (s.hasLog && !s.up('log')) this.spawnSupervise(s, 'log');
  }

  private spawnSupervise(s: Service, kind: Kind): void {
    const label = s.label(kind);
    const pipe = s.pipe;
    const std: [Std, Std, Std] = kind === 'main'
      ? ['inherit', pipe ? pipe[1] : 'inherit', 'inherit']
      : [pipe ? pipe[0] : 'inherit', 'inherit', 'inherit'];
    if (this.hostMode) {
      this.host(s, kind, std);
      return;
    }
    // posix_spawn (spawnChild), not child_process: its argv is bytes, so a
    // name that is not UTF-8 reaches supervise as the C svscan passes it
    const argv = [this.supervise, kind === 'main' ? s.name : 'log'];
    const child: Spawned = { pid: 0 };
    const gone = (): void => {
      if (kind === 'main' ? s.main !== child : s.log !== child) return;
      if (kind === 'main') s.main = undefined;
      else s.log = undefined;
      if (!s.active) this.forgetIfGone(s);
    };
    try {
      const cwd = kind === 'main' ? undefined : s.name;
      child.pid = spawnWithLimits(argv, (a) => spawnChild(a, { cwd, stdio: std, search: true }, gone));
    } catch (e) {
      // posix_spawn reports the fork's errors and the exec's alike
      const forking = errnoCode(e) === 'EAGAIN' || errnoCode(e) === 'ENOMEM';
      this.warn(forking ? `unable to fork for ${label}` : `unable to start supervise ${label}`, e);
      return;
    }
    if (kind === 'main') s.main = child;
    else s.log = child;
  }

  /**
   * Host mode: the side's supervisor runs here. A directory whose lock
   * another process holds (a supervise, another host) is left to it, with
   * one warning, not one per scan.
   */
  private host(s: Service, kind: Kind, stdio: [Std, Std, Std]): void {
    const label = s.label(kind);
    let hosted: Hosted;
    try {
      hosted = new Hosted(label, label, stdio, () => {
        if (s.running(kind) !== hosted) return;
        if (kind === 'main') s.main = undefined;
        else s.log = undefined;
        if (!s.active) this.forgetIfGone(s);
      });
    } catch (e) {
      if (e instanceof SetupError && e.what.endsWith('/supervise/lock')) {
        if (!s.lockWarned.has(kind)) this.diag.warn(`${e.what} held by another process: left to it`);
        s.lockWarned.add(kind);
        return;
      }
      if (e instanceof SetupError) writeStderr(`supervise: fatal: ${e.what}: ${reason(e.cause)}\n`, 'latin1');
      else this.warn(`unable to supervise ${label}`, e);
      return;
    }
    s.lockWarned.delete(kind);
    if (kind === 'main') s.main = hosted;
    else s.log = hosted;
  }

  /** A service whose directory went away is forgotten once no supervise of ours runs for it. */
  private forgetIfGone(s: Service): void {
    if (s.active || s.main || s.log) return;
    if (this.stopping) return;
    s.closePipe('both');
    this.services.delete(s.key);
  }

  /**
   * Brings every service down, like `svc -dx` on each, log services last:
   * once a service's supervise has exited, the pipe's last write end (ours)
   * is closed so the log service reads to EOF, and its supervise is told to
   * exit when it is down; a log that has not drained after drainMs is told
   * to go down. Resolves when everything is gone or after graceMs, with the
   * names still running.
   */
  async stop(opts: StopOptions): Promise<string[]> {
    this.stopping = true;
    if (this.interval) clearInterval(this.interval);
    this.watch?.close();
    const deadline = Date.now() + opts.graceMs;
    for (;;) {
      const left: string[] = [];
      const now = Date.now();
      for (const s of this.services.values()) {
        if (s.up('main')) {
          // retried: a supervise just started may not have its FIFO yet
          if (!s.mainTold) s.mainTold = s.tell('main', 'dx');
          left.push(s.label('main'));
          continue;
        }
        if (!s.hasLog) continue;
        if (!s.up('log')) {
          s.closePipe(1);
          continue;
        }
        left.push(s.label('log'));
        if (s.logToldAt === undefined) {
          // `x` first, EOF on a later pass: a log that saw EOF before `x`
          // would be started once more
          if (s.tell('log', 'x')) s.logToldAt = now;
        } else {
          s.closePipe(1);
          if (!s.logToldDown && now - s.logToldAt >= opts.drainMs) s.logToldDown = s.tell('log', 'dx');
        }
      }
      if (left.length === 0 || now >= deadline) {
        for (const s of this.services.values()) s.closePipe('both');
        return left;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
