// svscan as PID 1 (a container's init): orphans are re-parented to it and
// must be reaped, without taking the exit status of the supervise children
// that Node itself waits for (libuv waits for each of its pids by number).
import * as sys from '../os/sys';

/**
 * Reaps every terminated child that isOurs() does not claim, at each
 * SIGCHLD and every intervalMs (a signal can be coalesced). Returns a stop
 * function.
 */
export function reapOrphans(isOurs: (pid: number) => boolean, intervalMs = 1000): () => void {
  const reap = (): void => {
    for (;;) {
      const pid = sys.peekExitedChild();
      // one of ours first in line: libuv reaps it on its own SIGCHLD pass
      if (pid <= 0 || isOurs(pid)) return;
      if (!sys.reapChild(pid)) return;
    }
  };
  const timer = setInterval(reap, intervalMs);
  process.on('SIGCHLD', reap);
  return () => {
    clearInterval(timer);
    process.off('SIGCHLD', reap);
  };
}
