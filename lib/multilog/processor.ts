// Runs a log directory's processor the way the C multilog does: `sh -c
// PROCESSOR` in the directory, stdin `previous`, stdout `processed`, fd 4
// reading `state`, fd 5 writing `newstate`, stderr inherited; multilog waits
// for it. Any failure is reported, paused on, and the run is started over.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { reason, writeStderr } from '../os/errors';
import { spawnWithLimits } from '../exec/limits';
import { trapIgnored, withInherited } from '../exec/pass-on';
import { OPEN_READ, OPEN_TRUNC } from './openflags';
import { pauseAfter, staleFailure } from './pause';

/**
 * The processor's descriptors, opened in this order (as the C multilog's
 * child does before its exec, so a failure is reported as its exec's would be).
 */
function openAll(dir: Buffer, processor: string): number[] | undefined {
  const fds: number[] = [];
  const steps: Array<[string, number]> = [['previous', OPEN_READ], ['processed', OPEN_TRUNC], ['state', OPEN_READ], ['newstate', OPEN_TRUNC]];
  for (const [file, flags] of steps) {
    try {
      fds.push(fs.openSync(Buffer.concat([dir, Buffer.from(`/${file}`)]), flags, 0o644));
    } catch (e) {
      writeStderr(`multilog: fatal: unable to run ${processor}: ${reason(e)}\n`);
      for (const fd of fds) fs.closeSync(fd);
      return undefined;
    }
  }
  return fds;
}

/**
 * The script sh runs: the processor, after ignoring again the signals
 * multilog's caller ignored (the C multilog's fork and exec keep them
 * ignored; Node's spawn resets them).
 */
function processorScript(processor: string): string {
  const trap = trapIgnored();
  return trap ? `${trap}\n${processor}` : processor;
}

/**
 * The processor's descriptors: its four files at 0, 1, 4, 5, stderr, and
 * whatever else multilog's caller gave it (at 3, 6...), as a fork and exec keep them.
 */
function processorStdio(previous: number, processed: number, state: number, newstate: number): Array<'inherit' | 'ignore' | number> {
  const stdio = [...withInherited([previous, processed, 'inherit'])] as Array<'inherit' | 'ignore' | number>;
  while (stdio.length < 6) stdio.push('ignore');
  stdio[4] = state;
  stdio[5] = newstate;
  return stdio;
}

/** One attempt; true when the processor exited 0. */
function attempt(processor: string, dir: Buffer, name: string): boolean {
  const fds = openAll(dir, processor);
  if (!fds) {
    pauseAfter(`processor failed in ${name}`);
    return false;
  }
  const [previous, processed, state, newstate] = fds;
  try {
    const argv = ['/bin/sh', '-c', processorScript(processor)];
    const result = spawnWithLimits(argv, (final) =>
      spawnSync(final[0], final.slice(1), {
        argv0: final === argv ? 'sh' : final[0],
        cwd: dir.toString(), // /proc/self/fd/N; without /proc the name, exact when it is UTF-8
        stdio: processorStdio(previous, processed, state, newstate),
      }));
    if (result.error) {
      pauseAfter(`unable to fork for processor in ${name}`, result.error);
      return false;
    }
    if (result.signal) {
      // as the C multilog: the crash with a stale errno, then the failure, each with its pause
      pauseAfter(`processor crashed in ${name}`, staleFailure());
      pauseAfter(`processor failed in ${name}`);
      return false;
    }
    if (result.status !== 0) {
      pauseAfter(`processor failed in ${name}`);
      return false;
    }
    return true;
  } finally {
    for (const fd of fds) fs.closeSync(fd);
  }
}

export function runProcessor(processor: string, dir: Buffer, name: string): void {
  while (!attempt(processor, dir, name)) {
    // attempt() has already warned and paused
  }
}
