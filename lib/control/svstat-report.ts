// What svstat finds out about one service directory (the current directory
// when probe() runs), and its two renderings: the C svstat's line, byte for
// byte, and a JSON object (beyond).
import fs from 'node:fs';
import { reason } from '../os/errors';
import { probeOk } from './service';
import { STATUS_SIZE, Want, decodeStatus } from '../supervise/status';
import type { Info } from './svstat-info';
import { inState } from './wait';
import { parse } from '../tai64';

/** A status record buffer for probe(), one per run. */
export function newRecord(): Buffer {
  return Buffer.alloc(STATUS_SIZE);
}

export interface StatusReport {
  kind: 'status';
  pid: number;
  /** whole seconds since the last change of pid, as the C svstat prints it */
  seconds: bigint;
  paused: boolean;
  want: Want;
  normallyUp: boolean;
  /** the TAI64N label of the last change, `@` + 24 hex digits */
  since: string;
  /**
   * Set when reading supervise/status failed (it is a directory, say). The C
   * svstat does not report it (its length check misses the -1) and prints
   * whatever its record buffer held: the previous directory's record, or
   * zeros. The plain form does the same; the JSON form reports the error.
   */
  readError?: unknown;
  /** our supervise's supervise/info, when current (lib/control/svstat-info.ts): the beyond facts */
  info?: Info;
}

export interface FailureReport {
  kind: 'failure';
  /** e.g. "unable to open supervise/ok", or "supervise not running" with no cause */
  what: string;
  /** a system error, or the text of the reason (e.g. "bad format") */
  cause?: unknown;
}

export type Report = StatusReport | FailureReport;

const TAI_OFFSET = (1n << 62n) + 10n;

/**
 * Seconds from a TAI64 label to now, computed as the C svstat does: in
 * unsigned 64 bits, 0 for a time in the future, then through a double
 * (so absurd labels print the same absurd number).
 */
export function secondsSince(label: bigint, nowUnix: number): bigint {
  const now = TAI_OFFSET + BigInt(nowUnix);
  if (now < label) return 0n;
  return BigInt(Number(now - label));
}

function failure(what: string, cause?: unknown): FailureReport {
  return { kind: 'failure', what, cause };
}

/**
 * Probes the service in the current directory, in the C svstat's order.
 * `record` is the status buffer, kept from one directory to the next.
 */
export function probe(nowUnix: number, record: Buffer): Report {
  let normallyUp: boolean;
  try {
    normallyUp = fs.statSync('down', { throwIfNoEntry: false }) === undefined;
  } catch (e) {
    return failure('unable to stat down', e);
  }
  try {
    probeOk('.');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENXIO') return failure('supervise not running');
    return failure('unable to open supervise/ok', e);
  }
  let fd: number;
  try {
    fd = fs.openSync('supervise/status', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    return failure('unable to open supervise/status', e);
  }
  let got = STATUS_SIZE;
  let readError: unknown;
  try {
    got = fs.readSync(fd, record, 0, STATUS_SIZE, null);
  } catch (e) {
    readError = e;
  } finally {
    fs.closeSync(fd);
  }
  const status = decodeStatus(record.subarray(0, got));
  if (!status) return failure('unable to read supervise/status', 'bad format');
  return {
    kind: 'status',
    pid: status.pid,
    seconds: secondsSince(record.readBigUInt64BE(0), nowUnix),
    paused: status.paused,
    want: status.want,
    normallyUp,
    since: '@' + record.toString('hex', 0, 12),
    ...(readError === undefined ? {} : { readError }),
  };
}

function label(info: Info | undefined, field: string): string | undefined {
  const v = info?.[field];
  return typeof v === 'string' && parse(v) ? v : undefined;
}

function count(info: Info | undefined, field: string): number | undefined {
  const v = info?.[field];
  return typeof v === 'number' ? v : undefined;
}

/**
 * What our supervise's info adds to the line, in s6-svstat's place (after
 * everything else): `, ready N seconds` (a service with notification-fd
 * that told it is ready), `, restarting in N seconds` (a start delayed by
 * back-off), `, gave up after N failed starts`. Nothing without info, so
 * lines stay the C svstat's.
 */
export function lifecycleSuffix(r: StatusReport, nowMs: number): string {
  const info = r.info;
  if (!info) return '';
  const nowUnix = Math.floor(nowMs / 1000);
  let s = '';
  const readySince = label(info, 'readySince');
  if (r.pid && count(info, 'notification') !== undefined && readySince) {
    s += `, ready ${secondsSince(Buffer.from(readySince.slice(1), 'hex').readBigUInt64BE(0), nowUnix)} seconds`;
  }
  const restartAt = label(info, 'restartAt');
  if (!r.pid && restartAt) {
    const t = parse(restartAt)!;
    const left = Math.ceil((t.sec * 1000 + t.nano / 1e6 - nowMs) / 1000);
    if (left > 0) s += `, restarting in ${left} seconds`;
  }
  const gaveUp = count(info, 'gaveUp');
  if (!r.pid && gaveUp !== undefined) s += `, gave up after ${gaveUp} failed starts`;
  return s;
}

/** The C svstat's line for dir (with its newline), and what our supervise's info adds (lifecycleSuffix). */
export function formatLine(dir: string, r: Report, nowMs = Date.now()): string {
  if (r.kind === 'failure') {
    if (r.cause === undefined) return `${dir}: ${r.what}\n`;
    return `${dir}: ${r.what}: ${typeof r.cause === 'string' ? r.cause : reason(r.cause)}\n`;
  }
  let line = r.pid ? `${dir}: up (pid ${r.pid}) ` : `${dir}: down `;
  line += `${r.seconds} seconds`;
  if (r.pid && !r.normallyUp) line += ', normally down';
  if (!r.pid && r.normallyUp) line += ', normally up';
  if (r.pid && r.paused) line += ', paused';
  if (!r.pid && r.want === 'up') line += ', want up';
  if (r.pid && r.want === 'down') line += ', want down';
  return line + lifecycleSuffix(r, nowMs) + '\n';
}

/** One JSON object (one line) with the same facts, for `svstat --json`. */
export function formatJson(dir: string, r: Report): string {
  if (r.kind === 'status' && r.readError !== undefined) {
    return formatJson(dir, failure('unable to read supervise/status', r.readError));
  }
  if (r.kind === 'failure') {
    const notRunning = r.cause === undefined;
    return JSON.stringify({
      dir,
      state: notRunning ? 'not running' : 'error',
      ...(notRunning ? {} : { error: formatLine('', r).slice(2, -1) }),
    }) + '\n';
  }
  return JSON.stringify({
    dir,
    state: r.pid ? 'up' : 'down',
    pid: r.pid || null,
    seconds: Number(r.seconds),
    since: r.since,
    paused: r.pid ? r.paused : false,
    want: r.want,
    normallyUp: r.normallyUp,
    // beyond: readiness, ./finish, back-off (null when info does not tell)
    ready: inState('U', { since: r.since, pid: r.pid }, r.info, {}, 0) === true,
    readySince: label(r.info, 'readySince') ?? null,
    finishing: r.info?.finishing === true ? true : null,
    failedInRow: count(r.info, 'failedInRow') ?? null,
    restartAt: label(r.info, 'restartAt') ?? null,
    gaveUp: count(r.info, 'gaveUp') ?? null,
    ...(r.info ? { info: r.info } : {}),
  }) + '\n';
}
