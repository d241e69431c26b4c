// Share links, embeds and exports: a link reopens exactly what was shown in a fresh browser,
// bad links fail with a message and an empty working app, an embed fits a 600×400 frame, and
// the exports parse with real parsers (the browser's XML parser, mermaid's own).
import { test, expect, seed } from '../fixtures.mjs';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { deflateRawSync } from 'node:zlib';
import { join } from 'node:path';

const base = () => process.env.BASE_URL.replace(/\/?$/, '/');

/** A fresh browser context with the same guards as the `app` fixture. */
async function freshPage(browser) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  await page.route('**/*', (route) => {
    const url = new URL(route.request().url());
    if (url.hostname === '127.0.0.1' || url.protocol === 'data:' || url.protocol === 'blob:') return route.continue();
    problems.push(url.href);
    return route.abort();
  });
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(msg.text()); });
  page.on('pageerror', (err) => problems.push(String(err)));
  return { context, page, problems };
}

test('a link reopens the same view, Service, trace and summary in a fresh browser', async ({ app, page, browser }) => {
  await app.open();
  await app.paste(seed('bind-kube-proxy-v1.4.21.iptables-save'));
  await app.show('services');
  await page.locator('[data-testid="service-row"][data-service="default/ares-k29-bindapp:dns-udp-53"] button').click();
  await app.show('trace');
  await page.getByRole('button', { name: /from outside → external IP 10\.5\.6\.29:53/ }).click();
  await expect(page.getByTestId('trace-outcome')).toHaveAttribute('data-dnat', '10.100.13.3:53');
  const summary = await app.summary.innerText();
  await page.getByTestId('share-open').click();
  await expect(page.getByTestId('share-link')).toHaveValue(/#s=/);
  const link = await page.getByTestId('share-link').inputValue();
  expect(link.startsWith(base())).toBe(true);
  // No rule text in readable form.
  for (const word of ['KUBE-', '10.5.6.29', 'MASQUERADE', 'ares-k29']) expect(link).not.toContain(word);

  const { context, page: other, problems } = await freshPage(browser);
  await other.goto(link);
  await expect(other.getByTestId('nav-trace')).toHaveAttribute('aria-pressed', 'true');
  await expect(other.getByTestId('service-picker')).toHaveValue('default/ares-k29-bindapp:dns-udp-53');
  const outcome = other.getByTestId('trace-outcome');
  await expect(outcome).toHaveAttribute('data-dnat', '10.100.13.3:53');
  await expect(outcome).toHaveAttribute('data-snat', 'masqueraded');
  await expect(outcome).toHaveAttribute('data-probability', '1');
  expect(await other.getByTestId('summary').innerText()).toBe(summary);
  expect(problems).toEqual([]);
  await context.close();
});

test('an embed shows one view, no input or navigation, and fits a 600×400 frame', async ({ app, page }) => {
  await app.open();
  await page.getByTestId('share-open').click();
  await expect(page.getByTestId('embed-snippet')).toHaveValue(/^<iframe/);
  const snippet = await page.getByTestId('embed-snippet').inputValue();
  expect(snippet).toMatch(/^<iframe src="[^"]+#s=1\.[^"]+&embed=graph" width="600" height="400"/);
  const src = snippet.match(/src="([^"]+)"/)[1];
  await page.setContent(`<!doctype html><body style="margin:0">${snippet}</body>`);
  const frame = page.frameLocator('iframe');
  await expect(frame.getByTestId('embed')).toHaveAttribute('data-view', 'graph');
  await expect(frame.getByTestId('chain-graph')).toBeVisible();
  await expect(frame.getByTestId('rules-input')).toHaveCount(0);
  await expect(frame.locator('nav.views')).toHaveCount(0);
  await expect(frame.getByTestId('open-in-chainlens')).toBeVisible();
  const size = await page.frames().find((f) => f.url() === src).evaluate(() => ({
    w: document.documentElement.scrollWidth, h: document.documentElement.scrollHeight }));
  expect(size.w).toBeLessThanOrEqual(600);
  expect(size.h).toBeLessThanOrEqual(400);
});

