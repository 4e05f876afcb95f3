// setlock [-nNxX] file child: take an exclusive lock on file, then exec
// child, which inherits the locked descriptor (the lock lasts as long as it).
import { Diag, errnoCode, writeStderr } from '../lib/os/errors';
import { chainExec, nodeSignalsAsInC } from '../lib/exec/exec';
import { byteArgs, rawArgs } from '../lib/os/raw-argv';
import { getopt, getoptMessage } from '../lib/os/getopt';
import { answerHelp } from '../lib/os/help';
import { captureLimits } from '../lib/exec/limits';
import * as sys from '../lib/os/sys';
import { showAs } from '../lib/os/proctitle';

captureLimits();
// names in messages are the argument's bytes, as the C setlock prints them
const diag: Diag = new Diag('setlock', 'latin1');
const USAGE = '[ -nNxX ] file program [ arg ... ]';
const args = byteArgs(2);
answerHelp('setlock', args, {
  usage: `setlock ${USAGE}`,
  description:
    'Opens file (creating it, never truncating it), takes an exclusive lock on it, then runs program in place of itself with the lock held.',
  options: [
    ['-n', 'no delay: fail at once if file is locked'],
    ['-N', 'delay: wait for the lock (default)'],
    ['-x', 'exit 0 silently if file cannot be opened or locked'],
    ['-X', 'fail with a message if file cannot be opened or locked (default)'],
  ],
});
const parsed = getopt(args, 'nNxX');
if (!parsed.ok) {
  writeStderr(getoptMessage('setlock', parsed), 'latin1');
  diag.usage(USAGE);
}
let wait = true;
let quiet = false;
for (const { letter } of parsed.options) {
  if (letter === 'n') wait = false;
  else if (letter === 'N') wait = true;
  else if (letter === 'x') quiet = true;
  else if (letter === 'X') quiet = false;
}
if (parsed.rest.length < 2) diag.usage(USAGE);
const file = parsed.rest[0];

function fail(what: string, e: unknown): never {
  if (quiet) process.exit(0);
  diag.fatal(what, e);
}

let fd = -1;
try {
  fd = sys.open(Buffer.from(file, 'latin1'), sys.O_WRONLY | sys.O_NONBLOCK | sys.O_APPEND | sys.O_CREAT, 0o600);
} catch (e) {
  fail(`unable to open ${file}`, e);
}
// the wait for the lock may be long: signals end it as they end the C setlock
if (wait) nodeSignalsAsInC();
/** Takes the lock; while it waits, ps, pidof, pgrep see `setlock args...` (not retitled when the lock is free). */
function lock(): void {
  if (wait) {
    try {
      sys.flock(fd, sys.LOCK_EX | sys.LOCK_NB);
      return;
    } catch (e) {
      if (errnoCode(e) !== 'EWOULDBLOCK' && errnoCode(e) !== 'EAGAIN') throw e;
    }
    showAs('setlock', rawArgs(2));
  }
  sys.flock(fd, wait ? sys.LOCK_EX : sys.LOCK_EX | sys.LOCK_NB);
}
try {
  lock();
} catch (e) {
  fail(`unable to lock ${file}`, e);
}
chainExec(diag, rawArgs(args.length - parsed.rest.length + 3), { passFd: fd });
