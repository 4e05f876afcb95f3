// supervise dir: starts dir/run and keeps it running, controlled through
// dir/supervise/control (svc), its state in dir/supervise/status (svstat).
import fs from 'node:fs';
import { Diag, errnoCode, EXIT_FAIL, writeStderr } from '../lib/errors';
import { answerHelp } from '../lib/help';
import { captureLimits } from '../lib/limits';
import { SetupError, Supervisor } from '../lib/supervisor';

captureLimits();
const args = process.argv.slice(2);
answerHelp('supervise', args, {
  usage: 'supervise dir',
  description:
    'Starts ./run in the service directory dir (unless dir/down exists) and starts it again whenever it exits, ' +
    'at most once a second. Its state is kept in dir/supervise/status (read by svstat); each byte written to the ' +
    'FIFO dir/supervise/control (by svc) is a command: u up (start, restart when it exits); d down (send TERM ' +
    'then CONT, do not restart); o once (start if down, do not restart); p pause (STOP); c continue (CONT); ' +
    'h HUP; a ALRM; i INT; t TERM; k KILL; q QUIT; 1 USR1; 2 USR2; w WINCH (q 1 2 w are beyond daemontools ' +
    '0.76); x exit as soon as the service is down. Other bytes are ignored. Signals go to the pid of ./run ' +
    'only. A second supervise for the same dir exits 111. supervise itself dies of TERM, HUP, INT and the other ' +
    'signals whose default is to terminate (leaving the service running), like the C supervise, except USR1, ' +
    'which it ignores.',
});
const diag = new Diag('supervise');
// Node would open its inspector on SIGUSR1 (ARCHITECTURE.md pitfall 8).
process.on('SIGUSR1', () => undefined);
// supervise must never die of its own bug while it holds a service.
process.on('uncaughtException', (e) => writeStderr(`supervise: warning: internal error: ${String(e)}\n`));

if (args.length !== 1) diag.usage('dir');
const dir = args[0];
try {
  process.chdir(dir);
} catch (e) {
  diag.fatal(`unable to chdir to ${dir}`, e);
}
let wantDown = false;
try {
  fs.statSync('down');
  wantDown = true;
} catch (e) {
  if (errnoCode(e) !== 'ENOENT') diag.fatal(`unable to stat ${dir}/down`, e);
}

const supervisor = new Supervisor({ dir: '.', label: dir, log: writeStderr, onExit: () => process.exit(0) });
try {
  supervisor.open(wantDown ? 'down' : 'up');
} catch (e) {
  if (e instanceof SetupError) diag.fatal(e.what, e.cause, EXIT_FAIL);
  throw e;
}
