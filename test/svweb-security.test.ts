// svweb from the hostile side, black-box (HTTP only): every endpoint's
// errors as JSON with the right status; missing or wrong credentials;
// cross-site POSTs; service names that try to leave the scanned directory;
// bodies, headers and URLs beyond the limits; letters svc does not know;
// listening beyond loopback without a password file; --read-only; and 1000
// random requests from a seeded generator (SVWEB_FUZZ_SEED=N repeats a run)
// after which svweb still runs and no service was touched.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Procs, alive, bin, run, waitFor } from './helpers';
import { makeService, SLEEPER, waitUp } from './fixtures/service';
import { killUnder, startSvscan } from './fixtures/tree';
import { Answer, EventStream, LOG_RUN, Svweb, freePort, json, passwordFile, request, startSvweb } from './fixtures/svweb';

const procs = new Procs();
const roots: string[] = [];
after(async () => {
  killUnder(roots);
  await procs.cleanup();
});

const USER = 'admin';
const PASSWORD = 'correct horse battery staple';
const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const RIGHT = basic(USER, PASSWORD);

interface Tree {
  scan: string;
  /** service name to its directory */
  dirs: Map<string, string>;
}

/**
 * A tree under svscan --host: `a` up with a log service writing to a
 * multilog directory, `b` down (a down file), `escape` whose log/main is a
 * link out of its directory, `plain`, a file (not a service), and a
 * directory outside the tree holding a `current` svweb must never show.
 */
async function makeTree(): Promise<Tree> {
  const base = procs.tmpdir('dtn-websec-');
  roots.push(base);
  const scan = path.join(base, 'service');
  const secret = path.join(base, 'secret');
  fs.mkdirSync(secret, { recursive: true });
  fs.writeFileSync(path.join(secret, 'current'), 'SECRET-LINE\n');
  const a = makeService(path.join(scan, 'a'), '#!/bin/sh\necho started\nexec sleep 1000\n', { log: LOG_RUN });
  const b = makeService(path.join(scan, 'b'), SLEEPER, { down: true });
  const esc = makeService(path.join(scan, 'escape'), SLEEPER, { log: SLEEPER });
  fs.symlinkSync(secret, path.join(esc, 'log', 'main'));
  fs.writeFileSync(path.join(scan, 'plain'), 'not a service\n');
  const dirs = new Map([['a', a], ['a/log', path.join(a, 'log')], ['b', b], ['escape', esc], ['escape/log', path.join(esc, 'log')]]);
  startSvscan(procs, scan, base, { args: ['--host', scan] });
  for (const name of ['a', 'a/log', 'escape', 'escape/log']) await waitUp(dirs.get(name)!, { procs });
  await waitFor(() => fs.existsSync(path.join(b, 'supervise', 'status')), 'b supervised');
  await waitFor(() => fs.existsSync(path.join(a, 'log', 'main', 'current')) && fs.statSync(path.join(a, 'log', 'main', 'current')).size > 0, 'a\'s log');
  return { scan, dirs };
}

/** What must not change: every service's status bytes (and so its pid) and the entries of the tree. */
function snapshot(t: Tree): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, dir] of t.dirs) out.set(name, fs.readFileSync(path.join(dir, 'supervise', 'status')).toString('hex'));
  out.set('(entries)', fs.readdirSync(t.scan).sort().join(' '));
  return out;
}

function assertUntouched(t: Tree, before: Map<string, string>, what: string): void {
  assert.deepEqual(snapshot(t), before, `${what}: a service was touched`);
  for (const [name, hex] of before) {
    if (name === '(entries)') continue;
    const pid = Buffer.from(hex, 'hex').readUInt32LE(12);
    if (pid) assert.ok(alive(pid), `${name}'s ./run ${pid} still runs`);
  }
}

