// svweb's metrics: the exposition of a tree (names, labels, values from what
// svstat --json reports) at the unit level and on trees run by our supervise
// and by the C supervise; `promtool check metrics` on /metrics and on the
// textfile; `svweb --textfile` rewritten after a change; and a real
// Prometheus scraping svweb's /metrics every second, its query API showing
// each service's series and a change after the next scrape.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Procs, alive, bin, cbin, run, waitFor } from './helpers';
import { makeService, SLEEPER, statusPid, waitDown, waitUp } from './fixtures/service';
import { startSupervise } from './fixtures/supervised';
import { freePort, passwordFile, request, startSvweb } from './fixtures/svweb';
import { renderMetrics, METRICS_CONTENT_TYPE } from '../lib/web/metrics';
import { textfileText } from '../lib/web/textfile';
import { ServiceView, readServices } from '../lib/web/services';
import { format, fromDate } from '../lib/tai64';

const procs = new Procs();
after(() => procs.cleanup());

const P = 'daemontools_service_';

/** The samples of an exposition: `name{labels}` (as printed) to value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+?(?:\{.*\})?) (\S+)$/.exec(line);
    assert.ok(m, `a sample line: ${JSON.stringify(line)}`);
    out.set(m[1], Number(m[2]));
  }
  return out;
}

/** The value of metric for service, undefined when there is no such series. */
function value(text: string, metric: string, service: string): number | undefined {
  return samples(text).get(`${P}${metric}{service=${JSON.stringify(service)}}`);
}

/** The services that have a series of metric. */
function servicesOf(text: string, metric: string): string[] {
  const re = new RegExp(`^${P}${metric}\\{service="((?:[^"\\\\]|\\\\.)*)"\\} `, 'gm');
  return [...text.matchAll(re)].map((m) => m[1]).sort();
}

async function promtool(text: string): Promise<void> {
  const r = await run('/usr/bin/promtool', ['check', 'metrics'], { input: text });
  assert.equal(r.code, 0, `promtool check metrics: ${r.stdout}${r.stderr}`);
}

const NOW = Date.UTC(2026, 11, 5, 12, 0, 0);
const label = (ms: number): string => format(fromDate(new Date(ms)));

function view(name: string, fields: Partial<ServiceView>): ServiceView {
  return {
    name, dir: `/service/${name}`, state: 'up', pid: 100, seconds: 5, since: label(NOW - 5000), paused: false,
    want: 'up', normallyUp: true, ready: true, readySince: null, finishing: null, failedInRow: null,
    restartAt: null, gaveUp: null, ...fields,
  };
}

