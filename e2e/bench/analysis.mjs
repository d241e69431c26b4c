// Browser half of the simulator and analysis benchmarks in `cargo xtask bench`: opens the built
// app in Debian's Chromium and times the wasm export `ChainlensBench` on one dump (parsed once):
// `trace` builds one simulator and traces N packets to the target the native benchmark chose
// (the last Service), and `analyze` runs the full Kubernetes analysis. Best of 3 each.
// Usage: node analysis.mjs FILE DST DPORT.
// Prints one JSON line: {outcomes, trace_ms, outcomes_per_s, services, analyze_ms}.
import { launch } from './browser.mjs';
import { readFileSync } from 'node:fs';

const [file, dst, dport] = process.argv.slice(2);
const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(process.env.BASE_URL);
  await page.getByTestId('summary').waitFor();
  const text = readFileSync(file, 'utf8');
  const result = await page.evaluate(async ({ text, dst, dport }) => {
    const m = await import('./pkg/chainlens.js');
    await m.default();
    const bench = new m.ChainlensBench(text);
    const n = 50;
    let trace = Infinity;
    let analyze = Infinity;
    let outcomes = 0;
    let services = 0;
    for (let i = 0; i < 3; i++) {
      let t0 = performance.now();
      outcomes = bench.trace(dst, dport, n);
      trace = Math.min(trace, (performance.now() - t0) / n);
      t0 = performance.now();
      services = bench.analyze();
      analyze = Math.min(analyze, performance.now() - t0);
    }
    bench.free();
    return { outcomes, trace_ms: trace, outcomes_per_s: outcomes / (trace / 1000), services, analyze_ms: analyze };
  }, { text, dst, dport: Number(dport) });
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
}
