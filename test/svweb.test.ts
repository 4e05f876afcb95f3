// svweb without a browser: its options and exit codes, the JSON API on trees
// run by our svscan, by svscan --host and by the C svscan and supervise
// (what it reports is what svstat --json reports; controls reach the
// supervise; logs are tailed and followed; changes come as events), the
// page without JavaScript (forms), authentication (password file, basic,
// login form and session cookie), CSRF, read-only mode and the limits.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, ROOT, bin, cbin, run, waitFor } from './helpers';
import { makeService } from './fixtures/service';
import { FakeSupervise, notRunningDir, statusRecord } from './fixtures/fake';
import { killUnder, pathFor, startSvscan } from './fixtures/tree';
import { EventStream, json, LOG_RUN, WEB_RUN, passwordFile, request, startSvweb } from './fixtures/svweb';
import { ServiceView, readServices } from '../lib/web/services';
import { multilogDir } from '../lib/web/log';
import { StatusWatch, WatchEvent } from '../lib/web/watch';

const procs = new Procs();
const roots: string[] = [];
after(async () => {
  killUnder(roots);
  await procs.cleanup();
});


// `web` logs a line at start and one for each HUP; `idle` is normally down
function makeTree(root: string): string {
  const scan = path.join(root, 'service');
  makeService(path.join(scan, 'web'), WEB_RUN, { log: LOG_RUN });
  makeService(path.join(scan, 'idle'), '#!/bin/sh\nexec sleep 1000\n', { down: true });
  fs.mkdirSync(path.join(scan, '.hidden'));
  fs.writeFileSync(path.join(scan, 'a-file'), '');
  return scan;
}

/** A tree under svscan --host, web up: its scanned directory. */
async function hostTree(prefix: string): Promise<string> {
  const root = procs.tmpdir(prefix);
  roots.push(root);
  const scan = makeTree(root);
  startSvscan(procs, scan, root, { args: ['--host', scan] });
  await waitFor(async () => (await svstatJson(path.join(scan, 'web'))).state === 'up', 'web up');
  return scan;
}

async function svstatJson(dir: string): Promise<Record<string, unknown>> {
  const r = await run(bin('svstat'), ['--json', dir]);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

function withoutSeconds(v: Record<string, unknown>): Record<string, unknown> {
  const { seconds: _s, name: _n, ...rest } = v;
  return rest;
}

async function token(url: string, headers: Record<string, string> = {}): Promise<string> {
  return json<{ csrf: string }>(await request(url, '/api/session', { headers })).csrf;
}

async function controlRequest(url: string, name: string, letters: string, headers: Record<string, string> = {}) {
  const csrf = await token(url, headers);
  return request(url, `/api/services/${encodeURIComponent(name)}/control`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': csrf, ...headers },
    body: JSON.stringify({ letters }),
  });
}