/** An error answer: status, and a JSON body with a message. */
function assertError(a: Answer, status: number, what: string): string {
  assert.equal(a.status, status, `${what}: ${a.status} ${a.body.slice(0, 300)}`);
  assert.match(String(a.headers['content-type']), /^application\/json/, `${what}: JSON`);
  const body = json<{ error?: unknown }>(a);
  assert.equal(typeof body.error, 'string', `${what}: an error message`);
  assert.ok((body.error as string).length > 0);
  return body.error as string;
}

async function session(web: Svweb, headers: Record<string, string> = {}): Promise<string> {
  const a = await request(web.url, '/api/session', { headers });
  assert.equal(a.status, 200, a.body);
  return json<{ csrf: string }>(a).csrf;
}

function control(web: Svweb, name: string, letters: unknown, headers: Record<string, string>): Promise<Answer> {
  return request(web.url, `/api/services/${name}/control`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ letters }),
  });
}

let tree: Tree;
let open: Svweb;
let authed: Svweb;
let readOnly: Svweb;
let passwd: string;

before(async () => {
  tree = await makeTree();
  passwd = await passwordFile(procs.tmpdir('dtn-websec-pw-'), USER, PASSWORD);
  open = await startSvweb(procs, tree.scan);
  authed = await startSvweb(procs, tree.scan, ['--password-file', passwd]);
  readOnly = await startSvweb(procs, tree.scan, ['--read-only']);
});

describe('authentication', () => {
  test('no credentials: 401 with a Basic challenge on the API, /metrics and every POST; the page sends to /login', async () => {
    for (const target of ['/api/services', '/api/services/a', '/api/services/a/log?lines=5', '/api/session', '/api/events', '/metrics']) {
      const a = await request(authed.url, target);
      assertError(a, 401, `GET ${target}`);
      assert.match(String(a.headers['www-authenticate']), /^Basic realm="svweb"/);
    }
    const before = snapshot(tree);
    assertError(await control(authed, 'b', 'u', { Origin: authed.url }), 401, 'POST control without credentials');
    const page = await request(authed.url, '/');
    assert.equal(page.status, 303);
    assert.equal(page.headers.location, '/login');
    assertUntouched(tree, before, 'unauthenticated control');
  });

  test('wrong credentials: 401 (wrong password, unknown user, malformed headers, a forged session cookie)', async () => {
    const wrong = [
      basic(USER, 'wrong'), basic('nobody', PASSWORD), basic(USER, ''), basic('', ''), `Basic ${Buffer.from(USER).toString('base64')}`,
      'Basic !!!!', 'Bearer abc', 'Basic', `Basic ${'A'.repeat(5000)}`, RIGHT.toLowerCase().replace('basic', 'Digest'),
    ];
    for (const authorization of wrong) {
      assertError(await request(authed.url, '/api/services', { headers: { Authorization: authorization } }), 401, authorization.slice(0, 40));
    }
    for (const cookie of ['svweb_session=forged', 'svweb_session=', `svweb_session=${'x'.repeat(4000)}`]) {
      assertError(await request(authed.url, '/api/services', { headers: { Cookie: cookie } }), 401, cookie.slice(0, 40));
    }
    const ok = await request(authed.url, '/api/services', { headers: { Authorization: RIGHT } });
    assert.equal(ok.status, 200);
    assert.deepEqual(json<Array<{ name: string }>>(ok).map((s) => s.name), ['a', 'a/log', 'b', 'escape', 'escape/log']);
  });

  test('the login form: a wrong password is 401 and sets no cookie; its POST needs the form\'s token', async () => {
    const form = await request(authed.url, '/login');
    assert.equal(form.status, 200);
    const token = /name="csrf" value="([^"]+)"/.exec(form.body)?.[1];
    assert.ok(token, 'the login form carries a token');
    const post = (fields: Record<string, string>, headers: Record<string, string> = {}): Promise<Answer> =>
      request(authed.url, '/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: authed.url, ...headers },
        body: new URLSearchParams(fields).toString(),
      });
    const wrong = await post({ user: USER, password: 'wrong', csrf: token });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.headers['set-cookie'], undefined);
    assert.equal((await post({ user: USER, password: PASSWORD })).status, 403, 'no token');
    assert.equal((await post({ user: USER, password: PASSWORD, csrf: token }, { Origin: 'http://evil.example' })).status, 403, 'another Origin');
    const right = await post({ user: USER, password: PASSWORD, csrf: token });
    assert.equal(right.status, 303);
    const cookie = String(right.headers['set-cookie']);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const value = /svweb_session=([^;]+)/.exec(cookie)![1];
    assert.equal((await request(authed.url, '/api/services', { headers: { Cookie: `svweb_session=${value}` } })).status, 200);
  });
});

