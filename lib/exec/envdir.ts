// Reading an envdir: one variable per file, as the C envdir reads them.
import fs from 'node:fs';

/** Where reading failed, in the words of the C envdir's messages. */
export class EnvDirError extends Error {
  constructor(public readonly what: string, public readonly cause: unknown) {
    super(what);
  }
}

const NL = 0x0a;

/** The value a file's content gives: first line, trailing blanks cut, NUL as newline; null (remove) if empty. */
export function envValue(content: Buffer): Buffer | null {
  if (content.length === 0) return null;
  let end = content.indexOf(NL);
  if (end < 0) end = content.length;
  while (end > 0 && (content[end - 1] === 0x20 || content[end - 1] === 0x09)) end--;
  const value = Buffer.from(content.subarray(0, end));
  for (let i = 0; i < value.length; i++) if (value[i] === 0) value[i] = NL;
  return value;
}

/** Reads up to the first newline (or the whole file), non-blocking so that a FIFO never hangs. */
function readFirstLine(file: Buffer): Buffer {
  let fd: number;
  try {
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    // a name that vanished (or a dangling symlink) reads as empty
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw e;
  }
  try {
    const chunks: Buffer[] = [];
    const buf = Buffer.allocUnsafe(4096);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      const chunk = Buffer.from(buf.subarray(0, n));
      chunks.push(chunk);
      if (chunk.includes(NL)) break;
    }
    return Buffer.concat(chunks);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The changes dir asks for: name → value, or null to remove. Throws an
 * EnvDirError naming what failed. Entries come in directory order. dir,
 * the names and the messages are strings of bytes (latin1: one character per
 * byte), so that a name that is not UTF-8 is read and told as it is.
 */
export function readEnvDir(dir: string): Map<string, Buffer | null> {
  const dirBytes = Buffer.from(dir, 'latin1');
  // the C envdir opens the current directory first (to come back to it):
  // one it may enter but not read stops it
  try {
    fs.closeSync(fs.openSync('.', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK));
  } catch (e) {
    throw new EnvDirError('unable to switch to current directory', e);
  }
  try {
    if (!fs.statSync(dirBytes).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    fs.accessSync(dirBytes, fs.constants.X_OK);
  } catch (e) {
    throw new EnvDirError(`unable to switch to directory ${dir}`, e);
  }
  let handle: fs.Dir;
  try {
    // names as Buffers (Node supports it; its types do not say so)
    handle = fs.opendirSync(dirBytes, { encoding: 'buffer' as unknown as BufferEncoding });
  } catch (e) {
    throw new EnvDirError(`unable to read directory ${dir}`, e);
  }
  const changes = new Map<string, Buffer | null>();
  try {
    for (;;) {
      let entry: fs.Dirent | null;
      try {
        entry = handle.readSync();
      } catch (e) {
        throw new EnvDirError(`unable to read directory ${dir}`, e);
      }
      if (!entry) break;
      const nameBytes = entry.name as unknown as Buffer;
      if (nameBytes[0] === 0x2e) continue;
      const name = nameBytes.toString('latin1');
      try {
        changes.set(name, envValue(readFirstLine(Buffer.concat([dirBytes, Buffer.from('/'), nameBytes]))));
      } catch (e) {
        throw new EnvDirError(`unable to read ${dir}/${name}`, e);
      }
    }
  } finally {
    handle.closeSync();
  }
  return changes;
}