describe('options', () => {
  test('--help, --version; usage errors exit 100', async () => {
    const help = await run(bin('svweb'), ['--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /--password-file/);
    assert.match(help.stdout, /--read-only/);
    const version = await run(bin('svweb'), ['--version']);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^svweb \(daemontools-node\) \d/);
    for (const args of [[], ['--bogus', '/'], ['a', 'b'], ['--listen', 'x:99999', '/']]) {
      const r = await run(bin('svweb'), args);
      assert.equal(r.code, 100, `svweb ${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /svweb: usage: svweb/);
    }
  });

  test('a non-loopback --listen without a password file is refused (100), a missing dir is 111', async () => {
    const d = procs.tmpdir('dtn-web-');
    for (const listen of ['0.0.0.0:0', '[::]:0', '192.0.2.1:8080']) {
      const r = await run(bin('svweb'), ['--listen', listen, d]);
      assert.equal(r.code, 100, listen);
      assert.match(r.stderr, /^svweb: fatal: refusing to listen on .* without --password-file/);
    }
    const r = await run(bin('svweb'), [path.join(d, 'missing')]);
    assert.equal(r.code, 111);
    assert.match(r.stderr, /svweb: fatal: unable to read .*missing: file does not exist/);
  });

  test('--passwd writes a salted scrypt hash, mode 0600; a second user is added, the first kept', async () => {
    const d = procs.tmpdir('dtn-web-');
    const file = await passwordFile(d, 'alice', 's3cret');
    assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    const first = fs.readFileSync(file, 'utf8');
    assert.match(first, /^alice:scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+\n$/);
    const r = await run(bin('svweb'), ['--passwd', 'bob', file], { input: 's3cret\n' });
    assert.equal(r.code, 0, r.stderr);
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines[0], first.trim());
    assert.match(lines[1], /^bob:scrypt\$/);
    // the same password, another salt
    assert.notEqual(lines[0].split('$')[4], lines[1].split('$')[4]);
    for (const [args, input] of [[['--passwd', 'a:b', file], 'x\n'], [['--passwd', 'carol', file], '']] as const) {
      const bad = await run(bin('svweb'), [...args], { input });
      assert.equal(bad.code, 100, bad.stderr);
    }
    assert.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 2);
  });
});

describe('services of a directory (unit)', () => {
  test('entries that are directories, NAME/log, sorted; never supervised and not running reported as svstat does', async () => {
    const d = procs.tmpdir('dtn-web-');
    makeService(path.join(d, 'b'), '#!/bin/sh\n', { log: LOG_RUN });
    makeService(path.join(d, 'a'), '#!/bin/sh\n');
    notRunningDir(d, 'c', 'ok');
    fs.mkdirSync(path.join(d, '.x'));
    fs.writeFileSync(path.join(d, 'file'), '');
    fs.symlinkSync(path.join(d, 'a'), path.join(d, 'link'));
    const views = await readServices(d);
    assert.deepEqual(views.map((v) => v.name), ['a', 'b', 'b/log', 'c', 'link']);
    assert.equal(views[0].state, 'error');
    assert.equal(views[0].error, 'unable to open supervise/ok: file does not exist');
    assert.equal(views[3].state, 'not running');
    for (const v of views) assert.deepEqual(withoutSeconds(v as unknown as Record<string, unknown>), withoutSeconds(await svstatJson(v.dir)));
  });

  test('the watch: the list at once, a status written, a down file, a log and a service added, a supervise gone (at the next look)', async () => {
    const d = procs.tmpdir('dtn-web-');
    const now = Math.floor(Date.now() / 1000);
    const a = new FakeSupervise(path.join(d, 'a'), statusRecord(now, 4242, 0, 0x75));
    let b: FakeSupervise | undefined;
    const events: WatchEvent[] = [];
    const watch = new StatusWatch(d);
    const stop = watch.subscribe((e) => events.push(e));
    // the scanned directory, a's and its supervise/
    assert.equal(watch.watching, 3);
    try {
      assert.equal(events.length, 1);
      assert.equal(events[0].kind, 'services');
      const first = events[0].kind === 'services' ? events[0].services : [];
      assert.deepEqual(first.map((v) => [v.name, v.state, v.pid]), [['a', 'up', 4242]]);
      a.setStatus(statusRecord(now, 0, 0, 0x64));
      await waitFor(() => events.some((e) => e.kind === 'service' && e.service.name === 'a' && e.service.state === 'down'), 'a down');
      fs.writeFileSync(path.join(d, 'a', 'down'), '');
      await waitFor(() => events.some((e) => e.kind === 'service' && e.service.name === 'a' && e.service.normallyUp === false), 'a normally down');
      fs.mkdirSync(path.join(d, 'a', 'log'));
      await waitFor(() => events.some((e) => e.kind === 'services' && e.services.map((v) => v.name).join() === 'a,a/log'), 'a/log listed');
      b = new FakeSupervise(path.join(d, 'b'), statusRecord(now, 0, 0, 0x64));
      await waitFor(() => events.some((e) => e.kind === 'services' && e.services.map((v) => v.name).join() === 'a,a/log,b'), 'b listed');
      // no file tells that a supervise is gone: the look every 5 s does
      b.close();
      await waitFor(() => events.some((e) => e.kind === 'service' && e.service.name === 'b' && e.service.state === 'not running'), 'b not running', 12000);
    } finally {
      stop();
      a.close();
    }
    assert.equal(watch.watching, 0, 'no watch once the last subscriber left');
  });

  test('the multilog directory of a log/run', () => {
    assert.equal(multilogDir('#!/bin/sh\nexec multilog t s100000 ./main\n'), './main');
    assert.equal(multilogDir('#!/bin/sh\nexec setuidgid log /usr/bin/multilog t /var/log/web\n'), '/var/log/web');
    assert.equal(multilogDir('#!/bin/sh\nexec 2>&1\nexec cat > out\n'), undefined);
  });
});

for (const mode of ['ours', 'host', 'C'] as const) {
  describe(`the API on a tree run by ${mode === 'ours' ? 'our svscan' : mode === 'host' ? 'svscan --host' : 'the C svscan and supervise'}`, () => {
    let scan: string;
    let url: string;
    before(async () => {
      const root = procs.tmpdir(`dtn-web-${mode}-`);
      roots.push(root);
      scan = makeTree(root);
      if (mode === 'C') startSvscan(procs, scan, root, { cmd: cbin('svscan'), PATH: pathFor('c') });
      else startSvscan(procs, scan, root, { args: mode === 'host' ? ['--host', scan] : [scan] });
      await waitFor(async () => (await svstatJson(path.join(scan, 'web'))).state === 'up', 'web up');
      await waitFor(async () => (await svstatJson(path.join(scan, 'web/log'))).state === 'up', 'web/log up');
      await waitFor(async () => (await svstatJson(path.join(scan, 'idle'))).state === 'down', 'idle supervised');
      url = (await startSvweb(procs, scan)).url;
    });

    test('GET /api/services: every service and log service, what svstat --json says of each', async () => {
      const a = await request(url, '/api/services');
      assert.equal(a.status, 200);
      assert.match(String(a.headers['content-type']), /^application\/json/);
      const views = json<ServiceView[]>(a);
      assert.deepEqual(views.map((v) => v.name), ['idle', 'web', 'web/log']);
      for (const v of views) {
        assert.equal(v.dir, path.join(scan, v.name));
        assert.deepEqual(withoutSeconds(v as unknown as Record<string, unknown>), withoutSeconds(await svstatJson(v.dir)));
      }
      assert.equal(views[0].state, 'down');
      assert.equal(views[1].state, 'up');
    });

    test('GET /api/services/NAME, NAME/log as one segment; bad names 400, unknown ones 404, other methods 405', async () => {
      const web = json<ServiceView>(await request(url, '/api/services/web'));
      assert.equal(web.name, 'web');
      assert.equal(web.state, 'up');
      const log = json<ServiceView>(await request(url, '/api/services/web%2Flog'));
      assert.equal(log.name, 'web/log');
      assert.deepEqual(withoutSeconds(log as unknown as Record<string, unknown>), withoutSeconds(await svstatJson(path.join(scan, 'web/log'))));
      for (const bad of ['%2e%2e', '.hidden', 'a%00b', 'x'.repeat(300), 'a%2Fb', 'web%2F..%2Flog', '%']) {
        const a = await request(url, `/api/services/${bad}`);
        assert.equal(a.status, 400, bad);
        assert.equal(typeof json<{ error: string }>(a).error, 'string');
      }
      for (const missing of ['nope', 'a-file', 'idle%2Flog']) {
        const a = await request(url, `/api/services/${missing}`);
        assert.equal(a.status, 404, missing);
        assert.match(json<{ error: string }>(a).error, /no service/);
      }
      const del = await request(url, '/api/services/web', { method: 'DELETE' });
      assert.equal(del.status, 405);
      assert.equal(del.headers.allow, 'GET, HEAD');
      assert.equal((await request(url, '/api/services/web/control')).status, 405);
      assert.equal((await request(url, '/api/nothing')).status, 404);
    });

    test('POST control: down and up reach the supervise (svstat agrees), and come as events', async () => {
      const events = new EventStream(url, '/api/events');
      await events.next<{ services: ServiceView[] }>('services', (d) => d.services.length === 3, 'the first event');
      const from = events.events.length;
      const down = await controlRequest(url, 'web', 'd');
      assert.equal(down.status, 200, down.body);
      assert.deepEqual(json(down), { name: 'web', sent: 'd' });
      const seen = await events.next<{ service: ServiceView }>('service', (d) => d.service.name === 'web' && d.service.state === 'down', 'web down as an event', from);
      assert.equal(seen.service.want, 'down');
      assert.equal((await svstatJson(path.join(scan, 'web'))).state, 'down');
      const up = await controlRequest(url, 'web', 'u');
      assert.equal(up.status, 200);
      await events.next<{ service: ServiceView }>('service', (d) => d.service.name === 'web' && d.service.state === 'up', 'web up as an event', from);
      assert.equal((await svstatJson(path.join(scan, 'web'))).state, 'up');
      events.close();
    });

    test('GET .../log: the tail with local time labels; log/events follows new lines', async () => {
      const current = path.join(scan, 'web/log/main/current');
      await waitFor(() => fs.existsSync(current) && fs.readFileSync(current, 'utf8').includes('started'), 'a line in the log');
      const tai = await run(bin('tai64nlocal'), [], { input: fs.readFileSync(current) });
      const expected = tai.stdout.trimEnd().split('\n');
      const a = await request(url, '/api/services/web/log?lines=1000');
      assert.equal(a.status, 200);
      const body = json<{ file: string; lines: string[] }>(a);
      assert.equal(body.file, current);
      assert.deepEqual(body.lines, expected);
      assert.match(body.lines[0], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} started$/);
      assert.deepEqual(json<{ lines: string[] }>(await request(url, '/api/services/web%2Flog/log?lines=1')).lines, expected.slice(-1));
      assert.equal((await request(url, '/api/services/web/log?lines=x')).status, 400);
      assert.equal((await request(url, '/api/services/idle/log')).status, 404);

      const follow = new EventStream(url, '/api/services/web/log/events?lines=2');
      const first = await follow.next<{ lines: string[] }>('tail', () => true, 'the tail');
      assert.deepEqual(first.lines, expected.slice(-2));
      assert.equal((await controlRequest(url, 'web', 'h')).status, 200);
      const more = await follow.next<{ lines: string[] }>('lines', (d) => d.lines.some((l) => l.endsWith(' got hup')), 'the new line');
      assert.match(more.lines[0], /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} /);
      follow.close();
    });

    test('the page without JavaScript: the table, forms that control, the filter, a log', async () => {
      const page = await request(url, '/');
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
      assert.match(page.body, /<tr id="s-web" data-name="web" data-state="up"/);
      assert.match(page.body, /<tr id="s-web%2Flog" data-name="web\/log"/);
      assert.match(page.body, /<tr id="s-idle" data-name="idle" data-state="down" class=""><td class="name"><a href="\/\?log=idle#log">idle<\/a><\/td><td class="state">down<\/td>/);
      assert.doesNotMatch(page.body, /https?:\/\//, 'nothing from elsewhere');
      const csrf = /name="csrf" value="([^"]+)"/.exec(page.body)![1];
      const posted = await request(url, '/api/services/idle/control', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: url },
        body: `csrf=${encodeURIComponent(csrf)}&letters=u`,
      });
      assert.equal(posted.status, 303);
      assert.equal(posted.headers.location, '/?service=idle&sent=u');
      assert.match((await request(url, posted.headers.location!)).body, /<p id="notice" role="status">idle: sent svc -u<\/p>/);
      await waitFor(async () => (await svstatJson(path.join(scan, 'idle'))).state === 'up', 'idle up');
      const filtered = await request(url, '/?filter=dl');
      assert.match(filtered.body, /data-name="idle"/);
      assert.doesNotMatch(filtered.body, /data-name="web"/);
      const withLog = await request(url, '/?log=web');
      assert.match(withLog.body, /<pre id="log-lines">[^<]*started/);
      assert.equal((await controlRequest(url, 'idle', 'd')).status, 200);
      await waitFor(async () => (await svstatJson(path.join(scan, 'idle'))).state === 'down', 'idle down');
    });
  });
}

describe('requests refused', () => {
  let scan: string;
  let url: string;
  before(async () => {
    scan = await hostTree('dtn-web-refuse-');
    url = (await startSvweb(procs, scan)).url;
  });

  const post = (target: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    request(url, target, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });

  test('CSRF: no token, a wrong one, another Origin or Referer, a cross-site fetch: 403, and nothing sent', async () => {
    const csrf = await token(url);
    const cases: Array<Record<string, string>> = [
      {},
      { 'X-CSRF-Token': 'x' + csrf.slice(1) },
      { 'X-CSRF-Token': csrf, Origin: 'http://evil.example' },
      { 'X-CSRF-Token': csrf, Origin: 'null' },
      { 'X-CSRF-Token': csrf, Referer: 'http://evil.example/' },
      { 'X-CSRF-Token': csrf, 'Sec-Fetch-Site': 'cross-site' },
    ];
    const before = await svstatJson(path.join(scan, 'web'));
    for (const headers of cases) {
      const a = await post('/api/services/web/control', '{"letters":"d"}', headers);
      assert.equal(a.status, 403, JSON.stringify(headers));
      assert.equal(typeof json<{ error: string }>(a).error, 'string');
    }
    const now = await svstatJson(path.join(scan, 'web'));
    assert.equal(now.state, 'up');
    assert.equal(now.pid, before.pid);
  });

  test('bodies: unknown letters and bad bodies 400, other types 415, too big 413; headers too big 431; a foreign Host 403', async () => {
    const csrf = await token(url);
    const h = { 'X-CSRF-Token': csrf };
    for (const body of ['{"letters":"z"}', '{"letters":""}', '{}', '{"letters":5}', 'not json', '[]', '{"letters":"d\\u0000"}']) {
      const a = await post('/api/services/web/control', body, h);
      assert.equal(a.status, 400, body);
    }
    assert.equal((await post('/api/services/web/control', 'letters=d', { ...h, 'Content-Type': 'text/plain' })).status, 415);
    const big = await post('/api/services/web/control', Buffer.alloc(64 * 1024, 0x20), h);
    assert.equal(big.status, 413);
    assert.match(json<{ error: string }>(big).error, /larger than 16384 bytes/);
    const headers = await request(url, '/api/services', { headers: { 'X-Big': 'x'.repeat(16 * 1024) } });
    assert.equal(headers.status, 431);
    const long = await request(url, '/api/services/' + 'x'.repeat(3000));
    assert.equal(long.status, 414);
    const rebound = await request(url, '/api/services', { headers: { Host: 'evil.example' } });
    assert.equal(rebound.status, 403);
    assert.equal((await svstatJson(path.join(scan, 'web'))).state, 'up');
  });

  test('a service no supervise runs: 409 (JSON), or the page with the reason (form)', async () => {
    const d = procs.tmpdir('dtn-web-');
    notRunningDir(d, 'gone', 'control');
    makeService(path.join(d, 'never'), '#!/bin/sh\n');
    const s = await startSvweb(procs, d);
    for (const name of ['gone', 'never']) {
      const a = await controlRequest(s.url, name, 'u');
      assert.equal(a.status, 409, name);
      assert.deepEqual(json(a), { error: `unable to control ${name}: supervise not running` });
    }
    const csrf = await token(s.url);
    const form = await request(s.url, '/api/services/gone/control', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `csrf=${encodeURIComponent(csrf)}&letters=u`,
    });
    assert.equal(form.status, 409);
    assert.match(form.body, /<p id="notice" role="status">unable to control gone: supervise not running<\/p>/);
    // the notice is svweb's own words, never text from the URL
    assert.match((await request(s.url, '/?service=gone&sent=%3Cb%3E')).body, /<p id="notice" role="status"><\/p>/);
  });

  test('svweb as another user: what svstat says as that user (access denied), controls refused by the FIFO (403)', async () => {
    // a copy of the bundle where nobody can read it (the checkout may be out of its reach)
    const d = procs.tmpdir('dtn-web-nobody-');
    fs.chmodSync(d, 0o755);
    const copy = path.join(d, 'svweb.js');
    fs.copyFileSync(path.join(ROOT, 'dist', 'svweb.js'), copy);
    fs.chmodSync(path.dirname(scan), 0o755);
    fs.chmodSync(scan, 0o755);
    const s = await startSvweb(procs, scan, [], '127.0.0.1', { command: [process.execPath, copy], uid: 65534, gid: 65534 });
    const web = json<ServiceView>(await request(s.url, '/api/services/web'));
    assert.equal(web.state, 'error');
    assert.equal(web.error, 'unable to open supervise/ok: access denied');
    const a = await controlRequest(s.url, 'web', 'd');
    assert.equal(a.status, 403);
    assert.deepEqual(json(a), { error: 'unable to control web: access denied' });
    assert.equal((await svstatJson(path.join(scan, 'web'))).state, 'up');
  });

  test('--read-only: no buttons on the page, controls refused (403)', async () => {
    const ro = await startSvweb(procs, scan, ['--read-only']);
    const page = await request(ro.url, '/');
    assert.match(page.body, /data-name="web"/);
    assert.doesNotMatch(page.body, /<button name="letters"/);
    const a = await controlRequest(ro.url, 'web', 'd');
    assert.equal(a.status, 403);
    assert.match(json<{ error: string }>(a).error, /read-only/);
    assert.equal(json<{ readOnly: boolean }>(await request(ro.url, '/api/session')).readOnly, true);
    assert.equal((await svstatJson(path.join(scan, 'web'))).state, 'up');
  });

  test('svweb shows itself as svweb to pgrep -x and stops on SIGTERM', async () => {
    const s = await startSvweb(procs, scan);
    const r = await run('/usr/bin/pgrep', ['-x', 'svweb']);
    assert.ok(r.stdout.split('\n').includes(String(s.child.pid)), r.stdout);
    s.child.kill('SIGTERM');
    await waitFor(() => s.child.exitCode !== null, 'svweb gone');
    assert.equal(s.child.exitCode, 0);
  });
});

describe('authentication', () => {
  let scan: string;
  let url: string;
  const alice = { Authorization: 'Basic ' + Buffer.from('alice:correct horse').toString('base64') };
  before(async () => {
    scan = await hostTree('dtn-web-auth-');
    const file = await passwordFile(path.dirname(scan), 'alice', 'correct horse');
    url = (await startSvweb(procs, scan, ['--password-file', file])).url;
  });

  test('no credentials or wrong ones: 401 (API, with WWW-Authenticate) or the login form (page)', async () => {
    const none = await request(url, '/api/services');
    assert.equal(none.status, 401);
    assert.match(String(none.headers['www-authenticate']), /^Basic realm="svweb"/);
    assert.deepEqual(json(none), { error: 'authentication required' });
    for (const cred of ['alice:wrong', 'bob:correct horse', 'alice', 'alice:correct horse ']) {
      const a = await request(url, '/api/services', { headers: { Authorization: 'Basic ' + Buffer.from(cred).toString('base64') } });
      assert.equal(a.status, 401, cred);
    }
    assert.equal((await request(url, '/api/services', { headers: { Authorization: 'Bearer x' } })).status, 401);
    const page = await request(url, '/');
    assert.equal(page.status, 303);
    assert.equal(page.headers.location, '/login');
    assert.equal((await request(url, '/metrics')).status, 401);
  });

  test('HTTP basic with the right password: the API, and controls with the token', async () => {
    const a = await request(url, '/api/services', { headers: alice });
    assert.equal(a.status, 200);
    assert.equal(json<ServiceView[]>(a).length, 3);
    const session = json<{ user: string }>(await request(url, '/api/session', { headers: alice }));
    assert.equal(session.user, 'alice');
    const c = await controlRequest(url, 'web', 'd', alice);
    assert.equal(c.status, 200);
    await waitFor(async () => (await svstatJson(path.join(scan, 'web'))).state === 'down', 'web down');
    assert.equal((await controlRequest(url, 'web', 'u', alice)).status, 200);
  });

  test('the login form: a wrong password 401, the right one a session cookie (HttpOnly, SameSite=Strict) until logout', async () => {
    const form = await request(url, '/login');
    assert.equal(form.status, 200);
    const csrf = /name="csrf" value="([^"]+)"/.exec(form.body)![1];
    const login = (password: string) =>
      request(url, '/login', {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: url },
        body: new URLSearchParams({ csrf, user: 'alice', password }).toString(),
      });
    const wrong = await login('nope');
    assert.equal(wrong.status, 401);
    assert.match(wrong.body, /wrong user or password/);
    assert.equal(wrong.headers['set-cookie'], undefined);
    const right = await login('correct horse');
    assert.equal(right.status, 303);
    const cookie = right.headers['set-cookie']![0];
    assert.match(cookie, /^svweb_session=[A-Za-z0-9_-]{43}; HttpOnly; SameSite=Strict; Path=\/$/);
    const jar = { Cookie: cookie.split(';')[0] };
    const page = await request(url, '/', { headers: jar });
    assert.equal(page.status, 200);
    assert.match(page.body, /<span>alice<\/span> <button>log out<\/button>/);
    // the token of the session, not the one of the user over basic
    const sessionToken = await token(url, jar);
    assert.notEqual(sessionToken, await token(url, alice));
    const crossed = await request(url, '/api/services/web/control', {
      method: 'POST',
      headers: { ...jar, 'Content-Type': 'application/json', 'X-CSRF-Token': await token(url, alice) },
      body: '{"letters":"c"}',
    });
    assert.equal(crossed.status, 403);
    const loginCross = await request(url, '/login', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Origin: 'http://evil.example' },
      body: new URLSearchParams({ csrf, user: 'alice', password: 'correct horse' }).toString(),
    });
    assert.equal(loginCross.status, 403);
    const logout = await request(url, '/logout', {
      method: 'POST',
      headers: { ...jar, 'Content-Type': 'application/x-www-form-urlencoded', Origin: url },
      body: `csrf=${encodeURIComponent(sessionToken)}`,
    });
    assert.equal(logout.status, 303);
    assert.equal((await request(url, '/api/services', { headers: jar })).status, 401);
  });

  test('with a password file, a non-loopback address is served (and a foreign Host is fine)', async () => {
    const file = path.join(path.dirname(scan), 'passwd');
    const s = await startSvweb(procs, scan, ['--password-file', file], '0.0.0.0');
    const a = await request(`http://127.0.0.1:${s.port}`, '/api/services', { headers: { ...alice, Host: 'svweb.example:1' } });
    assert.equal(a.status, 200);
    assert.equal((await request(`http://127.0.0.1:${s.port}`, '/api/services')).status, 401);
  });
});