describe('cross-site requests', () => {
  test('a POST from another Origin or Referer, without the token, with a wrong one or another user\'s: 403, the service untouched', async () => {
    const token = await session(authed, { Authorization: RIGHT });
    const before = snapshot(tree);
    const cases: Array<[string, Record<string, string>]> = [
      ['another Origin', { Authorization: RIGHT, Origin: 'http://evil.example', 'X-CSRF-Token': token }],
      ['Origin null', { Authorization: RIGHT, Origin: 'null', 'X-CSRF-Token': token }],
      ['another port', { Authorization: RIGHT, Origin: `http://127.0.0.1:${authed.port + 1}`, 'X-CSRF-Token': token }],
      ['another Referer', { Authorization: RIGHT, Referer: 'http://evil.example/page', 'X-CSRF-Token': token }],
      ['a Referer that starts like this one', { Authorization: RIGHT, Referer: `${authed.url}.evil.example/`, 'X-CSRF-Token': token }],
      ['Sec-Fetch-Site cross-site', { Authorization: RIGHT, 'Sec-Fetch-Site': 'cross-site', 'X-CSRF-Token': token }],
      ['no token', { Authorization: RIGHT, Origin: authed.url }],
      ['a wrong token', { Authorization: RIGHT, Origin: authed.url, 'X-CSRF-Token': token.slice(1) + 'A' }],
      ['the other svweb\'s token', { Authorization: RIGHT, Origin: authed.url, 'X-CSRF-Token': await session(open) }],
    ];
    for (const [what, headers] of cases) assertError(await control(authed, 'b', 'u', headers), 403, what);
    // a form posted from elsewhere (the classic CSRF: no preflight), with and without a token field
    for (const body of ['letters=u', `letters=u&csrf=${'x'.repeat(43)}`]) {
      const a = await request(authed.url, '/api/services/b/control', {
        method: 'POST',
        headers: { Authorization: RIGHT, 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://evil.example' },
        body,
      });
      assertError(a, 403, `a cross-site form: ${body}`);
    }
    // text/plain (what a cross-site form can also send) is not read at all
    const plain = await request(authed.url, '/api/services/b/control', {
      method: 'POST', headers: { Authorization: RIGHT, 'Content-Type': 'text/plain', Origin: authed.url, 'X-CSRF-Token': token }, body: 'letters=u',
    });
    assertError(plain, 415, 'text/plain');
    // logging out is a POST like the others
    assertError(await request(authed.url, '/logout', { method: 'POST', headers: { Authorization: RIGHT, 'Content-Type': 'application/json', Origin: authed.url }, body: '{}' }),
      403, 'logout without the token');
    assertError(await request(authed.url, '/logout', { method: 'POST', headers: { Authorization: RIGHT, 'Content-Type': 'application/json', Origin: 'http://evil.example', 'X-CSRF-Token': token }, body: '{}' }),
      403, 'logout from another Origin');
    assertUntouched(tree, before, 'cross-site POSTs');
    // the same request with the token, from this origin, is obeyed
    const ok = await control(authed, 'b', 'p', { Authorization: RIGHT, Origin: authed.url, 'X-CSRF-Token': token });
    assert.equal(ok.status, 200, ok.body);
    assert.deepEqual(json(ok), { name: 'b', sent: 'p' });
  });

  test('without authentication only a loopback Host is served (DNS rebinding): 403 for any other name', async () => {
    for (const host of ['evil.example', `evil.example:${open.port}`, '10.0.0.1', 'localhost.evil.example']) {
      assertError(await request(open.url, '/api/services', { headers: { Host: host } }), 403, `Host: ${host}`);
    }
    assert.equal((await request(open.url, '/api/services', { headers: { Host: `localhost:${open.port}` } })).status, 200);
  });
});

describe('service names and paths', () => {
  const bad: Array<[string, string]> = [
    ['..', '/api/services/..'],
    ['%2e%2e', '/api/services/%2e%2e'],
    ['../ encoded', '/api/services/..%2Fb'],
    ['a slash', '/api/services/a%2Fb'],
    ['a NUL', '/api/services/a%00'],
    ['a NUL alone', '/api/services/%00'],
    ['a dot name', '/api/services/.hidden'],
    ['very long', `/api/services/${'x'.repeat(300)}`],
    ['an absolute path', '/api/services/%2Fetc%2Fpasswd'],
    ['bad percent-encoding', '/api/services/%zz'],
    ['a lone surrogate', '/api/services/%ED%A0%80'],
  ];

  for (const suffix of ['', '/log?lines=5', '/control']) {
    test(`GET/POST /api/services/NAME${suffix.replace(/\?.*/, '')} with names that leave the tree: 4xx, JSON, nothing read or sent`, async () => {
      const token = await session(open);
      const before = snapshot(tree);
      for (const [what, target] of bad) {
        const a = suffix === '/control'
          ? await request(open.url, target + suffix, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token, Origin: open.url }, body: '{"letters":"d"}' })
          : await request(open.url, target + suffix);
        assert.ok(a.status >= 400 && a.status < 500, `${what} (${target}${suffix}): ${a.status} ${a.body}`);
        assert.doesNotMatch(a.body, /SECRET-LINE|root:/);
        json(a);
      }
      assertUntouched(tree, before, `bad names${suffix}`);
    });
  }

  test('names that are not services: a file, a missing entry, a service\'s subdirectory: 404', async () => {
    for (const target of ['/api/services/plain', '/api/services/nothere', '/api/services/a/supervise', '/api/services/b/log']) {
      assertError(await request(open.url, target), 404, target);
    }
    assertError(await request(open.url, '/api/services/a/nothing'), 404, 'an unknown endpoint of a service');
  });

  test('a log directory that is a link out of the service: no log (404), the file beyond never shown', async () => {
    for (const name of ['escape', 'escape%2Flog']) {
      const a = await request(open.url, `/api/services/${name}/log?lines=5`);
      assert.doesNotMatch(a.body, /SECRET-LINE/, name);
      assertError(a, 404, `the log of ${name}`);
      const follow = await request(open.url, `/api/services/${name}/log/events`);
      assert.doesNotMatch(follow.body, /SECRET-LINE/, name);
      assertError(follow, 404, `following the log of ${name}`);
    }
    const page = await request(open.url, '/?log=escape');
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.body, /SECRET-LINE/);
    const ok = await request(open.url, '/api/services/a/log?lines=5');
    assert.equal(ok.status, 200, ok.body);
  });

  test('lines, of the log and of its stream: not a number, negative, huge: 400', async () => {
    for (const lines of ['x', '-1', '1e3', '99999999']) {
      for (const endpoint of ['log', 'log/events']) {
        assertError(await request(open.url, `/api/services/a/${endpoint}?lines=${encodeURIComponent(lines)}`), 400, `${endpoint}?lines=${lines}`);
      }
    }
  });
});

