// Shared by the multilog tests: TAI64N labels masked, and a directory tree
// as comparable lines.
import fs from 'node:fs';
import path from 'node:path';

const LABEL = /@[0-9a-f]{24}/g;

/** Text (a Buffer as latin1) with every @TAI64N label replaced by @LABEL. */
export function mask(b: Buffer | string): string {
  return (typeof b === 'string' ? b : b.toString('latin1')).replace(LABEL, '@LABEL');
}

/** Every file under dir: masked name, type, mode, masked contents (in name order). */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const name of fs.readdirSync(d).sort()) {
      const full = path.join(d, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(full);
      const mode = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out.push(`${mask(r)} -> ${fs.readlinkSync(full)}`);
      else if (st.isDirectory()) {
        out.push(`${mask(r)}/ ${mode}`);
        walk(full, r);
      } else if (st.isFIFO()) out.push(`${mask(r)} fifo ${mode}`);
      else out.push(`${mask(r)} ${mode} ${st.size} ${mask(fs.readFileSync(full))}`);
    }
  };
  walk(dir, '');
  return out;
}
