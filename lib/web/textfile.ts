// `svweb --textfile FILE dir`: no server; the metrics of /metrics (without
// svweb's own process metrics) written to FILE for node_exporter's textfile
// collector, at start, after every change of a service (what the live page
// follows: lib/web/watch.ts), and every 5 seconds (the seconds in each state). Each write is atomic: a temporary file in
// FILE's directory (a name node_exporter does not read: it takes only
// *.prom), then renamed over FILE, so a scrape never sees half a file.
import fs from 'node:fs';
import path from 'node:path';
import { Diag } from '../os/errors';
import { renderMetrics } from './metrics';
import { readServices } from './services';
import { StatusWatch } from './watch';

const diag = new Diag('svweb');
const REWRITE_MS = 5000;

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

/** The textfile's text for the services of dir now. */
export async function textfileText(dir: string): Promise<string> {
  return renderMetrics(await readServices(dir), { ownProcess: false });
}

/**
 * Writes the metrics of dir's services to file now and after every change,
 * for the life of the process. A failure of the first write is fatal (111);
 * later ones are warned about and retried at the next change.
 */
export async function runTextfile(dir: string, file: string): Promise<never> {
  let text = '';
  try {
    text = await textfileText(dir);
  } catch (e) {
    diag.fatal(`unable to read ${dir}`, e);
  }
  try {
    writeAtomically(file, text);
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
        writeAtomically(file, await textfileText(dir));
        failing = false;
      } catch (e) {
        // once per spell of failures, not at every change
        if (!failing) diag.warn(`unable to write ${file}`, e);
        failing = true;
      }
    } while (again);
    writing = false;
  };
  new StatusWatch(dir).subscribe(() => void update());
  // keeps the process alive (the watches do not) and state_seconds current
  setInterval(() => void update(), REWRITE_MS);
  return new Promise<never>(() => undefined);
}
