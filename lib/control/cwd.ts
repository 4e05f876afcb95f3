// svc and svstat act on each service from inside its directory, as the C
// tools do: chdir into it, use relative names, then return to the starting
// directory through a descriptor opened on it at start (fchdir), so every
// relative argument resolves from where the program started and the error
// wording (chdir vs open) is the C one. Node has no fchdir; chdir to
// /proc/self/fd/N is the same operation (same permission check), with the
// starting path as a fallback where /proc is missing.
import fs from 'node:fs';
import { Diag } from '../os/errors';
import { fsPath } from '../os/raw-argv';

const O_PATH = 0o10000000;

/**
 * chdir(2) to a directory named by a byte string (lib/os/raw-argv.ts). A name
 * that is not UTF-8 cannot go through process.chdir: it is opened with
 * O_PATH (which checks the path as chdir does, and needs no permission on
 * the directory itself), then entered through /proc/self/fd (which checks
 * search permission on it, as chdir does).
 */
export function chdirBytes(dir: string): void {
  const p = fsPath(dir);
  if (typeof p === 'string') {
    process.chdir(p);
    return;
  }
  const fd = fs.openSync(p, O_PATH | fs.constants.O_DIRECTORY);
  try {
    process.chdir(`/proc/self/fd/${fd}`);
  } finally {
    fs.closeSync(fd);
  }
}

export class Origin {
  private static kept: Origin | undefined;

  private constructor(private readonly fd: number, private readonly path: string | undefined) {}

  /** The starting directory, opened at the first call and kept for the process's life (for programs that go in and out of service directories many times). */
  static shared(): Origin {
    Origin.kept ??= Origin.open();
    return Origin.kept;
  }

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

  /** chdir(dir), dir a byte string: throws the system error (ENOENT, ENOTDIR, EACCES, ...). */
  enter(dir: string): void {
    chdirBytes(dir);
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
