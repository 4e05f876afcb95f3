// svweb's page in a real browser (Debian's chromium through playwright-core):
// each state shown, down and up pressed and seen without a reload (svstat
// agrees), the filter, a log followed as lines arrive, the page reconnecting
// to a restarted svweb, the login form; a screenshot kept as an artefact
// (build/test-artifacts/svweb.png) and checked not to be blank.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { chromium, BrowserContext, Page } from 'playwright-core';
import { Procs, ROOT, bin, run, waitFor } from './helpers';
import { makeService } from './fixtures/service';
import { killUnder, startSvscan } from './fixtures/tree';
import { FakeSupervise, statusRecord } from './fixtures/fake';
import { LOG_RUN, Svweb, WEB_RUN, passwordFile, startSvweb } from './fixtures/svweb';


const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];
const SCREENSHOT = path.join(ROOT, 'build', 'test-artifacts', 'svweb.png');

const procs = new Procs();
const roots: string[] = [];
let context: BrowserContext | undefined;
after(async () => {
  await context?.close();
  killUnder(roots);
  await procs.cleanup();
});


async function svstat(dir: string): Promise<string> {
  return (await run(bin('svstat'), [dir])).stdout;
}

/** The pixels of a PNG (8-bit RGB or RGBA, not interlaced), as playwright writes them. */
function pngPixels(png: Buffer): { width: number; height: number; channels: number; data: Buffer } {
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < png.length) {
    const len = png.readUInt32BE(off);
    const type = png.toString('latin1', off + 4, off + 8);
    const body = png.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      assert.equal(body[8], 8, 'bit depth 8');
      channels = body[9] === 6 ? 4 : body[9] === 2 ? 3 : 0;
      assert.ok(channels, `colour type ${body[9]}`);
      assert.equal(body[12], 0, 'not interlaced');
    } else if (type === 'IDAT') {
      idat.push(body);
    }
    off += 12 + len;
  }
  const raw = zlib.inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const data = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? data[y * stride + x - channels] : 0;
      const b = y > 0 ? data[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? data[(y - 1) * stride + x - channels] : 0;
      let v = line[x];
      if (filter === 1) v += a;
      else if (filter === 2) v += b;
      else if (filter === 3) v += (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      data[y * stride + x] = v & 0xff;
    }
  }
  return { width, height, channels, data };
}

function row(page: Page, name: string) {
  return page.locator(`tr[data-name="${name}"]`);
}

