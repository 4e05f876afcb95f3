// `svctl show NAME`: where the service is, its run scripts as they are on
// disk, its environment files and its state (svstat's line).
import fs from 'node:fs';
import path from 'node:path';
import { Located } from './remove';
import { formatLine } from '../control/svstat-report';
import { readRows } from './status-table';
// a file's bytes, or undefined when it cannot be read
import { readProc as readOr } from '../os/raw-argv';

const indent = (text: Buffer): Buffer =>
  Buffer.from(text.toString('latin1').replace(/\n$/, '').split('\n').map((l) => `    ${l}\n`).join(''), 'latin1');

/** The description of the service at where (named name), as bytes. */
export function describe(name: string, where: Located, scanDir: string): Buffer {
  const out: Buffer[] = [];
  const text = (s: string): void => {
    out.push(Buffer.from(s));
  };
  text(`name: ${name}\n`);
  text(`directory: ${where.dir}\n`);
  text(`scanned as: ${where.entry ?? '(not in the scanned directory)'}\n`);
  if (where.entry) {
    const [row] = readRows(scanDir, [name]);
    text(`status: ${formatLine(name, row.service).slice(name.length + 2)}`);
    if (row.log) text(`log status: ${formatLine('log', row.log).slice(5)}`);
  }
  text(`starts: ${fs.existsSync(path.join(where.dir, 'down')) ? 'down (./down exists: svctl start NAME starts it)' : 'up'}\n`);
  for (const file of ['run', 'log/run', 'finish']) {
    const body = readOr(path.join(where.dir, file));
    if (body === undefined) continue;
    text(`${file}:\n`);
    out.push(indent(body));
  }
  let env: string[] = [];
  try {
    env = fs.readdirSync(path.join(where.dir, 'env')).filter((e) => !e.startsWith('.')).sort();
  } catch {
    // none, or not readable
  }
  if (env.length) {
    text('env:\n');
    for (const key of env) {
      const value = readOr(path.join(where.dir, 'env', key));
      // as envdir reads it: the first line; NUL bytes are newlines
      const first = value === undefined ? undefined : value.subarray(0, value.indexOf(0x0a) < 0 ? value.length : value.indexOf(0x0a));
      text(`    ${key}=`);
      out.push(first === undefined ? Buffer.from('(unreadable)') : Buffer.from(JSON.stringify(first.toString('utf8').replace(/\0/g, '\n')).slice(1, -1)));
      text('\n');
    }
  }
  if (fs.existsSync(path.join(where.dir, 'log'))) text(`log: ${path.join(where.dir, 'log', 'main')}\n`);
  return Buffer.concat(out);
}
