// The files of a service directory svctl writes: ./run (a chain of exec's,
// as daemontools' own run scripts are), ./log/run (multilog) and the files
// of ./env (envdir's format).
import path from 'node:path';
import { shText, shWord } from './sh-quote';
import { usageError } from './fail';

export interface ServiceSpec {
  /** the command and its arguments, exact bytes */
  command: Buffer[];
  /** run as this account (setuidgid) */
  user?: string;
  /** --env K=V, in the order given (a later K wins) */
  env: Array<[string, Buffer]>;
  /** an env directory of the user's, absolute, read before ./env */
  envDir?: string;
  /** the command's working directory, absolute */
  cwd?: string;
  /** softlimit -m */
  limitMem?: string;
  /** softlimit -o */
  limitFiles?: string;
  /** start in the "want down" state (./down) */
  down: boolean;
  /** a ./log service with multilog */
  log: boolean;
  /** multilog s */
  logSize?: string;
  /** multilog n */
  logFiles?: string;
}

/** What ./log/run keeps by default: files of 1 MB, ten of them (the service template's values). */
export const DEFAULT_LOG_SIZE = '1000000';
export const DEFAULT_LOG_FILES = '10';

/** multilog's bounds for s and n (it would clamp s, and refuse n below 2). */
export const LOG_SIZE_MIN = 4096;
export const LOG_SIZE_MAX = 16777215;
export const LOG_FILES_MIN = 2;

/** A count given on the command line: digits only, within [min, max]; a usage error otherwise. */
export function checkCount(option: string, value: string, min: number, max = Number.MAX_SAFE_INTEGER): string {
  if (!/^[0-9]+$/.test(value) || Number(value) < min || Number(value) > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `${min} to ${max}`;
    throw usageError(`${option} ${JSON.stringify(value)}: a number ${range} is needed`);
  }
  return String(Number(value));
}

/**
 * An --env K=V argument (bytes): K and V, or a usage error. envdir sets a
 * variable from a file's first line without its trailing blanks and turns
 * NUL bytes into newlines: V is written that way, and a V ending in a blank
 * cannot be (refused rather than changed).
 */
export function parseEnv(arg: Buffer): [string, Buffer] {
  const eq = arg.indexOf(0x3d);
  const shown = JSON.stringify(arg.toString('utf8'));
  if (eq <= 0) throw usageError(`--env ${shown}: NAME=VALUE is needed`);
  const keyBytes = arg.subarray(0, eq);
  const key = keyBytes.toString('utf8');
  if (!Buffer.from(key).equals(keyBytes)) throw usageError(`--env ${shown}: the name is not UTF-8`);
  if (key.startsWith('.') || key.includes('/')) throw usageError(`--env ${shown}: a variable name cannot start with a dot or hold a slash (envdir)`);
  const value = arg.subarray(eq + 1);
  const last = value[value.length - 1];
  if (last === 0x20 || last === 0x09) throw usageError(`--env ${shown}: envdir drops blanks at the end of a value`);
  return [key, Buffer.from(value)];
}

/** The content of env/K for value: newlines as NUL bytes (envdir turns them back), then a newline. */
export function envFile(value: Buffer): Buffer {
  const out = Buffer.alloc(value.length + 1);
  for (let i = 0; i < value.length; i++) out[i] = value[i] === 0x0a ? 0 : value[i];
  out[value.length] = 0x0a;
  return out;
}

/** The variables of --env, the last value of each name. */
export function envEntries(spec: ServiceSpec): Map<string, Buffer> {
  return new Map(spec.env);
}

const line = (...parts: Buffer[]): Buffer => Buffer.concat([...parts.flatMap((p, i) => (i ? [Buffer.from(' '), p] : [p]))]);

/**
 * ./run for spec in the service directory serviceDir (absolute: ./env is
 * named by its full path when --cwd moves the command elsewhere).
 */
export function runScript(spec: ServiceSpec, serviceDir: string): Buffer {
  const out: Buffer[] = [
    Buffer.from('#!/bin/sh\n# Written by svctl add. Each word of the exec line sets one thing up, then execs the rest.\n' +
      '# stderr joins stdout, which goes to ./log/run (multilog) or svscan\'s output\nexec 2>&1\n'),
  ];
  const chain: Buffer[] = [];
  if (spec.envDir !== undefined) chain.push(line(Buffer.from('envdir'), shText(spec.envDir)));
  if (spec.env.length) chain.push(line(Buffer.from('envdir'), spec.cwd === undefined ? Buffer.from('./env') : shText(path.join(serviceDir, 'env'))));
  if (spec.user !== undefined) chain.push(line(Buffer.from('setuidgid'), shText(spec.user)));
  const limits: Buffer[] = [];
  if (spec.limitMem !== undefined) limits.push(Buffer.from(`-m ${spec.limitMem}`));
  if (spec.limitFiles !== undefined) limits.push(Buffer.from(`-o ${spec.limitFiles}`));
  if (limits.length) chain.push(line(Buffer.from('softlimit'), ...limits));
  chain.push(line(...spec.command.map(shWord)));
  if (spec.cwd !== undefined) out.push(Buffer.from('cd '), shText(spec.cwd), Buffer.from(' || exit 111\n'));
  out.push(Buffer.from('exec '), Buffer.concat(chain.flatMap((c, i) => (i ? [Buffer.from(' \\\n  '), c] : [c]))), Buffer.from('\n'));
  return Buffer.concat(out);
}

/** ./log/run: multilog stamps each line (t) and keeps the files in ./main. */
export function logRunScript(spec: ServiceSpec): Buffer {
  return Buffer.from('#!/bin/sh\n# Written by svctl add. The service\'s output, each line stamped with its TAI64N time,\n' +
    `# in ./main (read it with: svctl logs NAME, or tai64nlocal < main/current)\n` +
    `exec multilog t s${spec.logSize ?? DEFAULT_LOG_SIZE} n${spec.logFiles ?? DEFAULT_LOG_FILES} ./main\n`);
}
