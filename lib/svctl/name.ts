// The rules for a service's name: it becomes an entry of the scanned
// directory and of the services directory, a column of `svctl status`, a
// JSON string, and a word the user types.
import { usageError } from './fail';

/** A name read from the command line as bytes (latin1 string): the name as text, or a usage error. */
export function checkName(bytes: string): string {
  if (bytes === '') throw usageError('the service name is empty');
  const text = Buffer.from(bytes, 'latin1').toString('utf8');
  const shown = JSON.stringify(text);
  if (bytes.startsWith('.')) throw usageError(`service name ${shown} starts with a dot (svscan ignores such entries)`);
  if (bytes.includes('/')) throw usageError(`service name ${shown} contains a slash`);
  if (bytes.includes('\0')) throw usageError(`service name ${shown} contains a NUL byte`);
  // tables, svstat lines and log views must show it on one line, as typed
  if (/[\x00-\x1f\x7f]/.test(bytes)) throw usageError(`service name ${shown} contains a control character`);
  if (!Buffer.from(text).equals(Buffer.from(bytes, 'latin1'))) throw usageError(`service name ${shown} is not UTF-8`);
  return text;
}

/** A path or account name given as bytes: the text, or a usage error naming the option. */
export function utf8Arg(option: string, bytes: string): string {
  const text = Buffer.from(bytes, 'latin1').toString('utf8');
  if (!Buffer.from(text).equals(Buffer.from(bytes, 'latin1'))) throw usageError(`${option} ${JSON.stringify(text)} is not UTF-8`);
  return text;
}
