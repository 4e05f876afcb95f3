// The supervise state machine for one service: starts ./run, restarts it
// (at most once a second), obeys the bytes written to supervise/control and
// keeps supervise/status up to date. One object per service, no module
// state, so that one process could run several.
//
// Idle, it costs no wakeup: the control FIFO is read as a libuv pipe
// stream, the child's exit arrives with SIGCHLD (lib/os/child-exits.ts), and a
// timer exists only while a start waits out the one-second rule.
//
// Beyond 0.76, each opt-in through a file of the service directory
// (lib/supervise/settings.ts): ./finish after each exit of ./run, a
// down-signal and a timeout-kill for `d`, readiness through a
// notification-fd, and back-off (start-secs, backoff-max, start-retries).
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { reason } from '../os/errors';
import type { Std } from '../exec/pass-on';
import { spawnWithLimits } from '../exec/limits';
import { spawnChild } from '../exec/spawn-child';
import { reapExited, type ChildExit } from '../os/child-exits';
import { encodeStatus, Want } from './status';
import { format, fromDate, now, Tai64n } from '../tai64';
import { Adopted, adoptRunning, clearRecord, recordWhenStarted } from './adopt';
import { checkExecutable, checkFormat } from './runnable';
import { serviceSettings, Settings } from './settings';
import { Notification, notificationPipe } from './readiness';
import { killLeader } from './kill';
import {
  closeFds, openLockAndControl, openOk, ServiceInfo, SuperviseFds, writeInfoFile, writeStatusFile,
} from './files';

export { SetupError } from './files';

/** At least this long between two starts of ./run. */
const RESTART_MS = 1000;

/** The control bytes that only send a signal to the service. */
const SIGNAL_BYTES: Record<string, NodeJS.Signals> = {
  a: 'SIGALRM',
  h: 'SIGHUP',
  i: 'SIGINT',
  k: 'SIGKILL',
  t: 'SIGTERM',
  // beyond 0.76 (daemontools-encore's letters)
  q: 'SIGQUIT',
  '1': 'SIGUSR1',
  '2': 'SIGUSR2',
  w: 'SIGWINCH',
};

export interface SupervisorOptions {
  /** The service directory: where supervise/ is, and ./run's working directory. */
  dir: string;
  /** How the directory is named in messages (the argument as given). */
  label: string;
  /** Writes one diagnostic line (newline included); must never throw. */
  log: (line: string) => void;
  /** Called once, when `x` was received and the service is down. */
  onExit: () => void;
  /** The program name in messages. */
  prog?: string;
  /** ./run's stdin, stdout, stderr (default: ours). svscan's host mode gives a service its log pipe here. */
  stdio?: [Std, Std, Std];
}

export class Supervisor {
  private readonly dir: string;
  private readonly label: string;
  private readonly prog: string;
  private readonly log: (line: string) => void;
  private readonly onExit: () => void;
  private readonly stdio: [Std, Std, Std];

  private want: Want = 'up';
  private paused = false;
  private exitRequested = false;
  private finished = false;
  /** The pid of ./run (or of the stand-in) while it is our child and its exit not yet seen. */
  private child = 0;
  /** A ./run left running by a supervisor before us, watched until it exits (lib/supervise/adopt.ts). */
  private adopted: Adopted | undefined;
  private pid = 0;
  /** The child is standIn(), not ./run: its exit is not the service's. */
  private standingIn = false;
  private when: Tai64n = now();
  /** performance.now() of the last start attempt (-Infinity: none yet). */
  private lastStart = -Infinity;
  private startTimer: NodeJS.Timeout | undefined;
  /** Set while an exit of ./run waits for the end of the second after its start. */
  private exitTimer: NodeJS.Timeout | undefined;
  private fds: Partial<SuperviseFds> = {};
  private readonly info: ServiceInfo = { supervise: process.pid, starts: 0, failures: 0, lastExit: null };
  private control: net.Socket | undefined;
  /** The status record last written, while that write succeeded. */
  private lastStatus: Buffer | undefined;
  private infoWrites = 0;
  private stopPolling: (() => void) | undefined;
  private readonly settings: Settings;
  /** The pid of ./finish while it runs (./run is down meanwhile). */
  private finishPid = 0;
  private finishTimer: NodeJS.Timeout | undefined;
  /** Armed by `d` when timeout-kill is set: SIGKILL for a ./run that did not stop. */
  private killTimer: NodeJS.Timeout | undefined;
  private notification: Notification | undefined;
  /** performance.now() of the last exit of ./run (for start-secs). */
  private exitedAt = -Infinity;
  /** Whether the control bytes being handled sent ./run a signal. */
  private signalled = false;
  private failedInRow = 0;

