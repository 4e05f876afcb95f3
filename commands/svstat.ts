// svstat dir...: one line per service directory saying whether its service
// is up, for how long, and how that differs from what is wanted.
// `svstat --json dir...` (beyond): the same facts, one JSON object per line.
import { Diag } from '../lib/os/errors';
import { answerHelp } from '../lib/os/help';
import { eachDir } from '../lib/control/cwd';
import { writeAllSync } from '../lib/os/write-all';
import { Report, formatJson, formatLine, newRecord, probe } from '../lib/control/svstat-report';
import { byteArgs, displayText } from '../lib/os/raw-argv';
import { InfoReader } from '../lib/control/svstat-info';

const diag: Diag = new Diag('svstat');
const args = process.argv.slice(2);
answerHelp('svstat', args, {
  usage: 'svstat [--json] dir...',
  description:
    'Prints one line per service directory dir: up (pid P) or down, the seconds since that last changed, ' +
    'and how it differs from the normal and the wanted state (normally down/up, paused, want up/down). ' +
    'With --json as the first argument (beyond daemontools 0.76): one JSON object per dir and line, ' +
    'with dir, state (up, down, not running, error), pid, seconds, since (TAI64N label), paused, want ' +
    '(up, down, once), normallyUp, ready, readySince, finishing, failedInRow, restartAt, gaveUp, ' +
    'info (what our supervise keeps in supervise/info), or error. Under our supervise the line ends, as s6-svstat\'s, ' +
    'with ", ready N seconds" (a service with notification-fd), ", restarting in N seconds" (back-off) or ' +
    '", gave up after N failed starts".',
});
const json = args[0] === '--json';
// byte strings (lib/os/raw-argv.ts): dirs are named and printed as the bytes given
const dirs = byteArgs(json ? 3 : 2);
const format = json
  ? (dir: string, r: Report) => Buffer.from(formatJson(displayText(dir), r)).toString('latin1')
  : formatLine;

const record = newRecord();
let out = '';
// beyond: our supervise's info adds readiness, back-off (and, in JSON, the rest)
const infos = new InfoReader();
eachDir(diag, dirs, (dir) => {
  const report = probe(Math.floor(Date.now() / 1000), record);
  if (report.kind === 'status') report.info = infos.read();
  out += format(dir, report);
}, (dir, e) => {
  out += format(dir, { kind: 'failure', what: 'unable to chdir', cause: e });
});
try {
  writeAllSync(1, Buffer.from(out, 'latin1'));
} catch {
  // nobody reads: nothing to report to
}