describe('the exposition (unit)', () => {
  const info = { supervise: 1, starts: 7, failures: 2, lastExit: { at: label(NOW - 6000), code: 3, signal: null } };
  const views: ServiceView[] = [
    view('web', { info }),
    view('web/log', { pid: 101, seconds: 90, since: label(NOW - 90000) }),
    view('db', { state: 'down', pid: null, want: 'up', normallyUp: false, ready: false, failedInRow: 4, gaveUp: 4,
      info: { ...info, lastExit: { at: label(NOW - 2500), code: null, signal: 'SIGKILL' } } }),
    view('paused', { paused: true, want: 'down', ready: false }),
    view('once', { want: 'once' }),
    { name: 'gone', dir: '/service/gone', state: 'not running' },
    { name: 'broken', dir: '/service/broken', state: 'error', error: 'unable to open supervise/ok: access denied' },
  ];

  test('one series per service: up, supervised, the seconds and the time of the last change', async () => {
    const text = await renderMetrics(views);
    assert.deepEqual(servicesOf(text, 'up'), ['broken', 'db', 'gone', 'once', 'paused', 'web', 'web/log']);
    assert.equal(value(text, 'up', 'web'), 1);
    assert.equal(value(text, 'up', 'db'), 0);
    assert.equal(value(text, 'up', 'gone'), 0);
    assert.equal(value(text, 'supervised', 'web'), 1);
    assert.equal(value(text, 'supervised', 'db'), 1);
    assert.equal(value(text, 'supervised', 'gone'), 0);
    assert.equal(value(text, 'supervised', 'broken'), 0);
    assert.equal(value(text, 'state_seconds', 'web/log'), 90);
    assert.equal(value(text, 'state_change_timestamp_seconds', 'web/log'), (NOW - 90000) / 1000);
    assert.equal(value(text, 'state_change_timestamp_seconds', 'web'), (NOW - 5000) / 1000);
  });

  test('want up, normally up, paused, ready: 0 or 1', async () => {
    const text = await renderMetrics(views);
    assert.equal(value(text, 'want_up', 'web'), 1);
    assert.equal(value(text, 'want_up', 'paused'), 0);
    assert.equal(value(text, 'want_up', 'once'), 0);
    assert.equal(value(text, 'normally_up', 'web'), 1);
    assert.equal(value(text, 'normally_up', 'db'), 0);
    assert.equal(value(text, 'paused', 'paused'), 1);
    assert.equal(value(text, 'paused', 'web'), 0);
    assert.equal(value(text, 'ready', 'web'), 1);
    assert.equal(value(text, 'ready', 'paused'), 0);
  });

  test('a service with no supervisor (or an unreadable status): supervised 0 and up 0, no other series', async () => {
    const text = await renderMetrics(views);
    for (const metric of ['state_seconds', 'state_change_timestamp_seconds', 'want_up', 'normally_up', 'paused', 'ready', 'starts_total']) {
      assert.ok(!servicesOf(text, metric).includes('gone'), `${metric} of a service not supervised`);
      assert.ok(!servicesOf(text, metric).includes('broken'), `${metric} of a service in error`);
    }
  });

  test('our supervise\'s info: starts and failures counters, failed starts in a row, gave up, the last exit', async () => {
    const text = await renderMetrics(views);
    assert.match(text, new RegExp(`^# TYPE ${P}starts_total counter$`, 'm'));
    assert.match(text, new RegExp(`^# TYPE ${P}failures_total counter$`, 'm'));
    assert.equal(value(text, 'starts_total', 'web'), 7);
    assert.equal(value(text, 'failures_total', 'web'), 2);
    assert.equal(value(text, 'last_exit_code', 'web'), 3);
    assert.equal(value(text, 'last_exit_signal', 'web'), 0);
    assert.equal(value(text, 'last_exit_timestamp_seconds', 'web'), (NOW - 6000) / 1000);
    // killed by a signal: its number, no exit code
    assert.equal(value(text, 'last_exit_signal', 'db'), 9);
    assert.equal(value(text, 'last_exit_code', 'db'), undefined);
    assert.equal(value(text, 'failed_starts_in_row', 'db'), 4);
    assert.equal(value(text, 'gave_up', 'db'), 1);
    assert.equal(value(text, 'gave_up', 'web'), 0);
    // without info (the C supervise): no counters at all rather than zeros
    assert.deepEqual(servicesOf(text, 'starts_total'), ['db', 'web']);
    assert.equal(value(text, 'last_exit_code', 'web/log'), undefined);
  });

  test('every metric has its HELP and TYPE; gauges are gauges; the names are the documented ones', async () => {
    const text = await renderMetrics(views, { ownProcess: false });
    const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1], m[2]]));
    const helps = new Set([...text.matchAll(/^# HELP (\S+) \S/gm)].map((m) => m[1]));
    const gauges = ['supervised', 'up', 'state_seconds', 'state_change_timestamp_seconds', 'want_up', 'normally_up', 'paused', 'ready',
      'failed_starts_in_row', 'gave_up', 'last_exit_code', 'last_exit_signal', 'last_exit_timestamp_seconds'];
    assert.deepEqual([...types.keys()].sort(), [...gauges, 'starts_total', 'failures_total'].map((n) => P + n).sort());
    for (const g of gauges) assert.equal(types.get(P + g), 'gauge', g);
    for (const name of types.keys()) assert.ok(helps.has(name), `HELP of ${name}`);
  });

  test('a service removed between two renderings leaves no series behind', async () => {
    const first = await renderMetrics(views);
    const second = await renderMetrics(views.filter((v) => v.name !== 'web'));
    assert.ok(servicesOf(first, 'up').includes('web'));
    assert.ok(!second.includes('service="web"'), 'no series of the removed service');
    assert.equal(value(second, 'up', 'web/log'), 1);
  });

  test('names with a quote, a backslash, a newline or UTF-8 are escaped in the label', async () => {
    const odd = ['a"b', 'back\\slash', 'new\nline', 'café'];
    const text = await renderMetrics(odd.map((n) => view(n, {})), { ownProcess: false });
    assert.deepEqual(servicesOf(text, 'up'), ['a\\"b', 'back\\\\slash', 'café', 'new\\nline']);
    await promtool(text);
  });

  test('svweb\'s own process metrics: the standard process_ and nodejs_ names, and its version; left out for the textfile', async () => {
    const text = await renderMetrics(views);
    for (const name of ['process_cpu_seconds_total', 'process_resident_memory_bytes', 'process_start_time_seconds', 'process_open_fds',
      'nodejs_heap_size_used_bytes', 'nodejs_version_info', 'daemontools_svweb_build_info']) {
      assert.match(text, new RegExp(`^${name}[{ ]`, 'm'), name);
    }
    // measuring the event loop's lag wakes the process every 10 ms: not done
    assert.doesNotMatch(text, /^nodejs_eventloop_lag/m);
    const textfile = await renderMetrics(views, { ownProcess: false });
    assert.doesNotMatch(textfile, /^(process|nodejs)_/m);
    assert.doesNotMatch(textfile, /daemontools_svweb_/);
  });

  test('the textfile\'s text: no process metrics, the seconds in each state counted to now from the time of the last change', async () => {
    const text = await textfileText([view('web', { seconds: 5, since: label(NOW - 90000) })], NOW + 400);
    assert.equal(value(text, 'state_seconds', 'web'), 90);
    assert.equal(value(text, 'state_change_timestamp_seconds', 'web'), (NOW - 90000) / 1000);
    assert.doesNotMatch(text, /^(process|nodejs)_/m);
    await promtool(text);
  });

  test('promtool check metrics accepts it, with and without the process metrics, and with no service at all', async () => {
    await promtool(await renderMetrics(views));
    await promtool(await renderMetrics(views, { ownProcess: false }));
    await promtool(await renderMetrics([], { ownProcess: false }));
    assert.match(METRICS_CONTENT_TYPE, /^text\/plain; version=0\.0\.4/);
  });
});

