// Browser half of `cargo xtask bench`: opens a share link whose rules put twenty undecidable
// tests ahead of a NodePort (the link that froze the tab before), and reports how long until
// the traced outcome is on screen and the longest main-thread task meanwhile.
// Prints one JSON line: {link_chars, open_ms, longest_task_ms}.
import { launch } from './browser.mjs';
import { linkTo, nodePortTrace } from '../hostile.mjs';

const browser = await launch();
try {
  const page = await browser.newPage();
  await page.addInitScript(() => {
    window.__longest = 0;
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) window.__longest = Math.max(window.__longest, e.duration);
    }).observe({ type: 'longtask', buffered: true });
  });
  const link = linkTo(nodePortTrace(20));
  const t0 = Date.now();
  await page.goto(process.env.BASE_URL + link);
  await page.getByTestId('trace-outcome').waitFor();
  const open = Date.now() - t0;
  const longest = await page.evaluate(() => window.__longest);
  console.log(JSON.stringify({ link_chars: link.length, open_ms: open, longest_task_ms: longest }));
} finally {
  await browser.close();
}
