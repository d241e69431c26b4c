// The app's own benchmark, run by `cargo xtask bench`: opens the built app in Debian's
// Chromium and, for each dump given:
// - pastes it and times the summary (the dump's rule count shown) and the whole analysis (no
//   "Analysing" banner, one more frame), recording meanwhile the longest main-thread task
//   (PerformanceObserver "longtask") and the longest gap between two frames;
// - opens the chain graph and times it until its nodes are drawn, with the same two figures;
// - pans the graph (scrolling, 90 frames) and zooms it (Ctrl + wheel, as a trackpad's pinch
//   sends it, 60 frames), and reports each one's frame times;
// - searches for `svc-1` (1,111 Services of the generated dumps, each drawn as a node) and pans
//   and zooms that graph the same way.
// Prints one JSON line per dump: {file, bytes, summary_ms, analysed_ms, load_longest_task_ms,
// load_frame_gap_ms, graph_ms, graph_longest_task_ms, graph_frame_gap_ms, graph_nodes,
// pan_p50_ms, pan_p95_ms, pan_max_ms, zoom_p50_ms, zoom_p95_ms, zoom_max_ms, search_ms,
// search_nodes, search_longest_task_ms, search_pan_p95_ms, search_pan_max_ms,
// search_zoom_p95_ms, search_zoom_max_ms}.
import { launch } from './browser.mjs';
import { readFileSync } from 'node:fs';

/** Runs `work` in the page while watching long tasks and frame gaps; returns its result with
 * `longest_task_ms` and `frame_gap_ms`. */
async function watched(page, work, arg) {
  return page.evaluate(async ({ work, arg }) => {
    const tasks = [];
    const observer = new PerformanceObserver((list) => tasks.push(...list.getEntries().map((e) => e.duration)));
    observer.observe({ type: 'longtask', buffered: false });
    let gap = 0;
    let watching = true;
    let last = performance.now();
    const tick = (now) => {
      gap = Math.max(gap, now - last);
      last = now;
      if (watching) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    // eslint-disable-next-line no-new-func
    const result = await new Function('arg', `return (${work})(arg);`)(arg);
    watching = false;
    await new Promise((r) => setTimeout(r, 200));
    observer.disconnect();
    return { ...result, longest_task_ms: tasks.length ? Math.max(...tasks) : 0, frame_gap_ms: gap };
  }, { work: work.toString(), arg });
}

/** Frame times of `frames` frames, each after `step(i)` ran. */
async function frameTimes(page, step, frames) {
  return page.evaluate(async ({ step, frames }) => {
    const act = new Function('i', `return (${step})(i);`);
    const times = [];
    let last = performance.now();
    for (let i = 0; i < frames; i++) {
      act(i);
      await new Promise((r) => requestAnimationFrame(() => r()));
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    times.sort((a, b) => a - b);
    const at = (q) => times[Math.min(times.length - 1, Math.floor(q * times.length))];
    return { p50: at(0.5), p95: at(0.95), max: times[times.length - 1] };
  }, { step: step.toString(), frames });
}

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
    const load = await watched(page, async (rules) => {
      const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
      const area = document.querySelector('[data-testid="rules-input"]');
      // A paste as the browser delivers it: a paste event carrying the text.
      const t0 = performance.now();
      area.dispatchEvent(new ClipboardEvent('paste', { clipboardData: window.__paste, bubbles: true, cancelable: true }));
      let summary = null;
      for (;;) {
        await frame();
        const busy = document.querySelector('[data-testid="busy"]');
        const shown = document.querySelector('[data-testid="summary"]')?.textContent ?? '';
        if (summary === null && shown.includes(`${rules} rules`)) summary = performance.now() - t0;
        if (!busy && summary !== null) break;
        if (performance.now() - t0 > 120000) throw new Error('no analysis within 120 s');
      }
      await frame();
      return { summary_ms: summary, analysed_ms: performance.now() - t0 };
    }, rules);
    const graph = await watched(page, async () => {
      const t0 = performance.now();
      document.querySelector('[data-testid="nav-graph"]').click();
      for (;;) {
        await new Promise((r) => requestAnimationFrame(() => r()));
        const nodes = document.querySelectorAll('[data-testid="chain-node"]').length;
        if (nodes > 0) return { graph_ms: performance.now() - t0, graph_nodes: nodes };
        if (performance.now() - t0 > 60000) throw new Error('no graph within 60 s');
      }
    });
    await page.waitForTimeout(300);
    const pan = await frameTimes(page, () => {
      const scroller = document.querySelector('.graph-scroll');
      scroller.scrollTop += 40;
      scroller.scrollLeft += 10;
    }, 90);
    const zoom = await frameTimes(page, (i) => {
      const scroller = document.querySelector('.graph-scroll');
      const delta = i < 30 ? 40 : -40;
      scroller.dispatchEvent(new WheelEvent('wheel', { deltaY: delta, ctrlKey: true, bubbles: true, cancelable: true, clientX: 700, clientY: 500 }));
    }, 60);
    // A search naming a thousand Services draws each as a node: pan and zoom over those.
    const searched = await watched(page, async () => {
      const box = document.querySelector('[data-testid="graph-search"]');
      const t0 = performance.now();
      box.value = 'svc-1';
      box.dispatchEvent(new Event('input', { bubbles: true }));
      for (;;) {
        await new Promise((r) => requestAnimationFrame(() => r()));
        const nodes = document.querySelectorAll('[data-testid="chain-node"]').length;
        if (nodes > 100) return { search_ms: performance.now() - t0, search_nodes: nodes };
        if (performance.now() - t0 > 60000) throw new Error('no searched graph within 60 s');
      }
    });
    await page.waitForTimeout(300);
    const searchPan = await frameTimes(page, () => {
      const scroller = document.querySelector('.graph-scroll');
      scroller.scrollTop += 40;
      scroller.scrollLeft += 10;
    }, 90);
    const searchZoom = await frameTimes(page, (i) => {
      const scroller = document.querySelector('.graph-scroll');
      scroller.dispatchEvent(new WheelEvent('wheel', { deltaY: i < 30 ? 40 : -40, ctrlKey: true, bubbles: true, cancelable: true, clientX: 700, clientY: 500 }));
    }, 60);
    console.log(JSON.stringify({
      search_ms: searched.search_ms,
      search_nodes: searched.search_nodes,
      search_longest_task_ms: searched.longest_task_ms,
      search_pan_p50_ms: searchPan.p50,
      search_pan_p95_ms: searchPan.p95,
      search_pan_max_ms: searchPan.max,
      search_zoom_p50_ms: searchZoom.p50,
      search_zoom_p95_ms: searchZoom.p95,
      search_zoom_max_ms: searchZoom.max,
      file,
      bytes: text.length,
      summary_ms: load.summary_ms,
      analysed_ms: load.analysed_ms,
      load_longest_task_ms: load.longest_task_ms,
      load_frame_gap_ms: load.frame_gap_ms,
      graph_ms: graph.graph_ms,
      graph_nodes: graph.graph_nodes,
      graph_longest_task_ms: graph.longest_task_ms,
      graph_frame_gap_ms: graph.frame_gap_ms,
      pan_p50_ms: pan.p50,
      pan_p95_ms: pan.p95,
      pan_max_ms: pan.max,
      zoom_p50_ms: zoom.p50,
      zoom_p95_ms: zoom.p95,
      zoom_max_ms: zoom.max,
    }));
    await page.close();
  }
} finally {
  await browser.close();
}