/** A tree of three services under supervisor prog: up (with a log service), down (a down file), exiting 3 at once. */
async function tree(prog: string | undefined): Promise<{ scan: string; pids: Map<string, number> }> {
  const scan = procs.tmpdir('dtn-metrics-');
  const up = makeService(path.join(scan, 'up'), SLEEPER, { log: SLEEPER });
  const down = makeService(path.join(scan, 'down'), SLEEPER, { down: true });
  const exits = makeService(path.join(scan, 'exits'), '#!/bin/sh\nexit 3\n', { down: true });
  for (const dir of [up, path.join(up, 'log'), down, exits]) {
    await startSupervise(procs, dir, prog ? { prog } : {}).ready();
  }
  const pids = new Map([['up', await waitUp(up, { procs })], ['up/log', await waitUp(path.join(up, 'log'), { procs })]]);
  return { scan, pids };
}

describe('the metrics of a real tree', () => {
  for (const [who, prog] of [['our supervise', undefined], ['the C supervise', '/usr/bin/supervise']] as const) {
    test(`under ${who}: up, down, normally up/down, want up, the time of the last change; promtool accepts it`, async () => {
      if (prog) cbin('supervise');
      const { scan, pids } = await tree(prog);
      // run once: exits 3, not restarted
      await run(bin('svc'), ['-o', path.join(scan, 'exits')]);
      await waitFor(() => fs.existsSync(path.join(scan, 'exits', 'supervise', 'status')) && statusPid(path.join(scan, 'exits')) === 0 &&
        fs.readFileSync(path.join(scan, 'exits', 'supervise', 'status'))[17] === 0, 'exits: run once and down');
      const text = await renderMetrics(await readServices(scan));
      await promtool(text);
      assert.deepEqual(servicesOf(text, 'up'), ['down', 'exits', 'up', 'up/log']);
      assert.equal(value(text, 'up', 'up'), 1);
      assert.equal(value(text, 'up', 'up/log'), 1);
      assert.equal(value(text, 'up', 'down'), 0);
      assert.equal(value(text, 'normally_up', 'up'), 1);
      assert.equal(value(text, 'normally_up', 'down'), 0);
      assert.equal(value(text, 'want_up', 'up'), 1);
      assert.equal(value(text, 'want_up', 'down'), 0);
      assert.equal(value(text, 'want_up', 'exits'), 0);
      assert.equal(value(text, 'paused', 'up'), 0);
      const status = fs.readFileSync(path.join(scan, 'up', 'supervise', 'status'));
      const changed = Number(status.readBigUInt64BE(0) - (1n << 62n) - 10n) + status.readUInt32BE(8) / 1e9;
      assert.ok(Math.abs(value(text, 'state_change_timestamp_seconds', 'up')! - changed) < 1e-6, 'the time of the last change is the status\'s');
      assert.ok(value(text, 'state_seconds', 'up')! >= 0);
      assert.ok(pids.get('up')! > 0);
      if (prog) {
        // the C supervise keeps no info: no counters, no last exit
        assert.deepEqual(servicesOf(text, 'starts_total'), []);
        assert.deepEqual(servicesOf(text, 'last_exit_code'), []);
      } else {
        assert.equal(value(text, 'starts_total', 'up'), 1);
        assert.equal(value(text, 'starts_total', 'exits'), 1);
        assert.equal(value(text, 'last_exit_code', 'exits'), 3);
        assert.equal(value(text, 'last_exit_signal', 'exits'), 0);
      }
    });
  }

  test('under our supervise: svc -k shows the signal of the last exit, and the starts counter counts the restart', async () => {
    const { scan, pids } = await tree(undefined);
    const dir = path.join(scan, 'up');
    await run(bin('svc'), ['-k', dir]);
    await waitUp(dir, { not: pids.get('up'), procs });
    await waitFor(async () => value(await renderMetrics(await readServices(scan)), 'starts_total', 'up') === 2, 'two starts');
    const text = await renderMetrics(await readServices(scan));
    assert.equal(value(text, 'last_exit_signal', 'up'), 9);
    assert.equal(value(text, 'last_exit_code', 'up'), undefined);
    assert.equal(value(text, 'up', 'up'), 1);
  });
});