  constructor(opts: SupervisorOptions) {
    this.dir = opts.dir;
    this.label = opts.label;
    this.prog = opts.prog ?? 'supervise';
    this.log = opts.log;
    this.onExit = opts.onExit;
    this.stdio = opts.stdio ?? ['inherit', 'inherit', 'inherit'];
    this.settings = serviceSettings(this.dir, (file, text) =>
      this.log(`${this.prog}: warning: bad value in ${this.label}/${file}: ${JSON.stringify(text)}: ignored\n`));
  }

  /**
   * Takes the service directory over (lock, FIFOs, first status) and
   * starts ./run unless the wish is down. Throws SetupError, with the C
   * tool's words, when the directory cannot be supervised.
   */
  open(initialWant: Want): void {
    this.want = initialWant;
    const { lock, controlRead, controlWrite } = openLockAndControl(this.dir, this.label);
    this.fds = { lock, controlRead, controlWrite };
    this.when = now();
    this.takeOver();
    this.announce();
    try {
      this.fds.ok = openOk(this.dir, this.label);
    } catch (e) {
      this.close();
      throw e;
    }
    this.listen(controlRead);
    const infoWrites = this.infoWrites;
    if (this.want === 'up' && !this.adopted) this.requestStart();
    // a start has written it already
    if (this.infoWrites === infoWrites) this.saveInfo();
    // the C supervise writes the status once more as its command loop
    // begins (the same record: a status that cannot be written is warned
    // about each time, one just written needs no second copy)
    this.announce(true);
  }

  /** Releases every fd (and the lock). The service, if running, is left alone. */
  close(): void {
    this.finished = true;
    this.cancelStart();
    if (this.exitTimer) clearTimeout(this.exitTimer);
    this.exitTimer = undefined;
    this.stopPolling?.();
    if (this.finishTimer) clearTimeout(this.finishTimer);
    this.clearKillTimer();
    this.notification?.cancel();
    this.notification = undefined;
    this.adopted?.cancel();
    this.adopted = undefined;
    if (this.control) {
      this.control.destroy(); // closes controlRead
      this.fds.controlRead = undefined;
      this.control = undefined;
    }
    closeFds([this.fds.ok, this.fds.controlWrite, this.fds.controlRead, this.fds.lock]);
    this.fds = {};
  }

  /** The pid of ./run, 0 when down. */
  get servicePid(): number {
    return this.pid;
  }

  /** The pid of ./run when it is our child (not adopted, see takeOver), else 0. */
  get childPid(): number {
    return this.child;
  }

  /**
   * Beyond 0.76: the ./run a supervisor before us left running (killed
   * while it ran) is the service: up since it started, with the wish and
   * pause the status gave it, watched until it exits; no second copy.
   */
  private takeOver(): void {
    const adopted = adoptRunning(this.dir, () => this.adoptedExited(adopted!));
    if (!adopted) return;
    this.adopted = adopted;
    this.info.adopted = adopted.pid;
    this.pid = adopted.pid;
    this.when = adopted.when;
    this.paused = adopted.status ? adopted.status.paused : adopted.stopped;
    if (adopted.status) this.want = adopted.status.want;
    // the one-second rule counts from its start
    this.lastStart = performance.now() - adopted.ageMs;
  }

