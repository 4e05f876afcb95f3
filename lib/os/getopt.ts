// getopt(3)-style parsing as the daemontools programs do it: grouped short
// letters, option values attached or in the next word, options end at the
// first non-option word or after `--`; a lone `-` is not an option. As in
// the C tools, any word starting with `--` (`--x` too) ends the options and
// is consumed.

export interface Option {
  letter: string;
  value?: string;
}

export type GetoptResult =
  | { ok: true; options: Option[]; rest: string[] }
  | { ok: false; problem: 'illegal' | 'missing'; letter: string };

/**
 * optstring as in getopt(3): a letter followed by `:` takes a value.
 * onOption sees each option as it is parsed, before a later word can fail
 * (a C tool that checks values inside its getopt loop stops at the first bad one).
 */
export function getopt(args: readonly string[], optstring: string, onOption?: (o: Option) => void): GetoptResult {
  const options: Option[] = [];
  const add = (o: Option): void => {
    onOption?.(o);
    options.push(o);
  };
  let i = 0;
  for (; i < args.length; i++) {
    const word = args[i];
    if (word.startsWith('--')) {
      i++;
      break;
    }
    if (word.length < 2 || word[0] !== '-') break;
    for (let j = 1; j < word.length; j++) {
      const letter = word[j];
      const at = letter === ':' ? -1 : optstring.indexOf(letter);
      if (at < 0) return { ok: false, problem: 'illegal', letter };
      if (optstring[at + 1] !== ':') {
        add({ letter });
        continue;
      }
      if (j + 1 < word.length) {
        add({ letter, value: word.slice(j + 1) });
      } else if (i + 1 < args.length) {
        add({ letter, value: args[++i] });
      } else {
        return { ok: false, problem: 'missing', letter };
      }
      break;
    }
  }
  return { ok: true, options, rest: args.slice(i) };
}

/** The message the C tools print for a getopt failure (before their usage line). */
export function getoptMessage(prog: string, r: { problem: 'illegal' | 'missing'; letter: string }): string {
  return r.problem === 'illegal'
    ? `${prog}: illegal option -- ${r.letter}\n`
    : `${prog}: option requires an argument -- ${r.letter}\n`;
}