describe('the page in chromium', () => {
  let scan: string;
  let web: Svweb;
  let page: Page;

  before(async () => {
    const root = procs.tmpdir('dtn-web-browser-');
    roots.push(root);
    scan = path.join(root, 'service');
    makeService(path.join(scan, 'web'), WEB_RUN, { log: LOG_RUN });
    makeService(path.join(scan, 'idle'), '#!/bin/sh\nexec sleep 1000\n', { down: true });
    // crash gives up after 2 failed starts; flap keeps trying, ever later
    makeService(path.join(scan, 'crash'), '#!/bin/sh\nexit 3\n');
    fs.writeFileSync(path.join(scan, 'crash', 'start-retries'), '2\n');
    makeService(path.join(scan, 'flap'), '#!/bin/sh\nexit 4\n');
    fs.writeFileSync(path.join(scan, 'flap', 'backoff-max'), '60\n');
    makeService(path.join(scan, 'held'), '#!/bin/sh\nexec sleep 1000\n');
    startSvscan(procs, scan, root, { args: ['--host', scan] });
    for (const s of ['web', 'held']) await waitFor(async () => (await svstat(path.join(scan, s))).includes(': up '), `${s} up`);
    await waitFor(async () => (await svstat(path.join(scan, 'idle'))).includes(': down '), 'idle supervised');
    await run(bin('svc'), ['-p', path.join(scan, 'held')]);
    web = await startSvweb(procs, scan);
    const profile = procs.tmpdir('dtn-web-chromium-');
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS });
    page = await context.newPage();
    await page.goto(web.url + '/');
    await page.waitForSelector('#live:text-matches("^live")');
  });

  test('each state: up, down, paused, a crash loop marked, a log service', async () => {
    await waitFor(async () => (await row(page, 'held').locator('td.state').textContent()) === 'up, paused', 'held paused on the page');
    assert.equal(await row(page, 'web').locator('td.state').textContent(), 'up');
    assert.equal(await row(page, 'web').getAttribute('class'), 'up');
    assert.equal(await row(page, 'idle').locator('td.state').textContent(), 'down');
    assert.equal(await row(page, 'web/log').locator('td.state').textContent(), 'up');
    assert.ok(Number(await row(page, 'web').locator('td.pid').textContent()) > 0);
    // the failing ones, marked: given up, and waiting to restart
    await waitFor(async () => (await row(page, 'crash').locator('td.state').textContent()) === 'down, gave up after 2 failed starts, normally up', 'crash given up on the page');
    assert.equal(await row(page, 'crash').getAttribute('class'), 'bad');
    assert.equal(await row(page, 'crash').locator('td.exit').textContent(), 'exit 3');
    assert.match((await row(page, 'crash').locator('td.starts').textContent()) ?? '', /^2 \/ 0$/);
    await waitFor(async () => /^down, restarting in \d+ s, want up, normally up$/.test((await row(page, 'flap').locator('td.state').textContent()) ?? ''), 'flap restarting on the page');
    assert.equal(await row(page, 'flap').getAttribute('class'), 'bad');
    assert.deepEqual(await page.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-name'))), [
      'crash', 'flap', 'held', 'idle', 'web', 'web/log',
    ]);
  });

  test('down pressed: the row goes down without a reload and svstat agrees; up brings it back', async () => {
    await row(page, 'web').locator('button[value="d"]').click();
    const pressed = Date.now();
    await page.waitForSelector('tr[data-name="web"][data-state="down"]', { timeout: 10000 });
    // diagnostic only (the budget is the bench's): how long the page took
    process.stderr.write(`svweb-browser: web down on the page ${Date.now() - pressed} ms after the click\n`);
    assert.match(await svstat(path.join(scan, 'web')), /: down \d+ seconds, normally up\n$/);
    assert.equal(await page.locator('#notice').textContent(), 'web: sent down (svc -d)');
    assert.equal(await row(page, 'web').locator('td.state').textContent(), 'down, normally up');
    await row(page, 'web').locator('button[value="u"]').click();
    await page.waitForSelector('tr[data-name="web"][data-state="up"]', { timeout: 10000 });
    assert.match(await svstat(path.join(scan, 'web')), /: up \(pid \d+\) \d+ seconds\n$/);
  });

  test('the filter box keeps the rows whose name holds what is typed', async () => {
    await page.fill('#filter', 'id');
    assert.deepEqual(await page.locator('tbody tr:not([hidden])').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-name'))), ['idle']);
    await page.fill('#filter', '');
    assert.equal(await page.locator('tbody tr:not([hidden])').count(), 6);
  });

  test('a click on a service shows its log and follows it as lines arrive', async () => {
    await row(page, 'web').locator('td.name a').click();
    await page.waitForSelector('#log:not([hidden])');
    await waitFor(async () => /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} started$/m.test((await page.textContent('#log-lines')) ?? ''), 'the tail');
    assert.equal(await page.textContent('#log-name'), 'web');
    const before = ((await page.textContent('#log-lines')) ?? '').split('\n').filter((l) => l.endsWith(' got hup')).length;
    await run(bin('svc'), ['-h', path.join(scan, 'web')]);
    await waitFor(
      async () => ((await page.textContent('#log-lines')) ?? '').split('\n').filter((l) => l.endsWith(' got hup')).length === before + 1,
      'the new line on the page',
    );
    fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
    const png = await page.screenshot({ path: SCREENSHOT, fullPage: true });
    const { width, height, channels, data } = pngPixels(png);
    assert.ok(width >= 800 && height >= 400, `${width}x${height}`);
    // not blank: many colours, and a fair share of the pixels unlike the background
    const bg = data.subarray(0, channels).toString('hex');
    const colours = new Set<string>();
    let other = 0;
    for (let i = 0; i < data.length; i += channels) {
      const px = data.subarray(i, i + channels).toString('hex');
      colours.add(px);
      if (px !== bg) other++;
    }
    assert.ok(colours.size > 50, `${colours.size} colours`);
    assert.ok(other / (width * height) > 0.02, `${other} pixels unlike the background`);
    await page.click('#log-close');
    assert.equal(await page.locator('#log').isHidden(), true);
  });

  test('svweb restarted: the page reconnects and shows changes made since', async () => {
    web.child.kill('SIGTERM');
    await waitFor(() => web.child.exitCode !== null, 'svweb stopped');
    await page.waitForSelector('#live:text("reconnecting...")');
    await run(bin('svc'), ['-d', path.join(scan, 'idle')]);
    await run(bin('svc'), ['-u', path.join(scan, 'idle')]);
    const again = procs.start(bin('svweb'), ['--listen', `127.0.0.1:${web.port}`, scan]);
    await waitFor(async () => (await page.textContent('#live'))?.startsWith('live'), 'the page connected again', 15000);
    await page.waitForSelector('tr[data-name="idle"][data-state="up"]', { timeout: 10000 });
    // and the buttons work with the new svweb's token
    await row(page, 'idle').locator('button[value="d"]').click();
    await page.waitForSelector('tr[data-name="idle"][data-state="down"]', { timeout: 10000 });
    assert.match(await svstat(path.join(scan, 'idle')), /: down /);
    again.kill('SIGTERM');
  });

  test('the login form: a wrong password refused, the right one shows the page', async () => {
    const file = await passwordFile(path.dirname(scan), 'alice', 'open sesame');
    const locked = await startSvweb(procs, scan, ['--password-file', file]);
    const p = await context!.newPage();
    await p.goto(locked.url + '/');
    assert.equal(new URL(p.url()).pathname, '/login');
    await p.fill('input[name="user"]', 'alice');
    await p.fill('input[name="password"]', 'not it');
    await Promise.all([p.waitForLoadState(), p.click('button')]);
    assert.equal(await p.textContent('p.error'), 'wrong user or password');
    assert.equal(await p.locator('#services').count(), 0);
    await p.fill('input[name="user"]', 'alice');
    await p.fill('input[name="password"]', 'open sesame');
    await Promise.all([p.waitForURL(locked.url + '/'), p.click('button')]);
    await p.waitForSelector('#live:text-matches("^live")');
    assert.equal(await p.locator('tbody tr').count(), 6);
    assert.equal(await p.textContent('header .logout span'), 'alice');
    const cookies = await context!.cookies(locked.url);
    const session = cookies.find((c) => c.name === 'svweb_session');
    assert.ok(session);
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    await p.close();
  });
});

