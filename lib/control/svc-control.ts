// What svc sends: one byte per command letter, to dir/supervise/control.
import fs from 'node:fs';
import { writeAllSync } from '../os/write-all';

/** The 0.76 letters, then the daemontools-encore ones (QUIT, USR1, USR2, WINCH). */
export const SVC_LETTERS = 'udopchaitkxq12w';

/** The C svc's second line after an illegal option (it lists only the 0.76 letters). */
export const SVC_OPTIONS_LINE =
  'svc options: u up, d down, o once, x exit, p pause, c continue, h hup, a alarm, i interrupt, t term, k kill\n';

/** The bytes to send: each letter once, at the place it first appeared. */
export function commandBytes(letters: readonly string[]): Buffer {
  return Buffer.from([...new Set(letters)].join(''), 'latin1');
}

export type ControlFailure = { step: 'open' | 'write'; error: unknown };

/**
 * Sends bytes to supervise/control of the current directory. Returns what
 * failed, if anything (open ENXIO means no supervise reads the FIFO).
 */
export function sendControl(bytes: Buffer): ControlFailure | undefined {
  let fd: number;
  try {
    fd = fs.openSync('supervise/control', fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  } catch (error) {
    return { step: 'open', error };
  }
  try {
    writeAllSync(fd, bytes);
    return undefined;
  } catch (error) {
    return { step: 'write', error };
  } finally {
    fs.closeSync(fd);
  }
}
