// svc -OPTS dir...: send control commands to the supervise of each dir.
import { Diag, EXIT_USAGE, errnoCode, writeStderr } from '../lib/os/errors';
import { byteArgs } from '../lib/os/raw-argv';
import { getopt, getoptMessage } from '../lib/os/getopt';
import { answerHelp } from '../lib/os/help';
import { eachDir } from '../lib/control/cwd';
import { SVC_LETTERS, SVC_OPTIONS_LINE, commandBytes, sendControl } from '../lib/control/svc-control';

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
  ],
});

// byte strings (lib/os/raw-argv.ts): options and dirs are bytes, as in C
const parsed = getopt(byteArgs(2), SVC_LETTERS);
if (!parsed.ok) {
  writeStderr(getoptMessage('svc', parsed) + SVC_OPTIONS_LINE, 'latin1');
  process.exit(EXIT_USAGE);
}
const bytes = commandBytes(parsed.options.map((o) => o.letter));

eachDir(diag, parsed.rest, (dir) => {
  const failed = sendControl(bytes);
  if (failed?.step === 'write') diag.warn(`error writing commands to ${dir}`, failed.error);
  else if (failed) diag.warn(`unable to control ${dir}`, errnoCode(failed.error) === 'ENXIO' ? 'supervise not running' : failed.error);
}, (dir, e) => diag.warn(`unable to chdir to ${dir}`, e));
