// tai64nlocal: turns @TAI64N labels at the start of lines into local time.
import { answerHelp } from '../lib/os/help';
import { endFixForInput, showAs } from '../lib/os/proctitle';
import { runFilterProgram } from '../lib/multilog/filter';
import { LocalTimer } from '../lib/multilog/localtime';

const args = process.argv.slice(2);
answerHelp('tai64nlocal', args, {
  usage: 'tai64nlocal',
  description: 'Copies standard input to standard output, replacing a TAI64N label (@ and hex digits) at the start of a line by the local time it stands for, as YYYY-MM-DD HH:MM:SS.NNNNNNNNN. Honours TZ.',
});
const timer = new LocalTimer();
// ps, pidof, pgrep see `tai64nlocal`; on a file, which ends, not worth loading koffi for the end of the argv
showAs('tai64nlocal', [], endFixForInput());
runFilterProgram('tai64nlocal', (b) => timer.feed(b));
