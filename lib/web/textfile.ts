// `svweb --textfile FILE dir`: no server; the metrics of /metrics (without
// svweb's own process metrics) written to FILE for node_exporter's textfile
// collector, at start, after every change of a service (what the live page
// follows: lib/web/watch.ts, which also looks at every service every 5 s),
// and once a minute from what it last saw, for the seconds in each state
// (more often would be a disk write and a rename every few seconds for that
// figure alone). Each write is atomic: a temporary file in FILE's
// directory (a name node_exporter does not read: it takes only *.prom),
// then renamed over FILE, so a scrape never sees half a file.
import fs from 'node:fs';
import path from 'node:path';
import { Diag } from '../os/errors';
import { secondsSince } from '../control/svstat-report';
import { renderMetrics } from './metrics';
import { ServiceView, readServices } from './services';
import { StatusWatch } from './watch';

const diag = new Diag('svweb');
const REWRITE_MS = 60_000;

/** Replaces file with text through a temporary file in the same directory. */
export function writeAtomically(file: string, text: string): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    fs.writeFileSync(tmp, text, { mode: 0o644 });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** The textfile's text for these views, their seconds counted to now from the time of their last change. */
export async function textfileText(views: readonly ServiceView[], nowMs = Date.now()): Promise<string> {
  const nowUnix = Math.floor(nowMs / 1000);
  return renderMetrics(views.map((v) => {
    if (typeof v.since !== 'string' || !/^@[0-9a-f]{24}$/.test(v.since)) return v;
    return { ...v, seconds: Number(secondsSince(Buffer.from(v.since.slice(1), 'hex').readBigUInt64BE(0), nowUnix)) };
  }), { ownProcess: false });
}

/**
 * Writes the metrics of dir's services to file now and after every change,
 * for the life of the process. A failure of the first write is fatal (111);
 * later ones are warned about (once until a write succeeds again) and
 * retried at the next change or tick.
 */
export async function runTextfile(dir: string, file: string): Promise<never> {
  let views = new Map<string, ServiceView>();
  try {
    views = new Map((await readServices(dir)).map((v) => [v.name, v]));
  } catch (e) {
    diag.fatal(`unable to read ${dir}`, e);
  }
  try {
    writeAtomically(file, await textfileText([...views.values()]));
  } catch (e) {
    diag.fatal(`unable to write ${file}`, e);
  }
  let writing = false;
  let again = false;
  let failing = false;
  const update = async (): Promise<void> => {
    if (writing) {
      again = true;
      return;
    }
    writing = true;
    do {
      again = false;
      try {
        writeAtomically(file, await textfileText([...views.values()].sort((a, b) => (a.name < b.name ? -1 : 1))));
        failing = false;
      } catch (e) {
        if (!failing) diag.warn(`unable to write ${file}`, e);
        failing = true;
      }
    } while (again);
    writing = false;
  };
  new StatusWatch(dir).subscribe((e) => {
    if (e.kind === 'services') views = new Map(e.services.map((v) => [v.name, v]));
    else views.set(e.service.name, e.service);
    void update();
  });
  // keeps the process alive (the watches do not) and state_seconds within a minute
  setInterval(() => void update(), REWRITE_MS);
  return new Promise<never>(() => undefined);
}
