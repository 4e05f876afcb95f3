// Runs a line filter (tai64n, tai64nlocal) from stdin to stdout in blocks;
// exits 111 with the C wording when input or output fails.
import { Diag, errnoCode } from '../errors';
import { openInput } from './input';
import { writeAll } from './output';

/** Thrown by a filter's feed where the C tool dies of a signal: the block's output is lost with it. */
export class DieOfSignal extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`killed by ${signal}`);
  }
}

/** Dies of sig with its default action, as the C filters do (SIGPIPE: a reader that went away). */
function dieOfSignal(sig: NodeJS.Signals): void {
  const noop = (): void => undefined;
  process.on(sig, noop);
  process.removeListener(sig, noop); // back to the default action
  process.kill(process.pid, sig);
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
    let out: Buffer;
    try {
      out = feed(block);
    } catch (e) {
      input.restoreBlocking();
      if (e instanceof DieOfSignal) dieOfSignal(e.signal);
      throw e;
    }
    try {
      await writeAll(1, out);
    } catch (e) {
      input.restoreBlocking();
      if (errnoCode(e) === 'EPIPE') dieOfSignal('SIGPIPE');
      diag.fatal('unable to write output', e);
    }
  }
  input.restoreBlocking();
  return 0;
}
