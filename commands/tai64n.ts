// tai64n: prefixes each line of stdin with @TAI64N and a space.
import { writeStderr } from '../lib/errors';
import { answerHelp } from '../lib/help';
import { runFilter } from '../lib/multilog/filter';
import { Stamper } from '../lib/multilog/stamp';

const args = process.argv.slice(2);
answerHelp('tai64n', args, {
  usage: 'tai64n',
  description: 'Copies standard input to standard output, putting @ and a TAI64N label of the time each line began (and a space) in front of every line.',
});
const stamper = new Stamper();
runFilter((b) => stamper.feed(b)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    writeStderr(`tai64n: fatal: ${String(e)}\n`);
    process.exit(111);
  },
);
