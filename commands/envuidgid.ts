// envuidgid account child: set UID and GID to the account's uid and gid,
// then exec child.
import { Diag } from '../lib/os/errors';
import { chainExec } from '../lib/exec/exec';
import { byteArgs, rawArgs } from '../lib/os/raw-argv';
import { answerHelp } from '../lib/os/help';
import { captureLimits } from '../lib/exec/limits';
import { getpwnam } from '../lib/os/sys';

captureLimits();
// names in messages are the argument's bytes, as the C envuidgid prints them
const diag: Diag = new Diag('envuidgid', 'latin1');
const args = byteArgs(2);
answerHelp('envuidgid', args, {
  usage: 'envuidgid account child',
  description: "Sets UID and GID to account's user id and primary group id (from the system account database), then runs child in place of itself.",
});
if (args.length < 2) diag.usage('account child');
const account = getpwnam(Buffer.from(args[0], 'latin1'));
if (!account) diag.fatal(`unknown account ${args[0]}`);
chainExec(diag, rawArgs(3), {
  env: new Map([
    ['GID', String(account.gid)],
    ['UID', String(account.uid)],
  ]),
});