  private adoptedExited(adopted: Adopted): void {
    if (this.adopted !== adopted) return;
    this.adopted = undefined;
    delete this.info.adopted;
    this.exitedAt = performance.now();
    this.afterSecond(() => this.down(null, null, true));
  }

  private listen(fd: number): void {
    if (!fs.fstatSync(fd).isFIFO()) {
      this.pollControl(fd);
      return;
    }
    const sock = new net.Socket({ fd, readable: true, writable: false });
    sock.on('data', (chunk: Buffer) => this.controlBytes(chunk));
    // Cannot happen while we hold a write end; never let it kill supervise.
    sock.on('error', () => undefined);
    this.control = sock;
  }

  /**
   * A control that is not a FIFO (a regular file left in its place): the C
   * supervise goes on, reading whatever gets appended to it (in a busy
   * loop); here it is read once a second.
   */
  private pollControl(fd: number): void {
    const buf = Buffer.alloc(64);
    const poll = (): void => {
      let n: number;
      try {
        while (!this.finished && (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) this.controlBytes(buf.subarray(0, n));
      } catch {
        // unreadable: nothing to act on
      }
    };
    const timer = setInterval(poll, RESTART_MS);
    this.stopPolling = () => clearInterval(timer);
    setImmediate(poll);
  }

  /** Acts on control bytes in order; unknown bytes are ignored. */
  commands(bytes: Buffer): void {
    this.signalled = false;
    for (let i = 0; i < bytes.length && !this.finished; i++) this.command(String.fromCharCode(bytes[i]));
  }

  /**
   * Bytes read from supervise/control. A ./run they signalled has often
   * ended by the time the status is written: its exit is handled now,
   * rather than after a round of the event loop for its SIGCHLD (a wakeup
   * of this process, which costs Node about 1 ms here after an idle spell).
   */
  private controlBytes(bytes: Buffer): void {
    this.commands(bytes);
    if (this.signalled) reapExited();
  }

  private command(c: string): void {
    switch (c) {
      case 'd':
        this.want = 'down';
        this.cancelStart();
        if (this.pid) {
          this.signal(this.settings.downSignal());
          this.signal('SIGCONT');
          this.paused = false;
          this.armKillTimer();
        }
        this.announce();
        return;
      case 'u':
      case 'o':
        this.want = c === 'u' ? 'up' : 'once';
        // a service given up on starts anew, its count from zero
        if (c === 'u' && (this.failedInRow || this.info.gaveUp)) this.resetFailures();
        if (this.pid) {
          this.announce();
          return;
        }
        this.requestStart();
        // a start made at once has written its record (its pid, the new want): one write, not two
        if (!this.started) this.announce();
        return;
      case 'p':
        this.paused = true;
        this.announce();
        if (this.pid) this.signal('SIGSTOP');
        return;
      case 'c':
        this.paused = false;
        this.announce();
        if (this.pid) this.signal('SIGCONT');
        return;
      case 'x':
        this.exitRequested = true;
        this.announce();
        // ./finish, when it runs, is waited for
        if (!this.pid && !this.finishPid) this.finish();
        return;
      default: {
        const sig = SIGNAL_BYTES[c];
        if (sig && this.pid) this.signal(sig);
      }
    }
  }

  private signal(sig: NodeJS.Signals): void {
    // an exit still to be reported (exited()): nothing left to signal
    if (!this.child && !this.adopted) return;
    this.signalled = true;
    try {
      process.kill(this.pid, os.constants.signals[sig]);
    } catch {
      // already gone: its exit is on the way
    }
  }

  /** Writes the status; `unlessWritten`: not when this very record was the last one written, successfully. */
  private announce(unlessWritten = false): void {
    const record = encodeStatus({
      when: this.when,
      pid: this.pid,
      paused: this.pid !== 0 && this.paused,
      want: this.want,
    });
    if (unlessWritten && this.lastStatus?.equals(record)) return;
    const failure = writeStatusFile(this.dir, this.label, record);
    this.lastStatus = failure ? undefined : record;
    if (failure) this.log(`${this.prog}: warning: ${failure.what}: ${reason(failure.cause)}\n`);
  }

  private saveInfo(): void {
    this.infoWrites++;
    writeInfoFile(this.dir, this.info);
  }

  private finish(): void {
    if (this.finished) return;
    this.announce();
    this.close();
    this.onExit();
  }

  private cancelStart(): void {
    if (this.startTimer) clearTimeout(this.startTimer);
    this.startTimer = undefined;
    if (this.info.restartAt !== undefined) {
      delete this.info.restartAt;
      this.saveInfo();
    }
  }

  private resetFailures(): void {
    this.failedInRow = 0;
    delete this.info.failedInRow;
    delete this.info.gaveUp;
    this.saveInfo();
  }

  /** timeout-kill: SIGKILL for this ./run (its process group when it leads one) if it has not exited by then. */
  private armKillTimer(): void {
    const ms = this.settings.timeoutKill();
    if (ms <= 0 || this.killTimer) return;
    const pid = this.pid;
    this.killTimer = setTimeout(() => {
      this.killTimer = undefined;
      if (this.pid === pid && (this.child === pid || this.adopted)) killLeader(pid);
    }, ms);
  }

  private clearKillTimer(): void {
    if (this.killTimer) clearTimeout(this.killTimer);
    this.killTimer = undefined;
  }

  /** Milliseconds until a second has passed since the last start (0 or less: it has). */
  private untilSecondPassed(): number {
    return Math.ceil(this.lastStart + RESTART_MS - performance.now());
  }

  /**
   * The least time between the last start and the next: a second (the 0.76
   * rule), or after the k-th failed start in a row 1, 2, 4... seconds, at
   * most backoff-max.
   */
  private startGapMs(): number {
    if (this.failedInRow === 0) return RESTART_MS;
    const max = this.settings.backoffMaxMs();
    return Math.max(RESTART_MS, Math.min(RESTART_MS * 2 ** Math.min(this.failedInRow - 1, 30), max));
  }

  /** Starts ./run now, or once the gap since the last start has passed; never while ./finish runs. */
  private requestStart(): void {
    if (this.pid || this.startTimer || this.finished || this.finishPid) return;
    const gap = this.startGapMs();
    const wait = Math.ceil(this.lastStart + gap - performance.now());
    if (wait > 0) {
      this.startTimer = setTimeout(() => {
        this.startTimer = undefined;
        if (this.info.restartAt !== undefined) delete this.info.restartAt;
        if (this.want !== 'down') this.requestStart();
      }, wait);
      // beyond the one-second rule: svstat says when
      if (gap > RESTART_MS) {
        this.info.restartAt = format(fromDate(new Date(Date.now() + wait)));
        this.saveInfo();
      }
      return;
    }
    this.start();
  }

  private start(): void {
    this.lastStart = performance.now();
    this.paused = false;
    const notification = this.readinessPipe();
    let pid: number;
    try {
      const extra = notification ? [[notification.pipe.writeEnd, notification.fd] as const] : [];
      pid = this.spawnHere('run', [], extra, (exit) => this.exited(pid, exit));
    } catch (e) {
      notification?.pipe.cancel();
      this.startFailed(e);
      return;
    }
    notification?.pipe.given();
    this.notification = notification?.pipe;
    this.adopt(pid);
    // the second counts from the moment ./run exists, as in C (fork, then sleep)
    this.lastStart = performance.now();
    this.info.starts++;
    this.saveInfo();
    recordWhenStarted(this.dir, pid, () => this.child === pid);
  }

  /**
   * Starts ./PROGRAM (run, finish) of the service directory with what ./run
   * gets: stdio, the caller's limits and ignored signals, descriptors.
   * Returns its pid; throws what keeps it from starting.
   */
  private spawnHere(program: string, args: readonly string[], extra: ReadonlyArray<readonly [number, number]>,
    onExit: (exit: ChildExit) => void): number {
    return spawnWithLimits([`./${program}`, ...args], (argv) => {
      // A shell prefix restores limits Node cannot lower on itself
      // (lib/exec/limits.ts): the program's own errors must still be ours
      // to report. Unprefixed, posix_spawn reports them itself.
      if (argv[0] !== `./${program}`) {
        checkExecutable(`${this.dir}/${program}`);
        checkFormat(this.dir, true, program);
      }
      return spawnChild(argv, { cwd: this.dir, stdio: this.stdio, extra }, onExit);
    });
  }

  /** notification-fd: a pipe for the ./run about to start (undefined: none, or it could not be made). */
  private readinessPipe(): { pipe: Notification; fd: number } | undefined {
    const fd = this.settings.notificationFd();
    if (fd === undefined) {
      delete this.info.notification;
      return undefined;
    }
    this.info.notification = fd;
    try {
      const pipe = notificationPipe(() => {
        if (this.notification !== pipe) return;
        this.notification = undefined;
        this.info.readySince = format(now());
        this.saveInfo();
      });
      return { pipe, fd };
    } catch (e) {
      this.log(`${this.prog}: warning: unable to create the notification pipe for ${this.label}: ${reason(e)}\n`);
      return undefined;
    }
  }

  /** The child pid is the service now: its pid in the status (its exit is watched by whoever spawned it). */
  private adopt(pid: number, standingIn = false): void {
    this.standingIn = standingIn;
    this.child = pid;
    this.pid = pid;
    this.when = now();
    this.announce();
  }

  /**
   * The C supervise forks, and its child reports the failed exec and exits
   * 111; until the one-second sleep is over svstat shows that child's pid
   * as up. Here the report is ours, and a stand-in child that exits 111
   * plays the rest, so that status, svstat and the retry a second later
   * are the same. Without one (no /bin/sh), the attempt is a start that
   * ended at once (down since now).
   */
  private startFailed(err: unknown): void {
    this.log(`${this.prog}: fatal: unable to start ${this.label}/run: ${reason(err)}\n`);
    if (this.finished) return;
    this.info.failures++;
    this.saveInfo();
    const stub = standIn((exit) => this.exited(stub, exit));
    if (stub) {
      this.adopt(stub, true);
      return;
    }
    this.when = now();
    this.announce();
    if (this.exitRequested) {
      this.finish();
      return;
    }
    if (this.want === 'up') this.requestStart();
  }

  /**
   * The C supervise sleeps for the second after each start and only then
   * notices an exit: a ./run that dies at once shows as up (its pid) for
   * that second, so svstat of a crash loop says "up (pid P) 0 seconds".
   * Its exit is reported at the same moment here; commands are still read
   * meanwhile.
   */
  private exited(child: number, exit: ChildExit): void {
    if (this.child !== child) return;
    this.child = 0;
    this.exitedAt = performance.now();
    this.afterSecond(() => this.down(exit.code, exit.signal));
  }

  /** Runs then once a second has passed since the last start (now if it has). */
  private afterSecond(then: () => void): void {
    const wait = this.untilSecondPassed();
    if (wait > 0 && !this.finished) {
      this.exitTimer = setTimeout(() => {
        this.exitTimer = undefined;
        then();
      }, wait);
      return;
    }
    then();
  }

  /** ./run has exited: code and signal unknown when it was adopted. */
  private down(code: number | null, signal: NodeJS.Signals | null, adopted = false): void {
    this.pid = 0;
    this.when = now();
    this.clearKillTimer();
    this.notification?.cancel();
    this.notification = undefined;
    delete this.info.readySince;
    if (this.finished) return;
    this.countStart(adopted);
    const exitSeen = !this.standingIn;
    if (exitSeen) {
      this.info.lastExit = adopted ? { at: format(this.when), code, signal, adopted: true } : { at: format(this.when), code, signal };
    }
    if (this.hasFinish()) {
      // ./finish sees the service down
      this.announce();
      if (this.runFinish(code, signal, adopted)) {
        if (exitSeen) clearRecord(this.dir);
        return;
      }
    }
    this.afterDown(exitSeen);
  }

  /** Whether the last start request started ./run at once (its record, with the pid, written). */
  private get started(): boolean {
    return this.pid !== 0;
  }

  /** What follows the end of ./run (and of ./finish): exit, or the next start. */
  private afterDown(exitSeen: boolean): void {
    const infoWrites = this.infoWrites;
    // the successor first: it is what a crashed service waits for
    if (!this.exitRequested && this.want === 'up') this.requestStart();
    // down, unless a successor started at once has written its own record (the C supervise
    // writes both; the down one is gone before anyone can act on it)
    if (!this.started) this.announce(true);
    if (exitSeen) {
      clearRecord(this.dir);
      // unless a start has written it already
      if (this.infoWrites === infoWrites) this.saveInfo();
    }
    if (this.exitRequested) this.finish();
  }

  /**
   * start-secs and start-retries: a run shorter than start-secs (or a
   * start that failed) is a failed start; after start-retries of them in
   * a row the service is given up (want down) until `svc -u`.
   */
  private countStart(adopted: boolean): void {
    const failed = this.standingIn || (!adopted && this.exitedAt - this.lastStart < this.settings.startMs());
    if (!failed) {
      if (this.failedInRow) {
        this.failedInRow = 0;
        delete this.info.failedInRow;
      }
      return;
    }
    this.failedInRow++;
    this.info.failedInRow = this.failedInRow;
    if (this.want === 'up' && this.failedInRow >= this.settings.startRetries()) {
      this.want = 'down';
      this.info.gaveUp = this.failedInRow;
      this.log(`${this.prog}: warning: ${this.label}: gave up after ${this.failedInRow} failed starts\n`);
    }
  }

  /**
   * ./finish (the directory has one): started with the exit code of
   * ./run (256 when a signal ended it, -1 when unknown: an adopted ./run),
   * the signal's number (or 0) and the directory as named to us; killed
   * after timeout-finish ms. Exit 125: the service stays down. Returns
   * whether it runs (afterDown() follows its end).
   */
  private hasFinish(): boolean {
    return fs.existsSync(`${this.dir}/finish`);
  }

  private runFinish(code: number | null, signal: NodeJS.Signals | null, adopted: boolean): boolean {
    const exitArg = adopted ? '-1' : signal ? '256' : String(code ?? 0);
    const signalArg = signal ? String(os.constants.signals[signal]) : '0';
    let pid: number;
    try {
      pid = this.spawnHere('finish', [exitArg, signalArg, this.label], [], (exit) => this.finishEnded(pid, exit));
    } catch (e) {
      this.log(`${this.prog}: warning: unable to start ${this.label}/finish: ${reason(e)}: skipped\n`);
      return false;
    }
    this.finishPid = pid;
    this.info.finishing = true;
    this.saveInfo();
    const ms = this.settings.timeoutFinish();
    if (ms > 0) this.finishTimer = setTimeout(() => {
      this.finishTimer = undefined;
      if (this.finishPid === pid) killLeader(pid);
    }, ms);
    return true;
  }

  private finishEnded(pid: number, exit: ChildExit): void {
    if (this.finishPid !== pid) return;
    this.finishPid = 0;
    if (this.finishTimer) clearTimeout(this.finishTimer);
    this.finishTimer = undefined;
    delete this.info.finishing;
    if (this.finished) return;
    if (exit.code === 125 && this.want !== 'down') {
      // as in s6: the service stays down
      this.want = 'down';
      this.announce();
    }
    this.afterDown(true);
  }
}

/** A child that exits 111 at once, as the C supervise's child does when ./run cannot be executed; 0 if none could be started. */
function standIn(onExit: (exit: ChildExit) => void): number {
  try {
    return spawnChild(['/bin/sh', '-c', 'exit 111'], { stdio: ['ignore', 'ignore', 'ignore'] }, onExit);
  } catch {
    return 0;
  }
}
