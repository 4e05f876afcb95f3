// svok dir: exit 0 while a supervise runs for dir, 100 if not, 111 (with a
// message) when that cannot be told. Only the first argument counts, and it
// is never an option, as in C.
import { Diag, EXIT_USAGE, errnoCode } from '../lib/os/errors';
import { answerHelp } from '../lib/os/help';
import { probeOk } from '../lib/control/service';
import { byteArgs } from '../lib/os/raw-argv';
import { chdirBytes } from '../lib/control/cwd';

// messages name the dir as the bytes given (lib/os/raw-argv.ts)
const diag = new Diag('svok', 'latin1');
const args = process.argv.slice(2);
answerHelp('svok', args, {
  usage: 'svok dir',
  description: 'Exits 0 if supervise is running for the service directory dir, 100 if it is not, 111 on other errors.',
});
if (args.length < 1) diag.usage('dir');
// a byte string (lib/os/raw-argv.ts): found and printed as the bytes given
const dir = byteArgs(2)[0];

try {
  chdirBytes(dir);
} catch (e) {
  diag.fatal(`unable to chdir to ${dir}`, e);
}
try {
  probeOk('.');
} catch (e) {
  const code = errnoCode(e);
  if (code === 'ENXIO' || code === 'ENOENT') process.exit(EXIT_USAGE);
  diag.fatal(`unable to open ${dir}/supervise/ok`, e);
}
process.exit(0);
