// svscan's host mode: a service's supervisor runs inside svscan instead of
// in a `supervise` process of its own. It is the very Supervisor the
// supervise program runs, on the same files (lock, control and ok FIFOs,
// status, info), so svc, svstat, svok (ours and the C ones) cannot tell.
//
// The directory is reached through a descriptor held open
// (/proc/self/fd/N), as a supervise process holds it as its working
// directory: renamed while hosted, it is still the one supervised.
import fs from 'node:fs';
import { writeStderr } from '../os/errors';
import { fsPath } from '../os/raw-argv';
import type { Std } from '../exec/pass-on';
import { initialWant } from '../control/service';
import { SetupError, Supervisor } from '../supervise/supervisor';

export class Hosted {
  private readonly supervisor: Supervisor;
  private dirFd: number;
  /** Where the service directory is reached while hosted. */
  readonly dir: string;
  private ended = false;

  /**
   * Takes the service directory `path` (named `label` in messages; both
   * byte strings, lib/os/raw-argv.ts) over and starts ./run unless it has a
   * `down` file. Throws SetupError with the
   * supervise program's words when it cannot be supervised (the lock is
   * held, say).
   */
  constructor(path: string, label: string, stdio: [Std, Std, Std], onEnd: () => void) {
    let fd: number;
    try {
      fd = fs.openSync(fsPath(path), fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    } catch (e) {
      throw new SetupError(`unable to chdir to ${label}`, e);
    }
    this.dirFd = fd;
    this.dir = `/proc/self/fd/${fd}`;
    const end = (): void => {
      if (this.ended) return;
      this.ended = true;
      this.closeDir();
      onEnd();
    };
    try {
      const want = initialWant(this.dir);
      this.supervisor = new Supervisor({
        dir: this.dir,
        label,
        stdio,
        // in the supervise program's words, as the tree of processes would print them
        log: (line) => writeStderr(line, 'latin1'),
        onExit: end,
      });
      this.supervisor.open(want);
    } catch (e) {
      this.closeDir();
      if (e instanceof SetupError) throw e;
      throw new SetupError(`unable to stat ${label}/down`, e);
    }
  }

  /** Acts on control bytes as if written into supervise/control. */
  command(bytes: string): void {
    this.supervisor.commands(Buffer.from(bytes, 'latin1'));
  }

  /** The pid of ./run (0 when down). */
  get servicePid(): number {
    return this.supervisor.servicePid;
  }

  /** The pid of ./run when it is a child of this process (0 when down or adopted). */
  get childPid(): number {
    return this.supervisor.childPid;
  }

  private closeDir(): void {
    if (this.dirFd < 0) return;
    try {
      fs.closeSync(this.dirFd);
    } catch {
      // already closed
    }
    this.dirFd = -1;
  }
}
