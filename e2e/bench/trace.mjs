// Browser half of the simulator benchmark in `cargo xtask bench`: opens the built app in
// Debian's Chromium and times the wasm export `ChainlensTrace` on one dump, for the target the
// native benchmark chose (the last Service): the dump is parsed once, then `run` builds one
// simulator and traces N packets; the best of 3 runs over N is one trace.
// Usage: node trace.mjs FILE DST DPORT. Prints one JSON line: {outcomes, best_ms, outcomes_per_s}.
import { chromium } from '@playwright/test';
import { readFileSync } from 'node:fs';

const [file, dst, dport] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
try {
  const page = await browser.newPage();
  await page.goto(process.env.BASE_URL);
  await page.getByTestId('summary').waitFor();
  const text = readFileSync(file, 'utf8');
  const result = await page.evaluate(async ({ text, dst, dport }) => {
    const m = await import('./pkg/chainlens.js');
    await m.default();
    const bench = new m.ChainlensTrace(text);
    const n = 50;
    let best = Infinity;
    let outcomes = 0;
    for (let i = 0; i < 3; i++) {
      const t0 = performance.now();
      outcomes = bench.run(dst, dport, n);
      best = Math.min(best, (performance.now() - t0) / n);
    }
    bench.free();
    return { outcomes, best_ms: best, outcomes_per_s: outcomes / (best / 1000) };
  }, { text, dst, dport: Number(dport) });
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
