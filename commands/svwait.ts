// svwait [-u|-U|-d|-D] [-a|-o] [-t MS] dir... (beyond 0.76, s6-svwait's
// interface): waits until the services are up (-u, the default), up and
// ready (-U), down (-d), or down with ./finish done (-D); all of them (-a,
// the default) or one (-o). Exit 0 when reached, 99 when -t MS ran out,
// 100 on a usage error, 111 when a dir cannot be waited for.
import { Diag, writeStderr } from '../lib/os/errors';
import { answerHelp } from '../lib/os/help';
import { byteArgs, rawArgs } from '../lib/os/raw-argv';
import { showAs } from '../lib/os/proctitle';
import { getopt, getoptMessage } from '../lib/os/getopt';
import { WaitState, parseTimeout, waitAndExit } from '../lib/control/wait';

const USAGE = '[-u|-U|-d|-D] [-a|-o] [-t MS] dir...';
// messages name the dirs as the bytes given (lib/os/raw-argv.ts)
const diag: Diag = new Diag('svwait', 'latin1');
// Node would open its inspector on SIGUSR1 (ARCHITECTURE.md pitfall 8) while this waits or follows a log
process.on('SIGUSR1', () => undefined);
const args = process.argv.slice(2);
answerHelp('svwait', args, {
  usage: `svwait ${USAGE}`,
  description:
    'Waits until the services of the dirs reach a state (beyond daemontools 0.76, as s6-svwait). ' +
    'Exits 0 once they have (at once if they already have), 99 when the timeout runs out, 100 on a usage error, ' +
    '111 when a dir cannot be read or has no supervise running. Under the C supervise, -U means -u and -D means -d.',
  options: [
    ['-u', 'up (the default)'],
    ['-U', 'up and ready: readiness told on notification-fd; a service without one is ready when up'],
    ['-d', 'down'],
    ['-D', 'down, and ./finish has ended'],
    ['-a', 'all the dirs (the default)'],
    ['-o', 'one of the dirs'],
    ['-t MS', 'give up after MS milliseconds (exit 99); 0: never'],
  ],
});

let state: WaitState = 'u';
let all = true;
let timeoutMs: number | undefined = 0;
const parsed = getopt(byteArgs(2), 'uUdDaot:');
if (!parsed.ok) {
  writeStderr(getoptMessage('svwait', parsed), 'latin1');
  diag.usage(USAGE);
}
for (const o of parsed.options) {
  if (o.letter === 'a' || o.letter === 'o') all = o.letter === 'a';
  else if (o.letter === 't') timeoutMs = parseTimeout(o.value!);
  else state = o.letter as WaitState;
}
if (timeoutMs === undefined || parsed.rest.length === 0) diag.usage(USAGE);
// ps, pidof, pgrep see `svwait ...` while it waits (not before: koffi costs a quick answer 10 ms)
void waitAndExit(diag, parsed.rest, { state, all, timeoutMs, onWaiting: () => showAs('svwait', rawArgs(2)) });
