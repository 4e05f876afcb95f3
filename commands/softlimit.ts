// softlimit opts child: set soft resource limits, then exec child.
import { Diag, writeStderr } from '../lib/os/errors';
import { chainExec } from '../lib/exec/exec';
import { byteArgs, rawArgs } from '../lib/os/raw-argv';
import { getopt, getoptMessage } from '../lib/os/getopt';
import { answerHelp } from '../lib/os/help';
import { captureLimits } from '../lib/exec/limits';
import { SOFTLIMIT_OPTSTRING, SOFTLIMIT_USAGE, parseLimit, resourcesOf } from '../lib/exec/softlimit';

captureLimits();
// names in messages are the argument's bytes, as the C softlimit prints them
const diag: Diag = new Diag('softlimit', 'latin1');
const args = byteArgs(2);
answerHelp('softlimit', args, {
  usage: `softlimit ${SOFTLIMIT_USAGE}`,
  description:
    'Sets soft resource limits (clamped to the hard limits; "=" means as high as the hard limit), then runs child in place of itself.',
  options: [
    ['-a n', 'address space, bytes'],
    ['-c n', 'core file size, bytes'],
    ['-d n', 'data segment, bytes'],
    ['-f n', 'file size, bytes'],
    ['-l n', 'locked memory, bytes'],
    ['-m n', 'data, stack, locked memory and address space at once, bytes'],
    ['-o n', 'open files'],
    ['-p n', 'processes'],
    ['-r n', 'resident set, bytes'],
    ['-s n', 'stack, bytes'],
    ['-t n', 'CPU time, seconds'],
  ],
});
const limits = new Map<number, number | bigint>();
// as the C softlimit: a bad value stops at once, before any later option is looked at
const parsed = getopt(args, SOFTLIMIT_OPTSTRING, ({ letter, value }) => {
  const soft = parseLimit(value ?? '');
  if (soft === undefined) diag.usage(SOFTLIMIT_USAGE);
  for (const resource of resourcesOf(letter)) limits.set(resource, soft);
});
if (!parsed.ok) {
  writeStderr(getoptMessage('softlimit', parsed), 'latin1');
  diag.usage(SOFTLIMIT_USAGE);
}
if (parsed.rest.length < 1) diag.usage(SOFTLIMIT_USAGE);
chainExec(diag, rawArgs(args.length - parsed.rest.length + 2), { limits });
