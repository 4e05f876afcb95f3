// Runs a line filter (tai64n, tai64nlocal) from stdin to stdout in blocks;
// exits 111 when input or output fails, silently, as the C tools do.
import { EXIT_FAIL, errnoCode, writeStderr } from '../os/errors';
import { BlockingInput } from './blocking-input';
import { writeAllSync } from '../os/write-all';

/** Dies of sig with its default action, as the C filters do (SIGPIPE: a reader that went away). */
function dieOfSignal(sig: NodeJS.Signals): void {
  const noop = (): void => undefined;
  process.on(sig, noop);
  process.removeListener(sig, noop); // back to the default action
  process.kill(process.pid, sig);
}

export async function runFilter(feed: (block: Buffer) => Buffer): Promise<number> {
  // blocks in read(2), so the descriptor is never made non-blocking
  const input = new BlockingInput();
  process.on('SIGUSR1', () => undefined);
  for (;;) {
    let block;
    try {
      block = await input.read();
    } catch {
      process.exit(EXIT_FAIL);
    }
    if (block === null) break;
    if (block === 'interrupted') continue;
    const out = feed(block);
    try {
      writeAllSync(1, out);
    } catch (e) {
      if (errnoCode(e) === 'EPIPE') dieOfSignal('SIGPIPE');
      process.exit(EXIT_FAIL);
    }
  }
  return 0;
}

/** Runs a filter program to its end: exits with its code, or 111 after a message on an unexpected error. */
export function runFilterProgram(prog: string, feed: (block: Buffer) => Buffer): void {
  runFilter(feed).then(
    (code) => process.exit(code),
    (e: unknown) => {
      writeStderr(`${prog}: fatal: ${String(e)}\n`);
      process.exit(EXIT_FAIL);
    },
  );
}
