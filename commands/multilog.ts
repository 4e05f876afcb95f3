// multilog script: reads lines on stdin and runs the script on each.
import { captureLimits } from '../lib/exec/limits';
import { answerHelp } from '../lib/os/help';
import { runMultilog } from '../lib/multilog/run';
import { diag } from '../lib/multilog/pause';
import { parseScript, Script, ScriptError } from '../lib/multilog/script';
import { EXIT_USAGE, writeStderr } from '../lib/os/errors';
import { rawArgs } from '../lib/os/raw-argv';
import { showAs } from '../lib/os/proctitle';

captureLimits();
const args = process.argv.slice(2);
answerHelp('multilog', args, {
  usage: 'multilog script',
  description: [
    'Reads lines on standard input and runs the script on each, in order. Lines start selected. Actions:',
    '  t             (first action only) prefix each line with @TAI64N and a space',
    '  T             (first action only) prefix each line with its UTC time (ISO 8601) and two spaces',
    '  -PATTERN      deselect the line if it matches (* matches up to the next character)',
    '  +PATTERN      select the line if it matches',
    '  e             print the selected line (first 200 bytes) to stderr',
    '  =FILE         replace FILE with the selected line, padded with newlines to 1001 bytes',
    '  sSIZE         for the directories after it: maximum size of current (4096..16777215, default 99999)',
    '  nNUM          for the directories after it: number of log files kept (at least 2, default 10)',
    '  SBYTES        for the directories after it: most bytes of the old files in all (default 0: no limit)',
    '  aSECONDS      for the directories after it: rotate current once its first line is that old',
    '  !PROCESSOR    for the directories after it: run sh -c PROCESSOR on each full file',
    '  ./DIR, /DIR   append the selected lines to the log directory DIR',
  ].join('\n'),
});
let script: Script;
try {
  script = parseScript(rawArgs(2));
} catch (e) {
  if (!(e instanceof ScriptError)) throw e;
  diag.fatal(e.message, undefined, EXIT_USAGE);
}
// ps, pidof, pgrep see `multilog script...`
showAs('multilog', rawArgs(2));
runMultilog(script).then(
  (code) => process.exit(code),
  (e: unknown) => {
    writeStderr(`multilog: fatal: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(111);
  },
);
