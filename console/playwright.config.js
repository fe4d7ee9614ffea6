// Browser tests of the console: Debian's Chromium driven by Playwright's test runner, against a
// local stack of their own (state in .local/browser-tests, so a developer's `make run` on the
// same checkout keeps running), on a free port. CONSOLE_URL=http://127.0.0.1:3000 runs them
// against a stack that is already up instead.
import { defineConfig } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const chromium = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
if (!existsSync(chromium)) {
  throw new Error(`Chromium not found at ${chromium}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
}
// Workers inherit the runner's environment, so the port is chosen once.
if (!process.env.CONSOLE_URL && !process.env.CONSOLE_TEST_PORT) {
  process.env.CONSOLE_TEST_PORT = execFileSync(process.execPath, ['-e', "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"]).toString().trim();
}
const baseURL = process.env.CONSOLE_URL || `http://127.0.0.1:${process.env.CONSOLE_TEST_PORT}`;
// One tenant per run: counts start at zero and nothing of an earlier run shows.
process.env.CONSOLE_TEST_TENANT ||= 'e2e' + Date.now().toString(36);

export default defineConfig({
  testDir: './tests',
  outputDir: './test-results/artifacts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: true,
  timeout: 90_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL,
    viewport: { width: 1280, height: 860 },
    acceptDownloads: true,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: chromium,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    },
  },
  webServer: process.env.CONSOLE_URL
    ? undefined
    : {
        // The stack builds the console itself when its sources changed (as make run does).
        command: 'go build -o .local/devstack ./local/cmd/devstack && exec .local/devstack',
        cwd: root,
        url: `${baseURL}/v1/health`,
        timeout: 400_000,
        reuseExistingServer: false,
        stdout: process.env.CONSOLE_TEST_STACK_LOG ? 'pipe' : 'ignore',
        stderr: 'pipe',
        env: { ...process.env, PORT: process.env.CONSOLE_TEST_PORT, CONTRAIL_STATE_DIR: join(root, '.local', 'browser-tests'), LOG_LEVEL: 'WARN' },
      },
});
