// Renders a program's --help with yargs (bundled alone as dist/_help.js).
import yargs from 'yargs/yargs';
import type { HelpText } from './help';

/**
 * The option entries (a line `  -x  text` and the lines its text wraps onto)
 * put back in the order given: yargs keeps its options in an object, where
 * integer-like keys (svc's -1 and -2) come before all others.
 */
function inGivenOrder(text: string, flags: readonly string[]): string {
  const lines = text.split('\n');
  const first = lines.findIndex((l) => flags.some((f) => l.startsWith(`  ${f} `)));
  if (first < 0) return text;
  const entries: string[][] = [];
  let end = first;
  while (end < lines.length) {
    const flag = flags.find((f) => lines[end].startsWith(`  ${f} `));
    if (flag !== undefined) entries.push([lines[end]]);
    else if (entries.length > 0 && /^ {3,}\S/.test(lines[end])) entries[entries.length - 1].push(lines[end]);
    else break;
    end++;
  }
  const rank = (entry: string[]): number => flags.findIndex((f) => entry[0].startsWith(`  ${f} `));
  entries.sort((a, b) => rank(a) - rank(b));
  return [...lines.slice(0, first), ...entries.flat(), ...lines.slice(end)].join('\n');
}

export function renderHelp(prog: string, help: HelpText): string {
  const parser = yargs([]).scriptName(prog).usage(`${help.usage}\n\n${help.description}`).version(false).help(false).wrap(100);
  for (const [flag, text] of help.options ?? []) {
    parser.option(flag.replace(/^-+/, ''), { describe: text, type: 'boolean' });
  }
  let out = '';
  parser.showHelp((s: string) => {
    out = s;
  });
  return inGivenOrder(out.replace(/ +\[boolean\]/g, ''), (help.options ?? []).map(([flag]) => flag)) + '\n';
}
