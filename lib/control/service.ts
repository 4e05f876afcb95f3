// Paths inside a service directory and the probes every control program
// shares (is supervise running? read the status record).
import fs from 'node:fs';
import path from 'node:path';
import { errnoCode } from '../os/errors';
import { decodeStatus, Status, Want } from '../supervise/status';

export const SUPERVISE_DIR = 'supervise';

export function superviseFile(dir: string, name: 'lock' | 'control' | 'ok' | 'status' | 'status.new'): string {
  return path.join(dir, SUPERVISE_DIR, name);
}

/**
 * Opens supervise/ok for writing without blocking: succeeds exactly while a
 * supervise holds it open for reading. Throws the system error otherwise
 * (ENXIO: no supervise; ENOENT: never supervised). dir may be a Buffer: a
 * path of bytes that need not be UTF-8.
 */
export function probeOk(dir: string | Buffer): void {
  const ok = typeof dir === 'string' ? superviseFile(dir, 'ok') : Buffer.concat([dir, Buffer.from(`/${SUPERVISE_DIR}/ok`)]);
  fs.closeSync(fs.openSync(ok, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
}

export function isSupervised(dir: string | Buffer): boolean {
  try {
    probeOk(dir);
    return true;
  } catch {
    return false;
  }
}

/** Reads supervise/status; undefined if it is too short to be a record. */
export function readStatus(dir: string): Status | undefined {
  return decodeStatus(fs.readFileSync(superviseFile(dir, 'status')));
}

/** The wish a supervise starts with: down when DIR/down exists. Throws when that cannot be told. */
export function initialWant(dir: string): Want {
  try {
    fs.statSync(path.join(dir, 'down'));
    return 'down';
  } catch (e) {
    if (errnoCode(e) !== 'ENOENT') throw e;
    return 'up';
  }
}
