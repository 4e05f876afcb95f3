// `svctl status`: one row per service of the scanned directory, read by
// svstat's own code (lib/control/svstat-report.ts: the 18 bytes, and our
// supervise's supervise/info for restarts and the last exit), shown as an
// aligned table (state coloured on a terminal) or as svstat --json's
// objects with the service's name and its log's state added.
import fs from 'node:fs';
import path from 'node:path';
import { Origin } from '../control/cwd';
import { InfoReader, lastExitIn } from '../control/svstat-info';
import { Report, formatJson, newRecord, probe } from '../control/svstat-report';
import { asBytes } from './fail';

export interface Row {
  name: string;
  /** the entry in the scanned directory */
  dir: string;
  service: Report;
  /** its ./log service, when it has one */
  log?: Report;
}

/** Probes each named service of scanDir (and its log) as svstat does. */
export function readRows(scanDir: string, names: readonly string[]): Row[] {
  const here = Origin.shared();
  const record = newRecord();
  const infos = new InfoReader();
  const look = (dir: string): Report => {
    try {
      here.enter(asBytes(dir));
    } catch (e) {
      return { kind: 'failure', what: 'unable to chdir', cause: e };
    }
    try {
      const report = probe(Math.floor(Date.now() / 1000), record);
      if (report.kind === 'status') report.info = infos.read();
      return report;
    } finally {
      here.back();
    }
  };
  return names.map((name) => {
    const dir = path.join(scanDir, name);
    const hasLog = fs.existsSync(path.join(dir, 'log'));
    return { name, dir, service: look(dir), ...(hasLog ? { log: look(path.join(dir, 'log')) } : {}) };
  });
}

/** 3d04h, 2h05m, 5m03s, 42s */
export function duration(seconds: number): string {
  const d = Math.floor(seconds / 86400);
  const h = Math.floor((seconds % 86400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  const two = (n: number): string => String(n).padStart(2, '0');
  if (d) return `${d}d${two(h)}h`;
  if (h) return `${h}h${two(m)}m`;
  if (m) return `${m}m${two(s)}s`;
  return `${s}s`;
}

type Tone = 'good' | 'bad' | 'quiet';

/** The state word of a report, and how it is coloured. */
function stateOf(r: Report): { text: string; tone: Tone } {
  if (r.kind === 'failure') {
    return r.cause === undefined ? { text: 'not supervised', tone: 'bad' } : { text: 'error', tone: 'bad' };
  }
  if (r.pid) {
    if (r.paused) return { text: 'paused', tone: 'quiet' };
    if (r.want === 'down') return { text: 'stopping', tone: 'quiet' };
    return { text: 'up', tone: 'good' };
  }
  if (r.want === 'up') return { text: 'starting', tone: 'bad' };
  return { text: 'down', tone: 'quiet' };
}

function lastExit(r: Report): string {
  const exit = r.kind === 'status' ? lastExitIn(r.info) : undefined;
  if (exit?.code !== null && exit?.code !== undefined) return `exit ${exit.code}`;
  if (exit?.signal) return `signal ${exit.signal}`;
  return '-';
}

function restarts(r: Report): string {
  const starts = r.kind === 'status' ? r.info?.starts : undefined;
  return typeof starts === 'number' ? String(Math.max(0, starts - 1)) : '-';
}

const COLOURS: Record<Tone, string> = { good: '\x1b[32m', bad: '\x1b[31m', quiet: '\x1b[33m' };
const RESET = '\x1b[0m';

export const HEADER = ['NAME', 'STATE', 'PID', 'UPTIME', 'RESTARTS', 'LAST EXIT', 'LOG'];

/**
 * The table: a header, one row per service, columns padded to their widest
 * cell; the state coloured when colour is true. Restarts and the last exit
 * are known under our supervise only (supervise/info): `-` under the C one.
 */
export function formatTable(rows: readonly Row[], colour: boolean): string {
  const cells = rows.map((row) => {
    const r = row.service;
    const state = stateOf(r);
    const up = r.kind === 'status' && r.pid !== 0;
    return {
      tone: state.tone,
      cols: [
        row.name,
        state.text,
        up ? String((r as { pid: number }).pid) : '-',
        up ? duration(Number((r as { seconds: bigint }).seconds)) : '-',
        restarts(r),
        lastExit(r),
        row.log ? stateOf(row.log).text : '-',
      ],
    };
  });
  const widths = HEADER.map((h, i) => Math.max(h.length, ...cells.map((c) => c.cols[i].length)));
  const render = (cols: string[], tone?: Tone): string => cols.map((c, i) => {
    const padded = i === cols.length - 1 ? c : c.padEnd(widths[i]);
    return i === 1 && tone && colour ? COLOURS[tone] + padded + RESET : padded;
  }).join('  ').trimEnd() + '\n';
  return render(HEADER) + cells.map((c) => render(c.cols, c.tone)).join('');
}

/** One JSON object per line: svstat --json's for the service, with its name, and its log's as `log` (null: none). */
export function formatJsonRows(rows: readonly Row[]): string {
  return rows.map((row) => JSON.stringify({
    name: row.name,
    ...JSON.parse(formatJson(row.dir, row.service)),
    log: row.log ? JSON.parse(formatJson(path.join(row.dir, 'log'), row.log)) : null,
  }) + '\n').join('');
}
