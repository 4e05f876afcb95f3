// multilog's pattern language: `*` swallows bytes up to the first occurrence
// of the byte that follows it in the pattern (a final `*` swallows the rest);
// every other byte is literal; the pattern must cover the whole line.

/** Whether `pattern` matches line[start, end). */
export function match(pattern: Buffer, line: Buffer, start: number, end: number): boolean {
  const plen = pattern.length;
  let p = 0;
  let i = start;
  for (;;) {
    if (p === plen) return i === end;
    const ch = pattern[p++];
    if (ch === 0x2a) {
      if (p === plen) return true;
      const next = pattern[p];
      for (;;) {
        if (i === end) return false;
        if (line[i] === next) break;
        i++;
      }
      continue;
    }
    if (i === end || line[i] !== ch) return false;
    i++;
  }
}
