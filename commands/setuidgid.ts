// setuidgid account child: run child as account (its uid, its primary gid,
// no other group), in place of this process.
import { Diag } from '../lib/os/errors';
import { chainExec } from '../lib/exec/exec';
import { byteArgs, rawArgs } from '../lib/os/raw-argv';
import { answerHelp } from '../lib/os/help';
import { captureLimits } from '../lib/exec/limits';
import { getpwnam } from '../lib/os/sys';

captureLimits();
// names in messages are the argument's bytes, as the C setuidgid prints them
const diag: Diag = new Diag('setuidgid', 'latin1');
const args = byteArgs(2);
answerHelp('setuidgid', args, {
  usage: 'setuidgid account child',
  description:
    "Sets the supplementary groups to account's primary group only, then the group id and the user id " +
    "(from the system account database), then runs child in place of itself. Must be run as root.",
});
if (args.length < 2) diag.usage('account child');
const account = getpwnam(Buffer.from(args[0], 'latin1'));
if (!account) diag.fatal(`unknown account ${args[0]}`);
chainExec(diag, rawArgs(3), { identity: { uid: account.uid, gid: account.gid } });
