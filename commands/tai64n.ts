// tai64n: prefixes each line of stdin with @TAI64N and a space.
import { answerHelp } from '../lib/os/help';
import { endFixForInput, showAs } from '../lib/os/proctitle';
import { runFilterProgram } from '../lib/multilog/filter';
import { Stamper } from '../lib/multilog/stamp';

const args = process.argv.slice(2);
answerHelp('tai64n', args, {
  usage: 'tai64n',
  description: 'Copies standard input to standard output, putting @ and a TAI64N label of the time each line began (and a space) in front of every line.',
});
const stamper = new Stamper();
// ps, pidof, pgrep see `tai64n`; on a file, which ends, not worth loading koffi for the end of the argv
showAs('tai64n', [], endFixForInput());
runFilterProgram('tai64n', (b) => stamper.feed(b));
