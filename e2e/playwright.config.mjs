// Playwright against the built bundle, served by `cargo xtask test` at BASE_URL, in Debian's
// Chromium (never a downloaded browser).
import { defineConfig } from '@playwright/test';

export default defineConfig({
  testDir: './tests',
  timeout: 30_000,
  retries: 0,
  workers: 2,
  reporter: [['list'], ['json', { outputFile: process.env.E2E_JSON ?? '../target/e2e-results.json' }]],
  outputDir: '../target/e2e-artifacts',
  use: {
    baseURL: process.env.BASE_URL ?? 'http://127.0.0.1:8080/',
    browserName: 'chromium',
    viewport: { width: 1440, height: 900 },
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
      ],
    },
  },
});
