// svc -OPTS dir...: send control commands to the supervise of each dir.
import { Diag, EXIT_USAGE, errnoCode, writeStderr } from '../lib/os/errors';
import { byteArgs, rawArgs } from '../lib/os/raw-argv';
import { showAs } from '../lib/os/proctitle';
import { getopt, getoptMessage } from '../lib/os/getopt';
import { answerHelp } from '../lib/os/help';
import { eachDir } from '../lib/control/cwd';
import { SVC_LETTERS, SVC_OPTIONS_LINE, commandBytes, sendControl } from '../lib/control/svc-control';
import { Seen, WaitState, isWaitState, parseTimeout, seenNow, waitAndExit } from '../lib/control/wait';

// messages name the dirs as the bytes given (lib/os/raw-argv.ts)
const diag: Diag = new Diag('svc', 'latin1');
const args = process.argv.slice(2);
answerHelp('svc', args, {
  usage: `svc -${SVC_LETTERS} dir...`,
  description:
    'Sends commands to the supervise running for each service directory dir. The letters are sent in the ' +
    'order given, each once. A dir without a running supervise gets a warning; svc goes on and exits 0.',
  options: [
    ['-u', 'up: start the service, restart it when it exits'],
    ['-d', 'down: stop it (TERM then CONT), do not restart it'],
    ['-o', 'once: start it if it is down, do not restart it'],
    ['-p', 'pause: send STOP'],
    ['-c', 'continue: send CONT'],
    ['-h', 'send HUP'],
    ['-a', 'send ALRM'],
    ['-i', 'send INT'],
    ['-t', 'send TERM'],
    ['-k', 'send KILL'],
    ['-x', 'exit: supervise exits as soon as the service is down'],
    ['-q', 'send QUIT (beyond daemontools 0.76)'],
    ['-1', 'send USR1 (beyond daemontools 0.76)'],
    ['-2', 'send USR2 (beyond daemontools 0.76)'],
    ['-w', 'send WINCH (beyond daemontools 0.76)'],
    ['-W STATE', 'then wait until every dir is in STATE, as svwait does: u up, U up and ready, d down, D down and ./finish done; ' +
      'exit 99 on timeout, 111 when a dir cannot be waited for (beyond daemontools 0.76, s6-svc -w)'],
    ['-T MS', 'the timeout of -W in milliseconds; 0: none (beyond daemontools 0.76)'],
  ],
});

// byte strings (lib/os/raw-argv.ts): options and dirs are bytes, as in C
const parsed = getopt(byteArgs(2), SVC_LETTERS + 'W:T:');
if (!parsed.ok) {
  writeStderr(getoptMessage('svc', parsed) + SVC_OPTIONS_LINE, 'latin1');
  process.exit(EXIT_USAGE);
}
// beyond 0.76: -W STATE and -T MS, a wait after the commands
const waitUsage = `[-W u|U|d|D [-T MS]] -${SVC_LETTERS} dir...`;
let waitState: WaitState | undefined;
let timeoutMs = 0;
for (const o of parsed.options) {
  if (o.letter === 'W') waitState = isWaitState(o.value!) ? o.value : diag.usage(waitUsage);
  if (o.letter === 'T') timeoutMs = parseTimeout(o.value!) ?? diag.usage(waitUsage);
}
const bytes = commandBytes(parsed.options.filter((o) => o.letter !== 'W' && o.letter !== 'T').map((o) => o.letter));
// the states before the commands: a change since then counts as passed through (s6-svc waits for the event)
const before: Array<Seen | undefined> | undefined = waitState ? seenNow(parsed.rest) : undefined;

eachDir(diag, parsed.rest, (dir) => {
  const failed = sendControl(bytes);
  if (failed?.step === 'write') diag.warn(`error writing commands to ${dir}`, failed.error);
  else if (failed) diag.warn(`unable to control ${dir}`, errnoCode(failed.error) === 'ENXIO' ? 'supervise not running' : failed.error);
}, (dir, e) => diag.warn(`unable to chdir to ${dir}`, e));
// while it waits, ps, pidof, pgrep see `svc ...`
if (waitState) void waitAndExit(diag, parsed.rest, { state: waitState, all: true, timeoutMs, before, onWaiting: () => showAs('svc', rawArgs(2)) });
