// The multilog program: open everything the script names, then feed input
// to the engine until end of input or SIGTERM, and rotate on SIGALRM.
//
// SIGTERM: what was read already is logged (never lost), the line in
// progress is finished (its rest read a byte at a time, so the next line
// stays in the pipe for the next reader), nothing more is read, and no file
// is cut any more: shutting down costs at most the rotation (and processor
// run) under way when the signal came, whatever the input does.
//
// `a` (rotation by age): a timer is armed for the earliest time a
// directory's `current` is due, only while some `current` holds lines, so an
// idle multilog with empty files never wakes up; what is due is also
// checked after each block of input.
import fs from 'node:fs';
import { AgeTimer } from './age';
import { Engine } from './engine';
import { Input, openInput, readSize } from './input';
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
  input = openInput(readSize(script.dirs.map((d) => d.size)));
  const aged = dirs.filter((_, i) => script.dirs[i].age > 0);
  const ageTimer = aged.length > 0 ? new AgeTimer(aged, () => input?.wake()) : undefined;

  let stopping = false;
  /** After SIGTERM: read nothing ahead, cut no file, finish the line in progress. */
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    input?.stopAfterLine();
    for (const d of dirs) d.holdRotation();
  };
  for (;;) {
    if (exitAsap) stop();
    if (rotateNow) {
      rotateNow = false;
      if (!stopping) for (const d of dirs) d.forceRotate();
    }
    // a long line half in `current` is not cut for age: its end comes first
    if (ageTimer) ageTimer.check((d) => engine.lineSplitIn(d));
    if (stopping && !engine.midLine() && !input.pending()) break;
    let block;
    try {
      block = await input.read();
    } catch {
      // a read error ends the input, silently, as in the C multilog
      break;
    }
    if (block === 'interrupted') continue;
    if (block === null) break;
    for (let at = engine.feed(block); at < block.length; at = engine.feed(block, at)) {
      // a file was cut (maybe through a long processor run): a SIGTERM that came meanwhile is acted on now
      await new Promise((resolve) => setImmediate(resolve));
      if (exitAsap) stop();
    }
  }
  ageTimer?.disarm();
  engine.finish();
  for (const d of dirs) d.close();
  input.restoreBlocking();
  return 0;
}