test('bad links show what is wrong and an empty, working app', async ({ app, page }) => {
  await app.open();
  await page.getByTestId('share-open').click();
  await expect(page.getByTestId('share-link')).toHaveValue(/#s=/);
  const good = (await page.getByTestId('share-link').inputValue()).split('#s=')[1];
  const b64 = (buf) => buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const cases = {
    truncated: ['s=' + good.slice(0, Math.floor(good.length / 2)), 'damaged or cut off'],
    corrupted: ['s=1.' + '!' + good.slice(3), 'damaged or cut off'],
    'unknown version': ['s=9.' + good.slice(2), 'link format `9`'],
    '1 MB long': ['s=1.' + 'A'.repeat(1 << 20), 'links over 512 KB are refused'],
    'a decompression bomb': ['s=1.' + b64(deflateRawSync(Buffer.alloc(40 << 20, 32), { level: 9 })), 'more than 32 MB'],
    'not an analysis': ['s=1.' + b64(deflateRawSync(Buffer.from('[1,2,3]'))), 'does not hold a chainlens analysis'],
  };
  for (const [what, [fragment, message]] of Object.entries(cases)) {
    // Each link opened as a new page load (from the same page a fragment change would be a
    // same-document navigation, which the app answers with a reload of its own).
    await page.goto('about:blank');
    await page.goto(`${base()}#${fragment}`);
    await expect(page.getByTestId('link-error'), what).toContainText(message);
    await expect(app.input, what).toHaveValue('');
    await app.paste(seed('kind-v1.23-iptables-v1.8.4.iptables-save'));
    expect(await app.tableCounts('nat'), what).toEqual({ chains: 29, rules: 58 });
  }
});

test('a long link is flagged and the analysis can be downloaded and reopened instead', async ({ app, page }) => {
  await app.open();
  const rules = Array.from({ length: 1500 }, (_, i) =>
    `-A KUBE-SERVICES -d 10.${(i * 7919) % 251}.${(i * 104729) % 253}.${i % 255}/32 -p tcp -m tcp --dport ${1000 + ((i * 31337) % 60000)} -j ACCEPT`);
  await app.paste(['*nat', ':KUBE-SERVICES - [0:0]', ...rules, 'COMMIT', ''].join('\n'));
  await page.getByTestId('share-open').click();
  // The link is built after the analysis: wait for it, do not read the length before.
  await expect(page.getByTestId('share-too-long')).toBeVisible();
  await expect
    .poll(async () => Number(await page.getByTestId('share-length').textContent()))
    .toBeGreaterThan(8192);
  const download = page.waitForEvent('download');
  await page.getByTestId('share-download').click();
  const file = await (await download).path();
  const saved = readFileSync(file, 'utf8');
  expect(JSON.parse(saved).chainlens).toBe(1);
  // The file opens again through the file picker.
  await app.paste('');
  await page.getByTestId('file-input').setInputFiles(file);
  await expect(page.getByTestId('busy')).toHaveCount(0);
  await expect.poll(() => app.tableCounts('nat')).not.toBeNull();
});

test('the graph exports as well-formed SVG and as Mermaid that mermaid parses', async ({ app, page }) => {
  await app.open();
  await app.show('graph');
  await page.getByTestId('share-open').click();
  let download = page.waitForEvent('download');
  await page.getByTestId('export-svg').click();
  const svg = readFileSync(await (await download).path(), 'utf8');
  const xml = await page.evaluate((text) => {
    const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
    return { error: doc.getElementsByTagName('parsererror').length, root: doc.documentElement.nodeName,
      nodes: doc.querySelectorAll('text').length };
  }, svg);
  expect(xml).toEqual(expect.objectContaining({ error: 0, root: 'svg' }));
  expect(xml.nodes).toBeGreaterThanOrEqual(29);
  download = page.waitForEvent('download');
  await page.getByTestId('export-mermaid').click();
  const mermaidText = readFileSync(await (await download).path(), 'utf8');
  download = page.waitForEvent('download');
  await page.getByTestId('export-png').click();
  const png = readFileSync(await (await download).path());
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  // Mermaid's own parser, in a blank page (the app's Content-Security-Policy forbids it there).
  await page.goto('about:blank');
  await page.addScriptTag({ path: join('node_modules', 'mermaid', 'dist', 'mermaid.min.js') });
  const parsed = await page.evaluate(async (text) => {
    try {
      return { ok: !!(await window.mermaid.parse(text)) };
    } catch (e) {
      return { ok: false, error: String(e) };
    }
  }, mermaidText);
  expect(parsed).toEqual({ ok: true });
});

test('the CLI\'s share link opens in the app to the same analysis', async ({ app, page }) => {
  const file = join(process.env.CHAINLENS_SHARED ?? '../shared', 'fixtures', 'seeds', 'kind-v1.23-iptables-v1.8.4.iptables-save');
  // `cargo xtask test` builds the CLI first and says where; run by hand, cargo builds it.
  const args = ['share', file, '--base', base(), '--view', 'services'];
  const link = (process.env.CHAINLENS_CLI
    ? execFileSync(process.env.CHAINLENS_CLI, args, { encoding: 'utf8' })
    : execFileSync('cargo', ['run', '--quiet', '-p', 'chainlens', '--', ...args], { encoding: 'utf8' })).trim();
  await page.goto(link);
  await expect(page.getByTestId('nav-services')).toHaveAttribute('aria-pressed', 'true');
  await expect(page.locator('[data-testid="service-row"][data-service="kube-system/kube-dns:dns"]')).toBeVisible();
  expect(await app.tableCounts('nat')).toEqual({ chains: 29, rules: 58 });
});

test('a link pasted into the address bar of an open app opens', async ({ app, page }) => {
  await app.open();
  await page.getByTestId('share-open').click();
  await expect(page.getByTestId('share-link')).toHaveValue(/#s=/);
  const link = await page.getByTestId('share-link').inputValue();
  await app.paste(seed('bind-manual-dnat-v1.4.21.iptables-save'));
  expect(await app.tableCounts('nat')).toEqual({ chains: 16, rules: 3 });
  // The address bar follows the new paste a moment later; until then it still holds the
  // first link, and setting the same fragment again would change nothing.
  await expect.poll(() => page.evaluate(() => location.hash)).not.toBe(`#${link.split('#')[1]}`);
  // Only the fragment changes: no page load, a hashchange the app answers by reopening.
  await page.evaluate((hash) => { window.location.hash = hash; }, link.split('#')[1]);
  await expect.poll(() => app.tableCounts('nat')).toEqual({ chains: 29, rules: 58 });
});

for (const view of ['graph', 'cascade', 'conntrack', 'trace']) {
  test(`a ${view} embed at 600×400 is its figure and caption, with no form`, async ({ app, page }) => {
    await app.open();
    await app.paste(seed('bind-kube-proxy-v1.4.21.iptables-save'));
    // The packet and the plan of the first finding, so each figure has something to show.
    await page.getByTestId('finding').first().getByTestId('finding-plan').click();
    await app.show('overview');
    await page.getByTestId('finding').first().getByTestId('finding-trace').click();
    await expect(page.getByTestId('trace-outcome').first()).toBeVisible();
    await page.getByTestId('share-open').click();
    await page.getByTestId('embed-view').selectOption(view);
    await expect(page.getByTestId('embed-snippet')).toHaveValue(new RegExp(`embed=${view}"`));
    const snippet = await page.getByTestId('embed-snippet').inputValue();
    await page.setContent(`<!doctype html><body style="margin:0">${snippet}</body>`);
    const frame = page.frameLocator('iframe');
    await expect(frame.getByTestId('embed-caption')).toContainText('chainlens ·');
    const figure = {
      graph: 'chain-graph',
      cascade: 'cascade-chart',
      conntrack: 'conntrack-chart',
      trace: 'trace-outcome',
    }[view];
    await expect(frame.getByTestId(figure).first()).toBeVisible();
    // Read-only: no input of any kind is visible.
    const inputs = frame.locator('input:visible, select:visible, textarea:visible');
    await expect(inputs).toHaveCount(0);
  });
}
