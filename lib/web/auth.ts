// svweb's users: a password file of `user:hash` lines, the hash a salted
// scrypt (`scrypt$N$r$p$SALT$KEY`, base64), checked in constant time; login
// sessions held in memory (a random token in an HttpOnly, SameSite=Strict
// cookie); and the token every POST must carry against cross-site requests.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
// scrypt with N=2^15, r=8: 32 MiB and about 50-100 ms per check
const COST = { N: 1 << 15, r: 8, p: 1 };
const MAX_COST_N = 1 << 20;
const SESSION_MS = 12 * 3600 * 1000;
const MAX_SESSIONS = 10000;

/** A user name the password file can hold: no colon, no control character, no space. */
export function isUserName(user: string): boolean {
  return /^[^\s:\x00-\x1f\x7f]{1,64}$/.test(user);
}

function scrypt(password: string, salt: Buffer, N: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    crypto.scrypt(password, salt, KEY_LENGTH, { N, r, p, maxmem: 256 * N * r + (1 << 20) }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

/** A new `scrypt$N$r$p$SALT$KEY` for password, with a fresh random salt. */
export async function hashPassword(password: string): Promise<string> {
  const salt = crypto.randomBytes(SALT_LENGTH);
  const key = await scrypt(password, salt, COST.N, COST.r, COST.p);
  return `scrypt$${COST.N}$${COST.r}$${COST.p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

interface Hash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function parseHash(text: string): Hash | undefined {
  const m = /^scrypt\$(\d+)\$(\d+)\$(\d+)\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(text);
  if (!m) return undefined;
  const [N, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // N a power of two, and nothing a crafted file could make take minutes or gigabytes
  if (N < 2 || N > MAX_COST_N || (N & (N - 1)) !== 0 || r < 1 || r > 32 || p < 1 || p > 16) return undefined;
  const key = Buffer.from(m[5], 'base64');
  if (key.length !== KEY_LENGTH) return undefined;
  return { N, r, p, salt: Buffer.from(m[4], 'base64'), key };
}

/** The users of a password file: `user:hash` lines; empty lines and `#` comments are skipped. Throws on a bad line. */
export function parsePasswordFile(text: string, file: string): Map<string, string> {
  const users = new Map<string, string>();
  text.split('\n').forEach((line, i) => {
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const user = line.slice(0, colon);
    if (colon < 0 || !isUserName(user) || !parseHash(line.slice(colon + 1))) {
      throw new Error(`${file}: line ${i + 1}: not user:scrypt$N$r$p$SALT$KEY`);
    }
    users.set(user, line.slice(colon + 1));
  });
  return users;
}

/**
 * Adds user (or replaces its hash) in file, written through a temporary
 * file and a rename, mode 0600 for a new file.
 */
export async function addUser(file: string, user: string, password: string): Promise<void> {
  let text = '';
  let mode = 0o600;
  try {
    text = fs.readFileSync(file, 'utf8');
    mode = fs.statSync(file).mode & 0o777;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  parsePasswordFile(text, file);
  const line = `${user}:${await hashPassword(password)}`;
  const lines = text.split('\n').filter((l) => l !== '');
  const at = lines.findIndex((l) => l.startsWith(user + ':'));
  if (at >= 0) lines[at] = line;
  else lines.push(line);
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  fs.writeFileSync(tmp, lines.join('\n') + '\n', { mode, flag: 'wx' });
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Constant-time equality of two strings (of any lengths). */
export function sameSecret(a: string, b: string): boolean {
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb) && a.length === b.length;
}

/** The password file, read again when it changes; sessions; CSRF tokens. */
export class Auth {
  private users = new Map<string, string>();
  private loadedMtime = -1;
  private readonly sessions = new Map<string, { user: string; expires: number }>();
  private readonly secret = crypto.randomBytes(32);
  /** Basic credentials checked lately (sha256 of the header → user), so a client's every request does not pay scrypt. */
  private readonly checked = new Map<string, { user: string; expires: number }>();
  // a hash to check unknown users against, so that they take as long as known ones
  private readonly dummy: Promise<string> | undefined;

  /** file undefined: no authentication (everyone is the user `anonymous`). */
  constructor(readonly file: string | undefined) {
    if (!file) return;
    this.reload();
    this.dummy = hashPassword(crypto.randomBytes(16).toString('hex'));
  }

  get required(): boolean {
    return this.file !== undefined;
  }

  /** Reads the password file if it changed. Throws (with the file's name) when it cannot be read or parsed. */
  reload(): void {
    if (!this.file) return;
    const st = fs.statSync(this.file);
    if (st.mtimeMs === this.loadedMtime) return;
    this.users = parsePasswordFile(fs.readFileSync(this.file, 'utf8'), this.file);
    this.loadedMtime = st.mtimeMs;
    this.checked.clear();
  }

  /** reload(), keeping the users last read when the file cannot be read now. */
  private refresh(): void {
    try {
      this.reload();
    } catch {
      // keep the users last read
    }
  }

  /** Whether password is user's. Takes the time of one scrypt whether the user exists or not. */
  async verify(user: string, password: string): Promise<boolean> {
    this.refresh();
    const stored = this.users.get(user);
    const hash = parseHash(stored ?? (await this.dummy) ?? '');
    if (!hash) return false;
    const key = await scrypt(password, hash.salt, hash.N, hash.r, hash.p);
    return crypto.timingSafeEqual(key, hash.key) && stored !== undefined;
  }

  /** The user of an `Authorization: Basic` header, or undefined. */
  async basic(header: string): Promise<string | undefined> {
    const m = /^Basic +([A-Za-z0-9+/=]{1,1024})$/i.exec(header);
    if (!m) return undefined;
    const digest = crypto.createHash('sha256').update(m[1]).digest('hex');
    this.refresh();
    const now = Date.now();
    const hit = this.checked.get(digest);
    if (hit && hit.expires > now) return hit.user;
    const text = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) return undefined;
    const user = text.slice(0, colon);
    if (!(await this.verify(user, text.slice(colon + 1)))) return undefined;
    if (this.checked.size >= MAX_SESSIONS) this.checked.clear();
    this.checked.set(digest, { user, expires: now + 60_000 });
    return user;
  }

  /** A new session for user: the cookie's value. */
  login(user: string): string {
    const now = Date.now();
    if (this.sessions.size >= MAX_SESSIONS) {
      for (const [id, s] of this.sessions) if (s.expires <= now) this.sessions.delete(id);
      if (this.sessions.size >= MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value!);
    }
    const id = crypto.randomBytes(32).toString('base64url');
    this.sessions.set(id, { user, expires: now + SESSION_MS });
    return id;
  }

  logout(id: string): void {
    this.sessions.delete(id);
  }

  /** The user of a session cookie's value, while the session lasts and the user is still in the file. */
  session(id: string): string | undefined {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    this.refresh();
    if (s.expires <= Date.now() || (this.required && !this.users.has(s.user))) {
      this.sessions.delete(id);
      return undefined;
    }
    return s.user;
  }

  /**
   * The CSRF token of a client: bound to its session (a login form's
   * cookie) or to its user (basic authentication, or no authentication),
   * and to this svweb process.
   */
  csrfToken(binding: string): string {
    return crypto.createHmac('sha256', this.secret).update(binding).digest('base64url');
  }

  checkCsrf(binding: string, token: string | undefined): boolean {
    return token !== undefined && sameSecret(token, this.csrfToken(binding));
  }
}
