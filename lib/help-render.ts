// Renders a program's --help with yargs (bundled alone as dist/_help.js).
import yargs from 'yargs/yargs';
import type { HelpText } from './help';

export function renderHelp(prog: string, help: HelpText): string {
  const parser = yargs([]).scriptName(prog).usage(`${help.usage}\n\n${help.description}`).version(false).help(false).wrap(100);
  for (const [flag, text] of help.options ?? []) {
    parser.option(flag.replace(/^-+/, ''), { describe: text, type: 'boolean' });
  }
  let out = '';
  parser.showHelp((s: string) => {
    out = s;
  });
  return out.replace(/ +\[boolean\]/g, '') + '\n';
}
