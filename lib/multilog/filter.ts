// Runs a line filter (tai64n, tai64nlocal) from stdin to stdout in blocks;
// exits 111 with the C wording when input or output fails.
import { Diag, errnoCode } from '../errors';
import { openInput } from './input';
import { writeAll } from './output';

/** A reader that went away kills the C filters with SIGPIPE, silently; so here too. */
function dieOfSigpipe(): void {
  const noop = (): void => undefined;
  process.on('SIGPIPE', noop);
  process.removeListener('SIGPIPE', noop); // back to the default action
  process.kill(process.pid, 'SIGPIPE');
}

export async function runFilter(prog: string, feed: (block: Buffer) => Buffer): Promise<number> {
  const diag: Diag = new Diag(prog);
  const input = openInput(false);
  process.on('SIGUSR1', () => undefined);
  for (;;) {
    let block;
    try {
      block = await input.read();
    } catch (e) {
      input.restoreBlocking();
      diag.fatal('unable to read input', e);
    }
    if (block === null) break;
    if (block === 'interrupted') continue;
    try {
      await writeAll(1, feed(block));
    } catch (e) {
      input.restoreBlocking();
      if (errnoCode(e) === 'EPIPE') dieOfSigpipe();
      diag.fatal('unable to write output', e);
    }
  }
  input.restoreBlocking();
  return 0;
}
