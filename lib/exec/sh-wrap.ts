// A child started through `/bin/sh -c 'SETUP; exec "$@"'` (ulimit, trap):
// the shell exports a PWD of its own, which the child must not get when our
// caller gave none (the C tools' fork and exec add nothing).

/** `unset PWD; ` when our caller's environment had no PWD, else nothing. */
export function noPwdPrelude(): string {
  return process.env.PWD === undefined ? 'unset PWD; ' : '';
}

/** argv run through /bin/sh after `setup` (shell commands made of our own words only). */
export function throughShell(setup: string, argv: readonly string[]): string[] {
  return ['/bin/sh', '-c', `${noPwdPrelude()}${setup}; exec "$@"`, 'sh', ...argv];
}
