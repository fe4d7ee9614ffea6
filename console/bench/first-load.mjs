// The console's first load and time to a drawn overview, measured in Debian's Chromium through
// the browser's Performance API, on the bench's smoke data set (make bench-console):
//   1. starts a local stack of its own (state in .local/bench-console, a free port),
//   2. copies the smoke data set (the archive the bench generated) into its archive bucket,
//   3. loads /console/ cold RUNS times: JS+CSS bytes (as sent, and gzipped as CloudFront sends
//      them), first contentful paint, load;
//   4. signs in as an admin of the busiest tenant straight into the overview of the data set's
//      40 days (Asia/Jakarta) and takes the time from the click on "Sign in" to the overview
//      drawn (totals and the daily chart), RUNS times.
// Prints medians. Times are this machine's: compare them as ratios in one run.
import { chromium } from '@playwright/test';
import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, existsSync, rmSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const RUNS = Number(process.env.RUNS || 5);
const chromiumPath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const data = process.argv[2];
if (!data || !existsSync(join(data, 'manifest.json'))) {
  console.error('usage: node console/bench/first-load.mjs <bench data set folder> (make bench-console finds it)');
  process.exit(2);
}

const port = await new Promise((res) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
const base = `http://127.0.0.1:${port}`;
const state = join(root, '.local', 'bench-console');
rmSync(state, { recursive: true, force: true });
execFileSync('go', ['build', '-o', '.local/devstack', './local/cmd/devstack'], { cwd: root, stdio: 'inherit' });
let banner = '';
const stack = spawn(join(root, '.local', 'devstack'), [], {
  cwd: root, env: { ...process.env, PORT: String(port), CONTRAIL_STATE_DIR: state, LOG_LEVEL: 'WARN' }, stdio: ['ignore', 'pipe', 'pipe'],
});
stack.stdout.on('data', (b) => { banner += b; });
stack.stderr.on('data', () => {});
const stop = () => { try { stack.kill('SIGTERM'); } catch {} };
process.on('exit', stop);

try {
  for (let i = 0; ; i++) {
    if (i > 600) throw new Error('the local stack did not start in 10 minutes');
    if (banner.includes('Ctrl-C stops everything')) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const s3 = /S3\s+(http:\/\/\S+)/.exec(banner)?.[1];
  const bucket = /Bucket\s+(.*)/.exec(banner)?.[1].split(', ').find((b) => b.endsWith('-archive'));
  if (!s3 || !bucket) throw new Error('could not read the S3 endpoint and archive bucket from the banner:\n' + banner);
  execFileSync('go', ['run', './local/cmd/seedarchive', '-from', data, '-s3', s3, '-bucket', bucket], { cwd: root, stdio: 'inherit' });

  const browser = await chromium.launch({
    executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const loads = [];
  for (let i = 0; i < RUNS; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await ctx.newPage();
    await page.goto(base + '/console/', { waitUntil: 'load' });
    await page.getByRole('heading', { name: 'Sign in to Contrail' }).waitFor();
    loads.push(await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const fcp = performance.getEntriesByType('paint').find((p) => p.name === 'first-contentful-paint');
      const res = performance.getEntriesByType('resource').filter((r) => /\.(js|css)$/.test(new URL(r.name).pathname));
      return { fcp: fcp?.startTime, load: nav.loadEventEnd, files: res.map((r) => new URL(r.name).pathname), bytes: res.reduce((n, r) => n + r.encodedBodySize, 0) };
    }));
    await ctx.close();
  }
  // The same files gzipped, as CloudFront sends them (Compress: true).
  const gz = loads[0].files.reduce((n, f) => n + gzipSync(readFileSync(join(root, 'functions', 'console', 'assets', f.replace(/^\/console\//, '')))).length, 0);

  const period = { from: '2026-10-22', to: '2026-12-01', tz: 'Asia/Jakarta' };
  const next = '/reports/contact?' + new URLSearchParams(period);
  const drawn = [];
  for (let i = 0; i < RUNS; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const page = await ctx.newPage();
    await page.goto(base + '/console/signin?' + new URLSearchParams({ next }), { waitUntil: 'load' });
    await page.getByLabel('Tenant').fill('busy');
    await page.getByRole('radio', { name: /^admin/i }).check();
    await page.getByLabel('Display name').fill('Bench Admin');
    await page.evaluate(() => performance.mark('contrail-sign-in'));
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('ul.totals [data-total=added] .total-n').waitFor();
    await page.locator('svg.daily').waitFor();
    const { ms, api } = await page.evaluate(() => ({
      ms: performance.now() - performance.getEntriesByName('contrail-sign-in')[0].startTime,
      api: performance.getEntriesByType('resource').filter((r) => r.name.includes('/v1/reports/contacts/overview')).reduce((n, r) => n + r.duration, 0),
    }));
    const added = await page.locator('ul.totals [data-total=added] .total-n').textContent();
    drawn.push({ ms, api, added });
    await ctx.close();
  }
  // The number drawn is the API's: read the same overview directly and compare.
  const tok = (await (await fetch(base + '/local/dev-token', { method: 'POST', body: JSON.stringify({ tenant: 'busy', role: 'admin' }) })).json()).token;
  const ov = await (await fetch(base + '/v1/reports/contacts/overview?' + new URLSearchParams(period), { headers: { Authorization: 'Bearer ' + tok } })).json();
  for (const d of drawn) {
    if (Number(d.added.replace(/\D/g, '')) !== ov.totals.added) throw new Error(`the console drew ${d.added} added; the API says ${ov.totals.added}`);
  }
  const version = browser.version();
  await browser.close();

  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
  const kb = (n) => (n / 1024).toFixed(1) + ' KB';
  console.log(`\nconsole first load (${RUNS} cold loads, Chromium ${version}, median):`);
  console.log(`  JS + CSS of the first screen   ${loads[0].files.length} files, ${kb(loads[0].bytes)} as sent locally, ${kb(gz)} gzipped (budget 150 KB)`);
  console.log(`  first contentful paint         ${median(loads.map((l) => l.fcp)).toFixed(0)} ms`);
  console.log(`  load event                     ${median(loads.map((l) => l.load)).toFixed(0)} ms`);
  console.log(`  sign-in to a drawn overview    ${median(drawn.map((d) => d.ms)).toFixed(0)} ms (tenant busy, ${period.from} – 2026-11-30, ${period.tz}; ${drawn[0].added} added)`);
  console.log(`    of which the overview request ${median(drawn.map((d) => d.api)).toFixed(0)} ms (the API on the local stack)`);
  if (gz > 150 * 1024) { console.error('over the 150 KB budget'); process.exitCode = 1; }
} finally {
  stop();
}
