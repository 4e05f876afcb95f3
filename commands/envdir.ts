// envdir dir child: set and remove environment variables from the files in
// dir, then exec child.
import { Diag, EXIT_FAIL } from '../lib/os/errors';
import { chainExec } from '../lib/exec/exec';
import { byteArgs, rawArgs } from '../lib/os/raw-argv';
import { EnvDirError, readEnvDir } from '../lib/exec/envdir';
import { answerHelp } from '../lib/os/help';
import { captureLimits } from '../lib/exec/limits';

captureLimits();
// names in messages are the argument's bytes, as the C envdir prints them
const diag: Diag = new Diag('envdir', 'latin1');
const args = byteArgs(2);
answerHelp('envdir', args, {
  usage: 'envdir dir child',
  description:
    'Sets environment variables from the files in dir, then runs child in place of itself. ' +
    'A file NAME sets NAME to its first line (trailing spaces and tabs removed, NUL bytes as newlines); ' +
    'an empty file removes NAME; names starting with a dot are ignored.',
});
// the C envdir exits 111 on a usage error
if (args.length < 2) diag.usage('dir child', EXIT_FAIL);
let changes: Map<string, Buffer | null>;
try {
  changes = readEnvDir(args[0]);
} catch (e) {
  if (!(e instanceof EnvDirError)) throw e;
  diag.fatal(e.what, e.cause);
}
chainExec(diag, rawArgs(3), { env: changes });
