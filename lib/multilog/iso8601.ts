// The `T` action's stamp: the time in UTC as s6-log's `T` writes it, an
// ISO 8601 date and time with a space (not a `T`) between them and nine
// digits of fraction, `YYYY-MM-DD HH:MM:SS.NNNNNNNNN`. (s6-log writes local
// time; this is always UTC.) Node's clock gives microseconds: the last three
// digits are 0. Lines that start with it are left alone by tai64nlocal,
// which converts only lines starting with `@`.
import type { Tai64n } from '../tai64';

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

export function formatIso(t: Tai64n): string {
  const d = new Date(t.sec * 1000);
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
  const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  const micro = Math.floor(t.nano / 1000);
  return `${date} ${time}.${pad(micro, 6)}000`;
}

/** What `T` puts before each line: the stamp and two spaces, as s6-log does. */
export function isoPrefix(t: Tai64n): string {
  return `${formatIso(t)}  `;
}
