// svok dir: exit 0 while a supervise runs for dir, 100 if not.
import { Diag, EXIT_FAIL, EXIT_USAGE, errnoCode } from '../lib/errors';
import { answerHelp } from '../lib/help';
import { probeOk } from '../lib/service';

const diag = new Diag('svok');
const args = process.argv.slice(2);
answerHelp('svok', args, {
  usage: 'svok dir',
  description: 'Exits 0 if supervise is running for the service directory dir, 100 if it is not, 111 on other errors.',
});
if (args.length < 1) diag.usage('dir');
const dir = args[0];
try {
  process.chdir(dir);
} catch (e) {
  diag.fatal(`unable to chdir to ${dir}`, e);
}
try {
  probeOk('.');
  process.exit(0);
} catch (e) {
  const code = errnoCode(e);
  if (code === 'ENXIO' || code === 'ENOENT') process.exit(EXIT_USAGE);
  diag.fatal(`unable to open ${dir}/supervise/ok`, e, EXIT_FAIL);
}
