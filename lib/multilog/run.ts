// The multilog program: open everything the script names, then feed input
// to the engine until end of input or SIGTERM (at a line boundary), and
// rotate on SIGALRM.
import fs from 'node:fs';
import { Engine } from './engine';
import { Input, openInput } from './input';
import { LogDir } from './logdir';
import { OPEN_READ } from './openflags';
import { diag } from './pause';
import type { Script } from './script';
import { StatusFile } from './statusfile';

/** The C multilog opens its working directory first (to come back to it): it must be readable. */
function checkStartDir(): void {
  try {
    fs.closeSync(fs.openSync('.', OPEN_READ));
  } catch (e) {
    diag.fatal('unable to switch to current directory', e);
  }
}

export async function runMultilog(script: Script): Promise<number> {
  // first, so that a signal during start-up is not fatal
  let exitAsap = false;
  let rotateNow = false;
  let input: Input | undefined;
  process.on('SIGTERM', () => {
    exitAsap = true;
    input?.wake();
  });
  process.on('SIGALRM', () => {
    rotateNow = true;
    input?.wake();
  });
  process.on('SIGUSR1', () => undefined);
  process.umask(0o022);
  checkStartDir();
  const statusFiles = script.statusFiles.map((f) => new StatusFile(f));
  const dirs = script.dirs.map((spec) => new LogDir(spec));
  for (const d of dirs) d.open();
  const engine = new Engine(script, dirs, statusFiles);
  input = openInput();

  for (;;) {
    if (rotateNow) {
      rotateNow = false;
      for (const d of dirs) d.forceRotate();
    }
    if (exitAsap && !engine.midLine() && !input.pending()) break;
    let block;
    try {
      block = await input.read();
    } catch {
      // a read error ends the input, silently, as in the C multilog
      break;
    }
    if (block === 'interrupted') continue;
    if (block === null) break;
    engine.feed(block);
  }
  engine.finish();
  for (const d of dirs) d.close();
  input.restoreBlocking();
  return 0;
}
