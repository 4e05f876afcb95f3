// supervise dir: starts dir/run and keeps it running, controlled through
// dir/supervise/control (svc), its state in dir/supervise/status (svstat).
import { Diag, EXIT_FAIL, reason, writeStderr } from '../lib/os/errors';
import { byteArgs, rawArgs } from '../lib/os/raw-argv';
import { chdirBytes } from '../lib/control/cwd';
import { answerHelp } from '../lib/os/help';
import { captureLimits } from '../lib/exec/limits';
import { ignoreForOurselves } from '../lib/exec/pass-on';
import { showAs } from '../lib/os/proctitle';
import { SetupError, Supervisor } from '../lib/supervise/supervisor';
import { initialWant } from '../lib/control/service';
import type { Want } from '../lib/supervise/status';

captureLimits();
const args = process.argv.slice(2);
answerHelp('supervise', args, {
  usage: 'supervise dir',
  description: [
    'Starts ./run in the service directory dir (unless dir/down exists) and starts it again whenever it exits, ' +
      'at most once a second. Its state is in dir/supervise/status (read by svstat). A second supervise for the ' +
      'same dir exits 111.',
    '',
    'Each byte written to the FIFO dir/supervise/control (by svc) is a command; other bytes are ignored, and ' +
      'signals go to the pid of ./run only:',
    'u          up: start ./run if it is down, restart it whenever it exits',
    'd          down: send TERM then CONT, do not restart',
    'o          once: start ./run if it is down, do not restart',
    'p          pause: send STOP',
    'c          continue: send CONT',
    'h a i t k  send HUP, ALRM, INT, TERM, KILL',
    'q 1 2 w    send QUIT, USR1, USR2, WINCH (beyond daemontools 0.76)',
    'x          exit as soon as the service is down (svc -dx: stop, then exit)',
    '',
    'supervise itself dies of TERM, HUP, INT and the other signals that terminate by default (the service keeps ' +
      'running), like the C supervise; USR1 is ignored.',
  ].join('\n'),
});
// 'latin1': dir is a byte string (below), so every diagnostic goes out as bytes
const diag: Diag = new Diag('supervise', 'latin1');
// Node would open its inspector on SIGUSR1 (ARCHITECTURE.md pitfall 8).
process.on('SIGUSR1', () => undefined);
// signals our caller ignored stay ignored for supervise itself, as for the C one
ignoreForOurselves();
// supervise must never die of its own bug while it holds a service.
process.on('uncaughtException', (e) => writeStderr(`supervise: warning: internal error: ${String(e)}\n`));

if (args.length !== 1) diag.usage('dir');
// a byte string (lib/os/raw-argv.ts): a name that is not UTF-8 is entered and
// printed as the bytes given
const dir = byteArgs(2)[0];
// ps, pidof, pgrep see `supervise dir` (koffi is loaded anyway: the end of the argv moves now)
showAs('supervise', rawArgs(2));

try {
  chdirBytes(dir);
} catch (e) {
  diag.fatal(`unable to chdir to ${dir}`, e);
}
let want: Want = 'up';
try {
  want = initialWant('.');
} catch (e) {
  diag.fatal(`unable to stat ${dir}/down`, e);
}

const supervisor = new Supervisor({ dir: '.', label: dir, log: (line) => writeStderr(line, 'latin1'), onExit: () => process.exit(0) });
try {
  supervisor.open(want);
} catch (e) {
  if (!(e instanceof SetupError)) diag.fatal(`unable to supervise ${dir}`, e);
  if (!e.bare) diag.fatal(e.what, e.cause);
  writeStderr(`${e.what}: ${reason(e.cause)}\n`, 'latin1');
  process.exit(EXIT_FAIL);
}
