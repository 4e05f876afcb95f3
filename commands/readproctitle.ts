// readproctitle args... LAST: shows the last bytes read from stdin at the
// end of its own process title (so `ps` shows svscan's latest errors).
import fs from 'node:fs';
import { EXIT_FAIL, EXIT_USAGE } from '../lib/os/errors';
import { rawArgs } from '../lib/os/raw-argv';
import { answerHelp } from '../lib/os/help';
import { argArea, restoreComm } from '../lib/os/proctitle';

const args = process.argv.slice(2);
answerHelp('readproctitle', args, {
  usage: 'readproctitle args... LAST',
  description:
    'Reads stdin until EOF and shifts every byte read (NUL aside) into the end of its process title, in the place ' +
    'of LAST (at least 5 bytes; its first 3 show as dots), so that `ps` shows the latest text written to it. ' +
    'Usually run as `svscan 2>&1 | readproctitle service errors: .....` with a long run of dots.',
});
if (args.length === 0) process.exit(EXIT_USAGE);
// the arguments' own bytes (read before the title overwrites them)
const raw = rawArgs(2);
const last = Buffer.from(raw[raw.length - 1]);
if (last.length < 5) process.exit(EXIT_USAGE);
// SIGUSR1 would open Node's debugger (ARCHITECTURE.md pitfall 8), SIGPIPE and
// SIGXFSZ are ignored by Node: each ends the C readproctitle, so this one
// too (its listener gone, the signal's action is the default again)
for (const sig of ['SIGUSR1', 'SIGPIPE', 'SIGXFSZ'] as const) {
  const die = (): void => {
    process.removeListener(sig, die);
    process.kill(process.pid, sig);
  };
  process.on(sig, die);
}

const prefix = Buffer.from(['readproctitle', ...raw.slice(0, -1).map((a) => a.toString('latin1')), ''].join(' ') + '...', 'latin1');
// Node can only rewrite the memory of its original argv (node, script, args):
// the title's capacity is measured once by asking for more than fits.
process.title = 'x'.repeat(65536);
const capacity = process.title.length;
const window = last.subarray(3);
// where the title is: the start of the argv area
const argStart = argArea()?.start;
const mem = argStart === undefined ? -1 : openMem();

function openMem(): number {
  try {
    return fs.openSync('/proc/self/mem', 'r+');
  } catch {
    return -1;
  }
}

/**
 * The title as exactly these bytes, NUL-padded over the whole argv area:
 * process.title would pass them as UTF-8 (a byte that is not, e.g. from a
 * file name, would show as U+FFFD). false if the memory cannot be written.
 */
function writeTitle(bytes: Buffer): boolean {
  if (mem < 0 || argStart === undefined) return false;
  const area = Buffer.alloc(capacity + 1);
  bytes.copy(area, 0, 0, Math.min(bytes.length, capacity));
  try {
    return fs.writeSync(mem, area, 0, area.length, argStart) === area.length;
  } catch {
    return false;
  }
}

function show(): void {
  // the end of the window, as much as fits after the prefix
  const room = Math.max(0, capacity - prefix.length);
  const title = Buffer.concat([prefix, window.subarray(Math.max(0, window.length - room))]);
  if (!writeTitle(title)) {
    let text = window.toString('utf8');
    while (text.length > 0 && Buffer.byteLength(prefix.toString('latin1') + text) > capacity) text = text.slice(1);
    process.title = prefix.toString() + text;
  }
  restoreComm('readproctitle');
}

/** Shifts the non-NUL bytes of chunk into the end of the window. */
function shiftIn(chunk: Buffer): void {
  const bytes = chunk.includes(0) ? Buffer.from(chunk.filter((b) => b !== 0)) : chunk;
  if (bytes.length >= window.length) {
    bytes.copy(window, 0, bytes.length - window.length);
  } else {
    window.copyWithin(0, bytes.length);
    bytes.copy(window, window.length - bytes.length);
  }
}

show();
const buf = Buffer.alloc(4096);
function readMore(): void {
  fs.read(0, buf, 0, buf.length, null, (err, n) => {
    if (err) {
      if (err.code === 'EAGAIN' || err.code === 'EINTR') {
        setTimeout(readMore, 50);
        return;
      }
      process.exit(EXIT_FAIL);
    }
    if (n === 0) process.exit(0);
    shiftIn(buf.subarray(0, n));
    show();
    readMore();
  });
}
readMore();
