// Building a service directory and putting it into service: it is written
// whole under a hidden name in the services directory, moved to its name
// there, and only then linked into the scanned directory, so that svscan
// never sees a service half written (it decides at first sight whether a
// service has a log). Any failure removes what was made.
//
// fs-extra does three jobs here: outputFileSync writes a file and creates
// the directories above it (log/run, env/K); moveSync puts the finished
// directory in place, refusing to replace one, and copies then removes
// where the two places are on different file systems (rename's EXDEV);
// removeSync takes back a half-built directory.
import fs from 'node:fs';
import path from 'node:path';
import fse from 'fs-extra';
import { ServiceSpec, envEntries, envFile, logRunScript, runScript } from './scripts';
import { systemError, usageError } from './fail';
import { errnoCode } from '../os/errors';

/** Modes of what svctl writes: the scripts and directories readable by all, env (which may hold secrets) by its owner. */
export const MODES = { dir: 0o755, script: 0o755, envDir: 0o700, envFile: 0o600, down: 0o644 } as const;

function writeFile(file: string, data: Buffer, mode: number): void {
  fse.outputFileSync(file, data);
  // the umask must not take the execute bits of ./run (or give env to others)
  fs.chmodSync(file, mode);
}

/** Writes the service directory of spec at dir (which must not exist), as it will be named at final. */
export function writeServiceDir(dir: string, final: string, spec: ServiceSpec): void {
  writeFile(path.join(dir, 'run'), runScript(spec, final), MODES.script);
  if (spec.log) {
    writeFile(path.join(dir, 'log', 'run'), logRunScript(spec), MODES.script);
    fs.chmodSync(path.join(dir, 'log'), MODES.dir);
  }
  const env = envEntries(spec);
  if (env.size) {
    for (const [key, value] of env) writeFile(path.join(dir, 'env', key), envFile(value), MODES.envFile);
    fs.chmodSync(path.join(dir, 'env'), MODES.envDir);
  }
  if (spec.down) writeFile(path.join(dir, 'down'), Buffer.alloc(0), MODES.down);
  fs.chmodSync(dir, MODES.dir);
}

/** The entry NAME in dir, if anything is there (a dangling link counts). */
export function entryExists(dir: string, name: string): boolean {
  try {
    fs.lstatSync(path.join(dir, name));
    return true;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return false;
    throw systemError(`unable to look at ${path.join(dir, name)}`, e);
  }
}

/**
 * Builds the service directory servicesDir/name for spec, complete, and
 * returns its path. Throws (100) when it exists, (111) when it cannot be
 * made; nothing is left behind then.
 */
export function buildService(servicesDir: string, name: string, spec: ServiceSpec): string {
  const final = path.join(servicesDir, name);
  if (entryExists(servicesDir, name)) throw usageError(`${final} exists already (svctl rm --purge ${name} removes it)`);
  try {
    fse.ensureDirSync(servicesDir);
  } catch (e) {
    throw systemError(`unable to create ${servicesDir}`, e);
  }
  let stage: string;
  try {
    // a dot name: nobody takes it for a service, and it is on final's file system
    stage = fs.mkdtempSync(path.join(servicesDir, '.svctl-new-'));
  } catch (e) {
    throw systemError(`unable to create a directory in ${servicesDir}`, e);
  }
  try {
    writeServiceDir(stage, final, spec);
  } catch (e) {
    fse.removeSync(stage);
    throw systemError(`unable to write the service directory ${stage}`, e);
  }
  try {
    fse.moveSync(stage, final, { overwrite: false });
  } catch (e) {
    fse.removeSync(stage);
    if (entryExists(servicesDir, name)) throw usageError(`${final} exists already`);
    throw systemError(`unable to move ${stage} to ${final}`, e);
  }
  return final;
}

/**
 * Links dir into the scanned directory as name. symlink(2) makes the entry
 * in one step (svscan sees nothing, or the whole link) and fails if the
 * name is taken meanwhile, where a rename of a link made aside would
 * replace the service of that name.
 */
export function linkService(scanDir: string, name: string, dir: string): string {
  const link = path.join(scanDir, name);
  try {
    fs.symlinkSync(dir, link);
  } catch (e) {
    if (errnoCode(e) === 'EEXIST') throw usageError(`${link} exists already`);
    throw systemError(`unable to link ${link} to ${dir}`, e);
  }
  return link;
}

/** Takes back what buildService made (a failure after it: the link could not be made). */
export function unbuild(dir: string): void {
  fse.removeSync(dir);
}