describe('limits and bad requests', () => {
  test('bodies beyond the limit: 413, declared or chunked; headers beyond it: 431; a URL too long: 414', async () => {
    const token = await session(open);
    const before = snapshot(tree);
    const headers = { 'Content-Type': 'application/json', 'X-CSRF-Token': token, Origin: open.url };
    const huge = JSON.stringify({ letters: 'd', pad: 'x'.repeat(1 << 20) });
    assertError(await request(open.url, '/api/services/a/control', { method: 'POST', headers, body: huge }), 413, 'a 1 MiB body');
    // no Content-Length: chunked, 48 KiB sent and the rest never: svweb answers without waiting for the end
    const chunked = await new Promise<string>((resolve) => {
      const sock = net.connect(open.port, '127.0.0.1', () => {
        sock.write(`POST /api/services/a/control HTTP/1.1\r\nHost: 127.0.0.1:${open.port}\r\nContent-Type: application/json\r\n` +
          `X-CSRF-Token: ${token}\r\nOrigin: ${open.url}\r\nTransfer-Encoding: chunked\r\n\r\n`);
        for (let i = 0; i < 3; i++) sock.write(`4000\r\n${'x'.repeat(0x4000)}\r\n`);
      });
      let text = '';
      const done = (): void => {
        sock.destroy();
        resolve(text);
      };
      sock.on('data', (d: Buffer) => {
        text += d.toString('latin1');
        if (text.includes('\r\n\r\n')) done();
      });
      sock.on('error', done);
      sock.on('close', done);
      sock.setTimeout(10000, done);
    });
    assert.match(chunked, /^HTTP\/1\.1 413 /, 'a chunked body beyond the limit');
    const big = await request(open.url, '/api/services', { headers: { 'X-Big': 'x'.repeat(64 * 1024) } });
    assert.equal(big.status, 431);
    assertError(await request(open.url, `/api/services?${'q'.repeat(4000)}`), 414, 'a long URL');
    // beyond the header limit, the request line is refused by the parser
    assertError(await request(open.url, `/api/services?${'q'.repeat(10000)}`), 431, 'a URL beyond the header limit');
    assertUntouched(tree, before, 'huge requests');
    assert.equal((await request(open.url, '/api/services')).status, 200, 'svweb still answers');
  });

  test('letters: unknown ones, too many, missing, not a string, not JSON, a wrong type: 400 or 415, nothing sent', async () => {
    const token = await session(open);
    const before = snapshot(tree);
    const headers = { 'X-CSRF-Token': token, Origin: open.url };
    for (const letters of ['z', 'dz', 'D', ' ', '\u0000', 'é', '-d', 'd'.repeat(33), '']) {
      assertError(await control(open, 'b', letters, headers), 400, `letters ${JSON.stringify(letters)}`);
    }
    for (const letters of [null, 1, ['d'], { d: 1 }]) {
      assertError(await control(open, 'b', letters, headers), 400, `letters ${JSON.stringify(letters)}`);
    }
    const post = (body: string, type: string): Promise<Answer> =>
      request(open.url, '/api/services/b/control', { method: 'POST', headers: { ...headers, 'Content-Type': type }, body });
    assertError(await post('{"letters":', 'application/json'), 400, 'truncated JSON');
    assertError(await post('["d"]', 'application/json'), 400, 'a JSON array');
    assertError(await post('{}', 'application/json'), 400, 'no letters');
    assertError(await post('letters=d', 'text/plain'), 415, 'text/plain');
    assertError(await post('<x/>', 'application/xml'), 415, 'XML');
    assertUntouched(tree, before, 'bad letters');
  });

  test('every endpoint: a method it does not take is 405 with Allow; unknown paths 404; errors are JSON', async () => {
    const cases: Array<[string, string]> = [
      ['DELETE', '/api/services'], ['PUT', '/api/services/a'], ['GET', '/api/services/a/control'], ['POST', '/api/services/a/log'],
      ['POST', '/api/events'], ['POST', '/metrics'], ['PATCH', '/'], ['DELETE', '/login'], ['GET', '/logout'], ['POST', '/api/session'],
    ];
    for (const [method, target] of cases) {
      const a = await request(open.url, target, { method, headers: { 'Content-Type': 'application/json', 'Content-Length': '2' }, body: '{}' });
      assertError(a, 405, `${method} ${target}`);
      assert.ok(a.headers.allow, `${method} ${target}: Allow`);
    }
    for (const target of ['/nothing', '/api', '/api/nothing', '/api/services/a/log/nothing', '/metrics/x']) {
      assertError(await request(open.url, target), 404, target);
    }
    const raw = await new Promise<string>((resolve) => {
      const sock = net.connect(open.port, '127.0.0.1', () => sock.write('GET nothing HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
      let text = '';
      sock.on('data', (d: Buffer) => (text += d.toString('latin1')));
      sock.on('close', () => resolve(text));
      sock.on('error', () => resolve(text));
      sock.setTimeout(5000, () => sock.destroy());
    });
    assert.match(raw, /^HTTP\/1\.1 400 /, 'a request target that is not a path');
  });
});

describe('listening and read-only', () => {
  test('a non-loopback address without --password-file: refused, exit 100, a clear message, nothing listening', async () => {
    for (const host of ['0.0.0.0', '[::]', '192.0.2.1', 'example.com']) {
      const port = await freePort();
      const r = await run(bin('svweb'), ['--listen', `${host}:${port}`, tree.scan], { timeoutMs: 10000 });
      assert.equal(r.code, 100, `--listen ${host}: ${r.stderr}`);
      assert.match(r.stderr, /^svweb: fatal: refusing to listen on .* without --password-file/);
      assert.equal(r.stdout, '');
    }
  });

  test('bad --listen and a password file that cannot be read or parsed: refused', async () => {
    for (const listen of ['127.0.0.1:99999', '127.0.0.1:x', '[::1', 'a:b:c']) {
      const r = await run(bin('svweb'), ['--listen', listen, tree.scan], { timeoutMs: 10000 });
      assert.equal(r.code, 100, `--listen ${listen}: ${r.stderr}`);
    }
    const bad = path.join(procs.tmpdir('dtn-websec-bad-'), 'passwd');
    fs.writeFileSync(bad, 'admin:plaintext\n');
    for (const file of [bad, path.join(path.dirname(bad), 'none')]) {
      const r = await run(bin('svweb'), ['--listen', `127.0.0.1:${await freePort()}`, '--password-file', file, tree.scan], { timeoutMs: 10000 });
      assert.equal(r.code, 111, `--password-file ${file}: ${r.stderr}`);
      assert.match(r.stderr, /^svweb: fatal: unable to read password file/);
    }
  });

  test('SIGUSR1 opens no debugger (Node\'s inspector would hand svweb\'s rights to any local user): one listening socket, still answering', async () => {
    const web = await startSvweb(procs, tree.scan);
    const pid = web.child.pid!;
    assert.equal(listeningSockets(pid), 1);
    process.kill(pid, 'SIGUSR1');
    // a round trip after the signal: it has been handled by then
    assert.equal((await request(web.url, '/api/services')).status, 200);
    assert.equal((await request(web.url, '/api/session')).status, 200);
    assert.doesNotMatch(web.stderr(), /Debugger listening/);
    assert.equal(listeningSockets(pid), 1, 'svweb listens on its own port only');
    assert.equal(web.child.exitCode, null);
  });

  test('--read-only: every control refused (403) even with the token, the page has no control forms, the service untouched', async () => {
    const token = await session(readOnly);
    const info = json<{ readOnly: boolean }>(await request(readOnly.url, '/api/session'));
    assert.equal(info.readOnly, true);
    const before = snapshot(tree);
    for (const letters of ['d', 'u', 'k', 'x', 't']) {
      assertError(await control(readOnly, 'a', letters, { 'X-CSRF-Token': token, Origin: readOnly.url }), 403, `read-only ${letters}`);
    }
    const form = await request(readOnly.url, '/api/services/a/control', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: readOnly.url },
      body: `letters=d&csrf=${token}`,
    });
    assert.equal(form.status, 403, form.body);
    const page = await request(readOnly.url, '/');
    assert.equal(page.status, 200);
    assert.doesNotMatch(page.body, /\/control"/, 'no control form on the page');
    assertUntouched(tree, before, 'read-only');
  });
});

/** How many TCP sockets in LISTEN state pid holds (its descriptors' inodes found in /proc/net/tcp and tcp6). */
function listeningSockets(pid: number): number {
  const inodes = new Set<string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {
      // closed meanwhile
    }
  }
  let n = 0;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'latin1').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9])) n++;
    }
  }
  return n;
}

