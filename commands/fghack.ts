// fghack child: run child with 31 copies of a pipe's write end and
// wait until all of them are closed, so that a program that puts itself in
// the background stays in the foreground; exit with the child's code.
import { Diag } from '../lib/os/errors';
import { byteArgs, rawArgs } from '../lib/os/raw-argv';
import { showAs } from '../lib/os/proctitle';
import { runHeldOpen } from '../lib/exec/fghack';
import { answerHelp } from '../lib/os/help';
import { captureLimits } from '../lib/exec/limits';

captureLimits();
// names in messages are the argument's bytes, as the C fghack prints them
const diag: Diag = new Diag('fghack', 'latin1');
const args = byteArgs(2);
answerHelp('fghack', args, {
  usage: 'fghack child',
  description:
    'Runs child with 31 extra descriptors on a pipe and waits until every copy is closed (also by any background process it started), then exits with the exit code of child.',
});
if (args.length < 1) diag.usage('child');
// ps, pidof, pgrep see `fghack child...` while it waits
showAs('fghack', rawArgs(2));
runHeldOpen(diag, args).then((code) => process.exit(code));
