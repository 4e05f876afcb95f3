// Words for the generated ./run: every argument of the user's command goes
// into the script as one shell word that sh reads back as exactly its bytes
// (spaces, quotes, `$`, `*`, newlines, bytes that are not UTF-8 included).
// Only this generated script ever meets a shell; nothing else runs one on
// the user's data.

// words sh takes literally as they are (no globbing, no expansion, no assignment)
const PLAIN = /^[A-Za-z0-9_%+:,./@-]+$/;

/** One sh word for arg (its exact bytes): as is when plain, else in single quotes, `'` as `'\''`. */
export function shWord(arg: Buffer): Buffer {
  const bytes = arg.toString('latin1');
  if (PLAIN.test(bytes)) return Buffer.from(bytes, 'latin1');
  return Buffer.from(`'${bytes.replace(/'/g, `'\\''`)}'`, 'latin1');
}

/** shWord for text (a path, an account name). */
export function shText(text: string): Buffer {
  return shWord(Buffer.from(text));
}