/** mulberry32: a small seeded generator, so that a failing run can be repeated (SVWEB_FUZZ_SEED). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Fuzzed {
  method: string;
  target: string;
  headers: Record<string, string>;
  body?: Buffer;
}

function fuzzer(seed: number, names: string[]) {
  const rnd = prng(seed);
  const int = (n: number): number => Math.floor(rnd() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)];
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => int(256)));
  const printable = (n: number): string => Array.from({ length: n }, () => String.fromCharCode(32 + int(95))).join('');
  const segment = (): string => pick([
    () => pick(names), () => pick(['..', '.', '', '%2e%2e', '%2F', '%00', '%', '%zz', '~', 'log', 'control', 'events', 'supervise']),
    () => encodeURIComponent(printable(1 + int(12))), () => [...bytes(1 + int(8))].map((b) => `%${b.toString(16).padStart(2, '0')}`).join(''),
    () => 'x'.repeat(1 + int(400)), () => pick(names) + '/log',
  ])();
  const target = (): string => {
    const prefix = pick(['/', '/api/', '/api/services/', '/api/services/', '/metrics', '/login', '/logout', '/app.js', '/api/session', '//', '']);
    const parts = Array.from({ length: int(4) }, segment);
    const query = pick(['', '', '?lines=' + pick(['5', '-1', 'x', '100000', '']), '?html=1', '?log=' + segment(), '?' + printable(int(50)), '?filter=' + segment()]);
    return prefix + parts.join('/') + query;
  };
  const body = (): Buffer | undefined => pick([
    () => undefined,
    () => Buffer.from(JSON.stringify({ letters: printable(int(6)) })),
    () => Buffer.from(JSON.stringify({ letters: pick(['d', 'u', 'x', 'k', 'dx', 't', 'o']), csrf: printable(43) })),
    () => Buffer.from(`letters=${pick(['d', 'x', 'k'])}&csrf=${encodeURIComponent(printable(43))}`),
    () => bytes(int(2000)),
    () => Buffer.from('{'.repeat(int(5000))),
    () => Buffer.from(JSON.stringify({ letters: 'd', user: USER, password: printable(int(20)) })),
    () => Buffer.alloc(int(40000), 'x'),
  ])();
  const headers = (): Record<string, string> => {
    const h: Record<string, string> = {};
    for (let i = int(6); i > 0; i--) {
      const [k, v] = pick<[string, () => string]>([
        ['Content-Type', () => pick(['application/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', printable(int(30))])],
        ['Origin', () => pick(['http://evil.example', 'null', `http://127.0.0.1:${int(65536)}`, printable(int(40))])],
        ['Referer', () => pick(['http://evil.example/', printable(int(60))])],
        ['X-CSRF-Token', () => printable(int(60))],
        ['Cookie', () => `svweb_session=${printable(int(60)).replace(/[;\s]/g, '')}`],
        ['Authorization', () => pick(['Basic ' + Buffer.from(printable(int(30))).toString('base64'), 'Basic', printable(int(80))])],
        ['Accept', () => pick(['text/event-stream', '*/*', printable(int(20))])],
        ['Sec-Fetch-Site', () => pick(['cross-site', 'same-origin', 'none'])],
        ['X-' + printable(1 + int(10)).replace(/[^A-Za-z]/g, 'a'), () => printable(int(200))],
      ]);
      h[k] = v();
    }
    return h;
  };
  return (): Fuzzed => ({
    method: pick(['GET', 'GET', 'POST', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'PROPFIND']),
    target: target(),
    headers: headers(),
    body: body(),
  });
}

