// Browser half of `cargo xtask bench`: opens the built app in Debian's Chromium and times the
// core's parser (the wasm export `chainlensParse`) on each dump given as an argument.
// Prints one JSON line per dump: {file, bytes, rules, best_ms, wasm_memory_bytes}.
import { launch } from './browser.mjs';
import { readFileSync } from 'node:fs';

const browser = await launch();
try {
  const page = await browser.newPage();
  await page.goto(process.env.BASE_URL);
  await page.getByTestId('summary').waitFor();
  for (const file of process.argv.slice(2)) {
    const text = readFileSync(file, 'utf8');
    const result = await page.evaluate(async (text) => {
      const m = await import('./pkg/chainlens.js');
      const wasm = await m.default();
      let best = Infinity;
      let rules = 0;
      for (let i = 0; i < 3; i++) {
        const t0 = performance.now();
        rules = m.chainlensParse(text);
        best = Math.min(best, performance.now() - t0);
      }
      return { rules, best_ms: best, wasm_memory_bytes: wasm.memory.buffer.byteLength };
    }, text);
    console.log(JSON.stringify({ file, bytes: text.length, ...result }));
  }
} finally {
  await browser.close();
}
