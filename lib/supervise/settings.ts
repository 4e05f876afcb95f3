// The files beyond daemontools 0.76 that a service directory may have, each
// opt-in (absent: the 0.76 behaviour), with s6's names and meanings where s6
// has the feature: down-signal, timeout-kill, timeout-finish,
// notification-fd; and the restart back-off files start-secs, backoff-max,
// start-retries. Each is read when it is needed (a change applies from the
// next use on, as in s6). A bad value is a warning naming the file and the
// value, once for as long as the file says the same, and that feature is
// off: the service behaves as if the file were absent.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Settings {
  /** down-signal: what `d` sends instead of TERM (then CONT, as for TERM). */
  downSignal(): NodeJS.Signals;
  /** timeout-kill: ms after `d` before SIGKILL; 0: never. */
  timeoutKill(): number;
  /** timeout-finish: ms ./finish may take before SIGKILL; 0: no limit. Default 5000. */
  timeoutFinish(): number;
  /** notification-fd: the descriptor ./run writes its readiness to; undefined: none. */
  notificationFd(): number | undefined;
  /** start-secs: a run shorter than this (ms) is a failed start. Default 1000. */
  startMs(): number;
  /** backoff-max: the longest wait (ms) between failed starts. Default 1000: the 0.76 rule. */
  backoffMaxMs(): number;
  /** start-retries: give up after this many failed starts in a row; Infinity: never. */
  startRetries(): number;
}

const DEFAULT_FINISH_MS = 5000;
const SECOND = 1000;

/** The text of the file, without one trailing newline; undefined when absent or unreadable. */
function read(file: string): string | undefined {
  // most services have none of these files: asked first, without the cost of an exception
  if (!fs.existsSync(file)) return undefined;
  try {
    return fs.readFileSync(file, 'latin1').replace(/\n$/, '');
  } catch {
    return undefined;
  }
}

/** A signal by name (`HUP`, `SIGHUP`) or number, as s6 takes them. */
export function parseSignal(text: string): NodeJS.Signals | undefined {
  const signals = os.constants.signals as Record<string, number>;
  if (/^[0-9]+$/.test(text)) {
    const n = Number(text);
    return (Object.keys(signals) as NodeJS.Signals[]).find((name) => signals[name] === n);
  }
  const name = (text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`) as NodeJS.Signals;
  return name in signals ? name : undefined;
}

/** A whole number of milliseconds, 0 or more. */
function parseMs(text: string): number | undefined {
  return /^[0-9]{1,10}$/.test(text) ? Number(text) : undefined;
}

/** Seconds as a positive decimal number (`1`, `0.5`, `30`), in ms. */
function parseSeconds(text: string): number | undefined {
  if (!/^[0-9]{1,7}(\.[0-9]{1,3})?$/.test(text)) return undefined;
  const ms = Math.round(Number(text) * SECOND);
  return ms > 0 ? ms : undefined;
}

function parseCount(text: string): number | undefined {
  return /^[0-9]{1,9}$/.test(text) && Number(text) > 0 ? Number(text) : undefined;
}

function parseFd(text: string): number | undefined {
  // 0, 1 and 2 are ./run's stdin, stdout and stderr
  return /^[0-9]{1,4}$/.test(text) && Number(text) > 2 ? Number(text) : undefined;
}

/** The settings of the service directory dir; warn(file, text) reports a bad value. */
export function serviceSettings(dir: string, warn: (file: string, text: string) => void): Settings {
  const warned = new Map<string, string>();
  function setting<T>(name: string, parse: (text: string) => T | undefined, fallback: T): T {
    const text = read(path.join(dir, name));
    if (text === undefined) {
      warned.delete(name);
      return fallback;
    }
    const value = parse(text);
    if (value !== undefined) return value;
    if (warned.get(name) !== text) warn(name, text);
    warned.set(name, text);
    return fallback;
  }
  return {
    downSignal: () => setting('down-signal', parseSignal, 'SIGTERM'),
    timeoutKill: () => setting('timeout-kill', parseMs, 0),
    timeoutFinish: () => setting('timeout-finish', parseMs, DEFAULT_FINISH_MS),
    notificationFd: () => setting<number | undefined>('notification-fd', parseFd, undefined),
    startMs: () => setting('start-secs', parseSeconds, SECOND),
    backoffMaxMs: () => setting('backoff-max', parseSeconds, SECOND),
    startRetries: () => setting('start-retries', parseCount, Infinity),
  };
}
