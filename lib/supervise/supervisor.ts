// The supervise state machine for one service: starts ./run, restarts it
// (at most once a second), obeys the bytes written to supervise/control and
// keeps supervise/status up to date. One object per service, no module
// state, so that one process could run several.
//
// Idle, it costs no wakeup: the control FIFO is read as a libuv pipe
// stream, the child's exit arrives with SIGCHLD (lib/os/child-exits.ts), and a
// timer exists only while a start waits out the one-second rule.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import { reason } from '../os/errors';
import { keepIgnored, Std } from '../exec/pass-on';
import { spawnWithLimits } from '../exec/limits';
import { spawnChild } from '../exec/spawn-child';
import type { ChildExit } from '../os/child-exits';
import { encodeStatus, Want } from './status';
import { format, now, Tai64n } from '../tai64';
import { Adopted, adoptRunning, clearRecord, recordWhenStarted } from './adopt';
import { checkExecutable, checkFormat } from './runnable';
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

  constructor(opts: SupervisorOptions) {
    this.dir = opts.dir;
    this.label = opts.label;
    this.prog = opts.prog ?? 'supervise';
    this.log = opts.log;
    this.onExit = opts.onExit;
    this.stdio = opts.stdio ?? ['inherit', 'inherit', 'inherit'];
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
    this.afterSecond(() => this.down(null, null, true));
  }

  private listen(fd: number): void {
    if (!fs.fstatSync(fd).isFIFO()) {
      this.pollControl(fd);
      return;
    }
    const sock = new net.Socket({ fd, readable: true, writable: false });
    sock.on('data', (chunk: Buffer) => this.commands(chunk));
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
        while (!this.finished && (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) this.commands(buf.subarray(0, n));
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
    for (let i = 0; i < bytes.length && !this.finished; i++) this.command(String.fromCharCode(bytes[i]));
  }

  private command(c: string): void {
    switch (c) {
      case 'd':
        this.want = 'down';
        this.cancelStart();
        if (this.pid) {
          this.signal('SIGTERM');
          this.signal('SIGCONT');
          this.paused = false;
        }
        this.announce();
        return;
      case 'u':
      case 'o':
        this.want = c === 'u' ? 'up' : 'once';
        this.announce();
        if (!this.pid) this.requestStart();
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
        if (!this.pid) this.finish();
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
  }

  /** Milliseconds until a second has passed since the last start (0 or less: it has). */
  private untilSecondPassed(): number {
    return Math.ceil(this.lastStart + RESTART_MS - performance.now());
  }

  /** Starts ./run now, or once a second has passed since the last start. */
  private requestStart(): void {
    if (this.pid || this.startTimer || this.finished) return;
    const wait = this.untilSecondPassed();
    if (wait > 0) {
      this.startTimer = setTimeout(() => {
        this.startTimer = undefined;
        if (this.want !== 'down') this.requestStart();
      }, wait);
      return;
    }
    this.start();
  }

  private start(): void {
    this.lastStart = performance.now();
    this.paused = false;
    let pid: number;
    try {
      pid = spawnWithLimits(keepIgnored(['./run']), (argv) => {
        // A shell prefix restores limits Node cannot lower on itself
        // (lib/exec/limits.ts) or ignored signals (lib/exec/pass-on.ts): ./run's
        // own errors must still be ours to report. Unprefixed, posix_spawn
        // reports them itself.
        if (argv[0] !== './run') {
          checkExecutable(`${this.dir}/run`);
          checkFormat(this.dir, true);
        }
        return spawnChild(argv, { cwd: this.dir, stdio: this.stdio }, (exit) => this.exited(pid, exit));
      });
    } catch (e) {
      this.startFailed(e);
      return;
    }
    this.adopt(pid);
    // the second counts from the moment ./run exists, as in C (fork, then sleep)
    this.lastStart = performance.now();
    this.info.starts++;
    this.saveInfo();
    recordWhenStarted(this.dir, pid, () => this.child === pid);
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
    if (this.finished) return;
    this.announce();
    const exitSeen = !this.standingIn;
    if (exitSeen) {
      this.info.lastExit = adopted ? { at: format(this.when), code, signal, adopted: true } : { at: format(this.when), code, signal };
    }
    const infoWrites = this.infoWrites;
    // the successor first: it is what a crashed service waits for
    if (!this.exitRequested && this.want === 'up') this.requestStart();
    if (exitSeen) {
      clearRecord(this.dir);
      // unless a start has written it already
      if (this.infoWrites === infoWrites) this.saveInfo();
    }
    if (this.exitRequested) this.finish();
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
