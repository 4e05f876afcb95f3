// envuidgid account child: set UID and GID to the account's uid and gid,
// then exec child.
import { Diag } from '../lib/errors';
import { chainExec, rawArgs } from '../lib/exec';
import { answerHelp } from '../lib/help';
import { captureLimits } from '../lib/limits';
import { getpwnam } from '../lib/sys';

captureLimits();
const diag: Diag = new Diag('envuidgid');
const args = process.argv.slice(2);
answerHelp('envuidgid', args, {
  usage: 'envuidgid account child',
  description: "Sets UID and GID to account's user id and primary group id (from the system account database), then runs child in place of itself.",
});
if (args.length < 2) diag.usage('account child');
const account = getpwnam(args[0]);
if (!account) diag.fatal(`unknown account ${args[0]}`);
chainExec(diag, rawArgs(3), {
  env: new Map([
    ['GID', String(account.gid)],
    ['UID', String(account.uid)],
  ]),
});
