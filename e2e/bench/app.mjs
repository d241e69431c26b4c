// The app's own benchmark, run by `cargo xtask bench`: opens the built app in Debian's
// Chromium and, for each dump given, times a paste until the page has rendered its analysis
// (summary with the dump's rule count, no "Analysing" banner, one more frame), records the
// longest main-thread task meanwhile (PerformanceObserver "longtask"), then scrolls the chain
// graph for 90 frames and reports the frame times.
// Prints one JSON line per dump: {file, bytes, render_ms, longest_task_ms, frame_p50_ms,
// frame_p95_ms, frame_max_ms, graph_nodes}.
import { launch } from './browser.mjs';
import { readFileSync } from 'node:fs';

const browser = await launch();
try {
  for (const file of process.argv.slice(2)) {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(process.env.BASE_URL);
    await page.getByTestId('summary').waitFor();
    const text = readFileSync(file, 'utf8');
    const rules = (text.match(/^-A /gm) || []).length;
    // Hand the text over first: a 16 MB argument costs the page a long task of its own, which
    // is the harness's, not the app's.
    await page.evaluate((text) => {
      window.__paste = new DataTransfer();
      window.__paste.setData('text/plain', text);
    }, text);
    await page.waitForTimeout(300);
    const timing = await page.evaluate(async ({ rules }) => {
      const tasks = [];
      const observer = new PerformanceObserver((list) => tasks.push(...list.getEntries().map((e) => e.duration)));
      observer.observe({ type: 'longtask', buffered: false });
      const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
      const area = document.querySelector('[data-testid="rules-input"]');
      // A paste as the browser delivers it: a paste event carrying the text.
      const t0 = performance.now();
      area.dispatchEvent(new ClipboardEvent('paste', { clipboardData: window.__paste, bubbles: true, cancelable: true }));
      for (;;) {
        await frame();
        const busy = document.querySelector('[data-testid="busy"]');
        const summary = document.querySelector('[data-testid="summary"]')?.textContent ?? '';
        if (!busy && summary.includes(`${rules} rules`)) break;
        if (performance.now() - t0 > 120000) throw new Error('no render within 120 s');
      }
      await frame();
      const render = performance.now() - t0;
      await new Promise((r) => setTimeout(r, 200));
      observer.disconnect();
      return { render_ms: render, longest_task_ms: tasks.length ? Math.max(...tasks) : 0 };
    }, { rules });
    await page.getByTestId('nav-graph').click();
    await page.getByTestId('chain-graph').waitFor();
    const pan = await page.evaluate(async () => {
      const scroller = document.querySelector('.graph-scroll');
      const nodes = document.querySelectorAll('[data-testid="chain-node"]').length;
      const times = [];
      let last = performance.now();
      for (let i = 0; i < 90; i++) {
        scroller.scrollTop += 40;
        scroller.scrollLeft += 10;
        await new Promise((r) => requestAnimationFrame(() => r()));
        const now = performance.now();
        times.push(now - last);
        last = now;
      }
      times.sort((a, b) => a - b);
      const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
      return { frame_p50_ms: at(0.5), frame_p95_ms: at(0.95), frame_max_ms: times[times.length - 1], graph_nodes: nodes };
    });
    console.log(JSON.stringify({ file, bytes: text.length, ...timing, ...pan }));
    await page.close();
  }
} finally {
  await browser.close();
}