/**
 * Sends one fuzzed request over a raw socket (so nothing is normalised on
 * the way) and returns the status of the answer (0: the connection closed
 * without one, which Node's parser does for what is not HTTP). Streams
 * (server-sent events) are closed once their head arrived.
 */
function sendRaw(port: number, f: Fuzzed): Promise<number> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      sock.destroy();
      resolve(Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0));
    };
    sock.setTimeout(15000, () => {
      if (done) return;
      done = true;
      sock.destroy();
      reject(new Error(`no answer within 15 s to ${f.method} ${f.target.slice(0, 100)}`));
    });
    sock.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (/\r\n\r\n/.test(text) && /text\/event-stream/i.test(text.slice(0, text.indexOf('\r\n\r\n')))) finish();
    });
    sock.on('error', finish);
    sock.on('close', finish);
    sock.on('connect', () => {
      const head = [`${f.method} ${f.target} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Connection: close'];
      for (const [k, v] of Object.entries(f.headers)) head.push(`${k}: ${v.replace(/[\r\n]/g, ' ')}`);
      if (f.body) head.push(`Content-Length: ${f.body.length}`);
      sock.write(head.join('\r\n') + '\r\n\r\n');
      if (f.body) sock.write(f.body);
    });
  });
}

describe('1000 random requests', () => {
  const seed = Number(process.env.SVWEB_FUZZ_SEED ?? 20261205);

  test(`seed ${seed}: svweb keeps running and answering, never a 5xx, every service untouched`, async () => {
    const before = snapshot(tree);
    const next = fuzzer(seed, [...tree.dirs.keys(), 'plain']);
    const seen = new Map<number, number>();
    const all = Array.from({ length: 1000 }, next);
    // eight at a time
    for (let i = 0; i < all.length; i += 8) {
      const batch = all.slice(i, i + 8);
      const statuses = await Promise.all(batch.map((f) => sendRaw(open.port, f)));
      statuses.forEach((status, j) => {
        const f = batch[j];
        seen.set(status, (seen.get(status) ?? 0) + 1);
        assert.ok(status < 500 || status === 503,
          `request ${i + j} (seed ${seed}): ${f.method} ${f.target.slice(0, 200)} ${JSON.stringify(f.headers).slice(0, 300)}: ${status}`);
      });
      assert.equal(open.child.exitCode, null, `svweb exited during the fuzz (seed ${seed}, around request ${i}): ${open.stderr()}`);
    }
    // the fuzz was not all refused at the door: it reached the endpoints
    assert.ok((seen.get(200) ?? 0) > 20, `some 200s: ${JSON.stringify([...seen])}`);
    assert.ok((seen.get(404) ?? 0) + (seen.get(400) ?? 0) > 100, `many 4xx: ${JSON.stringify([...seen])}`);
    assert.equal((await request(open.url, '/api/services')).status, 200, 'svweb still answers');
    assertUntouched(tree, before, `the fuzz (seed ${seed})`);
    // and its events still flow
    const stream = new EventStream(open.url, '/api/events');
    try {
      await stream.next<{ services: unknown[] }>('services', (d) => d.services.length === 5, 'the services event after the fuzz');
    } finally {
      stream.close();
    }
  });

  test(`seed ${seed + 1}: 200 more against the authenticating svweb: never a 2xx beyond the public files, every service untouched`, async () => {
    const before = snapshot(tree);
    const next = fuzzer(seed + 1, [...tree.dirs.keys()]);
    for (let i = 0; i < 200; i += 8) {
      const batch = Array.from({ length: 8 }, next);
      const statuses = await Promise.all(batch.map((f) => sendRaw(authed.port, f)));
      statuses.forEach((status, j) => {
        const f = batch[j];
        const what = `request ${i + j} (seed ${seed + 1}): ${f.method} ${f.target.slice(0, 200)}: ${status}`;
        assert.ok(status < 500 || status === 503, what);
        const pathOnly = f.target.split('?')[0];
        if (status >= 200 && status < 300) assert.ok(['/app.js', '/app.css', '/favicon.ico', '/login'].includes(pathOnly), what);
      });
    }
    assert.equal(authed.child.exitCode, null, `svweb exited: ${authed.stderr()}`);
    assertUntouched(tree, before, `the fuzz with authentication (seed ${seed + 1})`);
  });
});
