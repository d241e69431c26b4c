// The browser the benchmarks run in: Debian's Chromium, headless, with nothing of its own
// reaching the network.
import { chromium } from '@playwright/test';

export function launch() {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}
