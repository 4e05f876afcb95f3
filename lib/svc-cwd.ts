// svc and svstat act on each service from inside its directory, as the C
// tools do: chdir into it, use relative names, then return to the starting
// directory through a descriptor opened on it at start (fchdir), so every
// relative argument resolves from where the program started and the error
// wording (chdir vs open) is the C one. Node has no fchdir; chdir to
// /proc/self/fd/N is the same operation (same permission check), with the
// starting path as a fallback where /proc is missing.
import fs from 'node:fs';
import { Diag } from './errors';

export class Origin {
  private constructor(private readonly fd: number, private readonly path: string | undefined) {}

  /** Opens the current directory like the C tools (throws their "unable to open current directory" cause). */
  static open(): Origin {
    const fd = fs.openSync('.', fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    let path: string | undefined;
    try {
      path = process.cwd();
    } catch {
      // a removed directory: only the descriptor leads back
    }
    return new Origin(fd, path);
  }

  /** chdir(dir): throws the system error (ENOENT, ENOTDIR, EACCES, ...). */
  enter(dir: string): void {
    process.chdir(dir);
  }

  /** Back to the starting directory; throws the cause of "unable to set directory". */
  back(): void {
    try {
      process.chdir(`/proc/self/fd/${this.fd}`);
    } catch (e) {
      if (this.path === undefined || fs.existsSync('/proc/self/fd')) throw e;
      process.chdir(this.path);
    }
  }
}

/**
 * The C tools' loop: open the starting directory (fatal if it cannot be
 * opened), then for each dir chdir into it and run `inside`, or
 * `chdirFailed` with the error, and come back (fatal if that fails).
 */
export function eachDir(
  diag: Diag,
  dirs: readonly string[],
  inside: (dir: string) => void,
  chdirFailed: (dir: string, error: unknown) => void,
): void {
  let origin: Origin;
  try {
    origin = Origin.open();
  } catch (e) {
    diag.fatal('unable to open current directory', e);
  }
  for (const dir of dirs) {
    let entered = true;
    try {
      origin.enter(dir);
    } catch (e) {
      entered = false;
      chdirFailed(dir, e);
    }
    if (entered) inside(dir);
    try {
      origin.back();
    } catch (e) {
      diag.fatal('unable to set directory', e);
    }
  }
}