describe('the page with 500 services', () => {
  test('all rows, the filter, and a change shown in its row', async () => {
    const dir = procs.tmpdir('dtn-web-500-');
    for (let i = 1; i <= 500; i++) fs.mkdirSync(path.join(dir, `svc${String(i).padStart(3, '0')}`));
    const now = Math.floor(Date.now() / 1000);
    const fake = new FakeSupervise(path.join(dir, 'svc250'), statusRecord(now, 0, 0, 0x64));
    try {
      const s = await startSvweb(procs, dir);
      const page = await context!.newPage();
      const started = Date.now();
      await page.goto(s.url + '/');
      await page.waitForSelector('#live:text("live: 500 services")');
      process.stderr.write(`svweb-browser: 500 services live on the page ${Date.now() - started} ms after the request\n`);
      assert.equal(await page.locator('tbody tr').count(), 500);
      await page.fill('#filter', 'svc25');
      assert.equal(await page.locator('tbody tr:not([hidden])').count(), 10);
      fake.setStatus(statusRecord(now, 4242, 0, 0x75));
      await page.waitForSelector('tr[data-name="svc250"][data-state="up"]', { timeout: 10000 });
      assert.equal(await page.locator('tr[data-name="svc250"] td.pid').textContent(), '4242');
      // the filter still holds for the row replaced
      assert.equal(await page.locator('tbody tr:not([hidden])').count(), 10);
      await page.close();
    } finally {
      fake.close();
    }
  });
});
