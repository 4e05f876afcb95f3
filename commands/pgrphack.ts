// pgrphack child: run child in a new session (and process group), in place
// of this process.
import { Diag } from '../lib/os/errors';
import { chainExec } from '../lib/exec/exec';
import { byteArgs, rawArgs } from '../lib/os/raw-argv';
import { answerHelp } from '../lib/os/help';
import { captureLimits } from '../lib/exec/limits';
import { setsid } from '../lib/os/sys';

captureLimits();
// names in messages are the argument's bytes, as the C pgrphack prints them
const diag: Diag = new Diag('pgrphack', 'latin1');
const args = byteArgs(2);
answerHelp('pgrphack', args, {
  usage: 'pgrphack child',
  description: 'Starts a new session and process group, then runs child in place of itself.',
});
if (args.length < 1) diag.usage('child');
try {
  setsid();
} catch {
  // already a session or group leader: as the C pgrphack, run child anyway
}
chainExec(diag, rawArgs(2));