/** GET url: status, Content-Type, body. */
async function get(url: string): Promise<{ status: number; type: string; body: string }> {
  const u = new URL(url);
  const a = await request(u.origin, u.pathname + u.search);
  return { status: a.status, type: String(a.headers['content-type']), body: a.body };
}

describe('svweb --textfile FILE', () => {
  for (const [who, prog] of [['our supervise', undefined], ['the C supervise', '/usr/bin/supervise']] as const) {
  test(`under ${who}: the exposition at start and again after svc -d, atomically (only FILE in its directory); promtool accepts it`, async () => {
    const { scan } = await tree(prog);
    const out = procs.tmpdir('dtn-textfile-');
    const file = path.join(out, 'daemontools.prom');
    const web = procs.start(bin('svweb'), ['--textfile', file, scan], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    web.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const read = (): string => {
      try {
        return fs.readFileSync(file, 'utf8');
      } catch {
        return '';
      }
    };
    await waitFor(() => value(read(), 'up', 'up') === 1, 'the textfile with up 1');
    const first = read();
    await promtool(first);
    assert.deepEqual(servicesOf(first, 'up'), ['down', 'exits', 'up', 'up/log']);
    assert.doesNotMatch(first, /^process_/m, 'no process metrics in a textfile (node_exporter has its own)');
    await run(bin('svc'), ['-d', path.join(scan, 'up')]);
    await waitDown(path.join(scan, 'up'));
    await waitFor(() => value(read(), 'up', 'up') === 0, 'the textfile with up 0 after svc -d');
    const second = read();
    assert.equal(value(second, 'want_up', 'up'), 0);
    await promtool(second);
    // nothing but the file (its temporary files renamed over it)
    assert.deepEqual(fs.readdirSync(out), ['daemontools.prom']);
    assert.equal(web.exitCode, null, `svweb --textfile still running: ${stderr}`);
  });
  }

  test('an unwritable FILE, or a dir that is not there: exit 111 and a message', async () => {
    const scan = procs.tmpdir('dtn-textfile-');
    let r = await run(bin('svweb'), ['--textfile', path.join(scan, 'no', 'such', 'x.prom'), scan]);
    assert.equal(r.code, 111, r.stderr);
    assert.match(r.stderr, /^svweb: fatal: unable to write .*x\.prom: file does not exist\n$/);
    r = await run(bin('svweb'), ['--textfile', path.join(scan, 'x.prom'), path.join(scan, 'none')]);
    assert.equal(r.code, 111, r.stderr);
    assert.match(r.stderr, /^svweb: fatal: unable to read .*none: file does not exist\n$/);
    assert.deepEqual(fs.readdirSync(scan), []);
  });
});

interface ScrapeJob {
  name: string;
  /** host:port */
  target: string;
  /** HTTP basic credentials, the password in a file (as the README's scrape config has it) */
  basicAuth?: { username: string; passwordFile: string };
}

/** A Prometheus on a free loopback port scraping each job every second, its data in a temporary directory. */
async function startPrometheus(jobs: ScrapeJob[]): Promise<{ base: string; child: ChildProcess }> {
  const dir = procs.tmpdir('dtn-prom-');
  const port = await freePort();
  fs.writeFileSync(path.join(dir, 'prometheus.yml'), [
    'global:',
    '  scrape_interval: 1s',
    '  evaluation_interval: 1s',
    'scrape_configs:',
    ...jobs.flatMap((j) => [
      `  - job_name: ${j.name}`,
      '    scrape_interval: 1s',
      '    scrape_timeout: 1s',
      ...(j.basicAuth ? ['    basic_auth:', `      username: ${j.basicAuth.username}`, `      password_file: ${j.basicAuth.passwordFile}`] : []),
      '    static_configs:',
      `      - targets: ['${j.target}']`,
    ]),
    'rule_files:',
    '  - rules.yml',
    '',
  ].join('\n'));
  // the README's alert rules, firing at once (no `for`)
  fs.writeFileSync(path.join(dir, 'rules.yml'), [
    'groups:',
    '  - name: daemontools',
    '    rules:',
    '      - alert: ServiceDown',
    `        expr: ${P}up == 0 and (${P}want_up == 1 or ${P}gave_up == 1)`,
    '      - alert: ServiceFlapping',
    `        expr: changes(${P}state_change_timestamp_seconds[10m]) > 6`,
    '',
  ].join('\n'));
  const child = procs.start('/usr/bin/prometheus', [
    `--config.file=${path.join(dir, 'prometheus.yml')}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
  ], { cwd: dir, detached: true });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await get(`${base}/-/ready`)).status === 200, 'Prometheus ready', 30000, 100);
  return { base, child };
}

interface Vector {
  metric: Record<string, string>;
  value: [number, string];
}

async function query(base: string, q: string): Promise<Vector[]> {
  const r = await get(`${base}/api/v1/query?query=${encodeURIComponent(q)}`);
  assert.equal(r.status, 200, r.body);
  const body = JSON.parse(r.body) as { status: string; data: { resultType: string; result: Vector[] } };
  assert.equal(body.status, 'success');
  return body.data.result;
}

/** service label to value of one metric, as Prometheus has it now. */
async function byService(base: string, metric: string): Promise<Map<string, number>> {
  return new Map((await query(base, `${P}${metric}{job="svweb"}`)).map((v) => [v.metric.service, Number(v.value[1])]));
}

describe('a real Prometheus scraping svweb', () => {
  let scan: string;
  let web: ChildProcess;
  let prom: { base: string; child: ChildProcess };
  let pids: Map<string, number>;

  before(async () => {
    ({ scan, pids } = await tree(undefined));
    const svweb = await startSvweb(procs, scan);
    web = svweb.child;
    const m = await get(`${svweb.url}/metrics`);
    assert.equal(m.status, 200);
    assert.equal(m.type, METRICS_CONTENT_TYPE);
    await promtool(m.body);
    // and one with a password file, scraped with the right password and with a wrong one
    const secrets = procs.tmpdir('dtn-prom-auth-');
    const users = await passwordFile(secrets, 'prometheus', 'scrape-secret');
    fs.writeFileSync(path.join(secrets, 'right'), 'scrape-secret\n');
    fs.writeFileSync(path.join(secrets, 'wrong'), 'not-the-secret\n');
    const authed = await startSvweb(procs, scan, ['--password-file', users]);
    prom = await startPrometheus([
      { name: 'svweb', target: `127.0.0.1:${svweb.port}` },
      { name: 'svweb-auth', target: `127.0.0.1:${authed.port}`, basicAuth: { username: 'prometheus', passwordFile: path.join(secrets, 'right') } },
      { name: 'svweb-wrong', target: `127.0.0.1:${authed.port}`, basicAuth: { username: 'prometheus', passwordFile: path.join(secrets, 'wrong') } },
    ]);
  });

  test('the target is up and each service has its series with the right values', async () => {
    await waitFor(async () => (await query(prom.base, 'up{job="svweb"}'))[0]?.value[1] === '1', 'the svweb target scraped', 20000, 200);
    const up = await waitFor<Map<string, number> | undefined>(async () => {
      const m = await byService(prom.base, 'up');
      return m.size === 4 ? m : undefined;
    }, 'the four services in Prometheus', 20000, 200);
    assert.deepEqual(Object.fromEntries(up!), { down: 0, exits: 0, up: 1, 'up/log': 1 });
    assert.deepEqual(Object.fromEntries(await byService(prom.base, 'normally_up')), { down: 0, exits: 0, up: 1, 'up/log': 1 });
    assert.deepEqual(Object.fromEntries(await byService(prom.base, 'want_up')), { down: 0, exits: 0, up: 1, 'up/log': 1 });
    assert.deepEqual(Object.fromEntries(await byService(prom.base, 'starts_total')), { down: 0, exits: 0, up: 1, 'up/log': 1 });
    const changed = await byService(prom.base, 'state_change_timestamp_seconds');
    const status = fs.readFileSync(path.join(scan, 'up', 'supervise', 'status'));
    assert.ok(Math.abs(changed.get('up')! - Number(status.readBigUInt64BE(0) - (1n << 62n) - 10n)) < 1, 'the time of the last change');
    // svweb's own process, under the same target
    const cpu = await query(prom.base, 'process_cpu_seconds_total{job="svweb"}');
    assert.equal(cpu.length, 1);
    assert.equal(alive(pids.get('up')!), true);
  });

  test('with a password file: scraped with HTTP basic as the README\'s config does; a wrong password is a failed scrape (up 0), no series', async () => {
    await waitFor(async () => (await query(prom.base, 'up{job="svweb-auth"}'))[0]?.value[1] === '1', 'the authenticated target scraped', 20000, 200);
    await waitFor(async () => (await query(prom.base, 'up{job="svweb-wrong"}'))[0]?.value[1] === '0', 'the wrong password failing', 20000, 200);
    const up = await query(prom.base, `${P}up{job="svweb-auth"}`);
    assert.deepEqual(up.map((v) => v.metric.service).sort(), ['down', 'exits', 'up', 'up/log']);
    assert.deepEqual(await query(prom.base, `${P}up{job="svweb-wrong"}`), []);
  });

  test('svc -d shows up after the next scrape: up 0, want up 0, a later time of the last change', async () => {
    const before = (await byService(prom.base, 'state_change_timestamp_seconds')).get('up')!;
    await run(bin('svc'), ['-d', path.join(scan, 'up')]);
    await waitDown(path.join(scan, 'up'));
    await waitFor(async () => (await byService(prom.base, 'up')).get('up') === 0, 'up 0 in Prometheus', 30000, 200);
    assert.equal((await byService(prom.base, 'want_up')).get('up'), 0);
    assert.ok((await byService(prom.base, 'state_change_timestamp_seconds')).get('up')! > before);
    // the flapping rule of the README counts the changes
    // (its range query may lag the instant one by a scrape: waited for, as above)
    await waitFor(async () => {
      const changes = await query(prom.base, `changes(${P}state_change_timestamp_seconds{service="up"}[5m])`);
      return Number(changes[0]?.value[1] ?? 0) >= 1;
    }, 'the change counted by changes()', 30000, 200);
    assert.equal(web.exitCode, null, 'svweb still running');
  });

  test('the README\'s alert rules: down while wanted up (back-off) or given up fires ServiceDown, a crash loop ServiceFlapping; a service taken down neither', async () => {
    const FAILS = '#!/bin/sh\nexit 1\n';
    const backoff = makeService(path.join(scan, 'backoff'), FAILS);
    fs.writeFileSync(path.join(backoff, 'backoff-max'), '60\n');
    const gaveUp = makeService(path.join(scan, 'gaveup'), FAILS);
    fs.writeFileSync(path.join(gaveUp, 'start-retries'), '2\n');
    const crashing = makeService(path.join(scan, 'crashing'), FAILS);
    for (const dir of [backoff, gaveUp, crashing]) await startSupervise(procs, dir).ready();
    const firing = async (alert: string): Promise<string[]> =>
      (await query(prom.base, `ALERTS{alertname="${alert}",alertstate="firing"}`)).map((v) => v.metric.service).sort();
    await waitFor(async () => (await firing('ServiceDown')).includes('backoff'), 'ServiceDown for backoff (down, want up)', 30000, 250);
    await waitFor(async () => (await firing('ServiceDown')).includes('gaveup'), 'ServiceDown for gaveup (given up)', 30000, 250);
    await waitFor(async () => (await firing('ServiceFlapping')).includes('crashing'), 'ServiceFlapping for crashing', 30000, 250);
    const down = await firing('ServiceDown');
    // `up` was taken down with svc -d, `down` has a down file: neither is wanted up
    assert.ok(!down.includes('up') && !down.includes('down'), `ServiceDown: ${down.join(' ')}`);
    assert.ok(!(await firing('ServiceFlapping')).includes('up/log'));
  });
});
