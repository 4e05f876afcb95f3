// svscan [dir]: starts and keeps one supervise per service directory in dir.
import { ignoreForOurselves } from '../lib/exec/pass-on';
import { Diag } from '../lib/os/errors';
import { answerHelp } from '../lib/os/help';
import { captureLimits } from '../lib/exec/limits';
import { showAs } from '../lib/os/proctitle';
import { byteArgs, rawArgs } from '../lib/os/raw-argv';
import { chdirBytes } from '../lib/control/cwd';
import { Scanner } from '../lib/scan/scanner';
import { trimHeap } from '../lib/os/heap-trim';

captureLimits();
const args = process.argv.slice(2);
answerHelp('svscan', args, {
  usage: 'svscan [--host] [dir]',
  description:
    'Starts `supervise NAME` for every subdirectory NAME of dir (default: the current directory) whose name does ' +
    'not start with a dot, and `supervise log` in NAME with a pipe from NAME to NAME/log when NAME/log exists. ' +
    'A supervise that exits is started again. New and removed entries are noticed within a fraction of a second; ' +
    'the whole directory is rescanned every 5 seconds (and only then with SVSCAN_NOWATCH=1 in the environment). On SIGTERM (and, as PID 1, SIGINT) every service is brought ' +
    'down (svc -dx, log services last) and svscan exits. With --host (beyond daemontools 0.76), svscan supervises ' +
    'every service itself, through the same supervise/ files, instead of starting a supervise process for each.',
});
// 'latin1': names are byte strings (lib/os/raw-argv.ts), printed as the bytes they are
const diag = new Diag('svscan', 'latin1');
// Node would open its inspector on SIGUSR1 (ARCHITECTURE.md pitfall 8).
process.on('SIGUSR1', () => undefined);
// signals our caller ignored (nohup) stay ignored for us too, as for the C one
ignoreForOurselves();

const words = byteArgs(2);
const host = words[0] === '--host';
if (host) words.shift();
const dir = words[0];
// ps, pidof, pgrep see `svscan dir`
showAs('svscan', rawArgs(2));
if (dir !== undefined) {
  try {
    chdirBytes(dir);
  } catch (e) {
    diag.fatal(`unable to chdir to ${dir}`, e);
  }
}

const GRACE_MS = 20000;
const DRAIN_MS = 3000;

// SVSCAN_NOWATCH=1: the 5-second rescan alone, as the C svscan (where inotify is unavailable or unwanted)
const scanner = new Scanner({ diag, host, watchDelayMs: process.env.SVSCAN_NOWATCH ? 0 : undefined, afterRescan: trimHeap });
// a host holds every service: a fault in the handling of one must not end it
if (host) process.on('uncaughtException', (e) => diag.warn(`internal error: ${String(e)}`));
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  scanner.stop({ graceMs: GRACE_MS, drainMs: DRAIN_MS }).then((left) => {
    if (left.length) diag.warn(`still running after ${GRACE_MS / 1000} seconds: ${left.join(' ')}`);
    process.exit(0);
  }, () => process.exit(111));
};
process.on('SIGTERM', stop);
if (process.pid === 1) {
  process.on('SIGINT', stop);
  // loaded only here: koffi is not needed otherwise
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { reapOrphans } = require('../lib/os/child-exits') as typeof import('../lib/os/child-exits');
  reapOrphans((pid) => scanner.pids().includes(pid));
}
scanner.start();
