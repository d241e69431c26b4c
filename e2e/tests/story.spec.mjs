// The founding story as a new user meets it, from the first finding's buttons alone, and the
// frictions issue 14 found: diagnostics squashed out of sight, repeated warnings, a planner that
// opened on the API server, work lost on reload.
import { test, expect, seed } from '../fixtures.mjs';

for (const [width, height] of [[1440, 900], [800, 1100]]) {
  test(`diagnostics are visible and repeats said once at ${width}×${height}`, async ({ app, page }) => {
    await page.setViewportSize({ width, height });
    await app.open();
    await app.paste(seed('bind-kube-proxy-v1.4.21.iptables-save'));
    for (const view of ['overview', 'graph', 'conntrack']) {
      await app.show(view);
      const box = await app.diagnostics.boundingBox();
      // Squashed by the flex layout it was 2 px high on the Overview.
      expect(box?.height ?? 0, view).toBeGreaterThan(30);
      await expect(app.diagnostics).toBeInViewport();
    }
    // Six `x.x.x.x/32` placeholders are one entry naming all their lines.
    const placeholder = app.diagnostics.locator('li[data-code="placeholder-address"]');
    await expect(placeholder).toHaveCount(1);
    await expect(placeholder).toHaveAttribute('data-times', '6');
    await expect(placeholder).toContainText('6×');
    await expect(placeholder.locator('.also .line')).toHaveCount(5);
  });
}

test('the founding story from the first finding: plan, trace, compare with the fix', async ({ app, page }) => {
  await app.open();
  await app.paste(seed('bind-kube-proxy-v1.4.21.iptables-save'));
  const first = page.getByTestId('finding').first();
  await expect(first).toHaveAttribute('data-code', 'external-masquerade');

  // Plan: the planner opens on the finding's Service and address, already run.
  await first.getByTestId('finding-plan').click();
  await expect(page.getByTestId('conntrack-target')).toHaveValue('10.5.6.29:53/udp');
  await expect(page.getByTestId('conntrack-summary')).toHaveAttribute('data-saturated', 'true');
  await expect(page.getByTestId('conntrack-summary')).not.toContainText('10.24.0.1');
  // The chart is plotters' (drawn in the worker, which has no DOM to measure text with): axis
  // titles with units, a legend naming the pool against its own ceiling.
  const chart = page.getByTestId('conntrack-chart');
  for (const words of ['time (s)', 'conntrack entries', 'refused new flows/s', 'pool node → 10.100.13.3:53 (ceiling 64512)', 'first refusal']) {
    await expect(chart).toContainText(words);
  }
  const box = await chart.locator('svg').boundingBox();
  const panel = await page.locator('.result-pane').boundingBox();
  // It fills its panel rather than sitting at a fixed 720 px.
  expect(box.width).toBeGreaterThan(Math.min(panel.width - 80, 1000));
  // Hovering reads every series out at the pointer: at 60 s the pool is full.
  await chart.hover({ position: { x: box.width / 2, y: box.height / 2 } });
  const readout = page.getByTestId('chart-readout');
  await expect(readout).toBeVisible();
  await expect(readout).toContainText(/\d+ s/);
  await expect(readout).toContainText('all entries: 64512');
  await expect(readout).toContainText('pool node → 10.100.13.3:53: 64512');

  // Trace: already traced; the result says first what happened.
  await app.show('overview');
  await page.getByTestId('finding').first().getByTestId('finding-trace').click();
  const outcome = page.getByTestId('trace-outcome').first();
  await expect(outcome).toHaveAttribute('data-dnat', '10.100.13.3:53');
  await expect(outcome.locator('h3')).toContainText('accepted, DNAT to 10.100.13.3:53, source rewritten to the node');
  await expect(outcome.locator('h3')).not.toContainText('ends as 203.0.113.77');

  // Compare: the packet is filled in; the hand-written rules show the fix working.
  await app.show('overview');
  await page.getByTestId('finding').first().getByTestId('finding-compare').click();
  await expect(page.getByPlaceholder('address')).toHaveValue('10.5.6.29');
  // The fix is one of the examples: picked, not pasted.
  await page.getByTestId('compare-example').selectOption('bind-manual-dnat-v1.4.21.iptables-save');
  await expect(page.getByTestId('compare-input')).toHaveValue(seed('bind-manual-dnat-v1.4.21.iptables-save'));
  await expect(page.getByTestId('compare-a')).toContainText('DNAT to 10.100.13.3:53, source rewritten');
  await expect(page.getByTestId('compare-b')).toContainText('accepted, DNAT to 10.100.13.3:53');
  await expect(page.getByTestId('compare-b')).not.toContainText('source rewritten');
});

test('a reload keeps the paste and the view; the address bar holds the link', async ({ app, page }) => {
  await app.open();
  const text = seed('kind-v1.23-iptables-v1.8.4.iptables-save');
  await app.paste(text);
  // The link of the paste is in the address bar a moment later, and changes with each choice.
  await expect.poll(() => page.evaluate(() => location.hash.length)).toBeGreaterThan(10);
  const before = await page.evaluate(() => location.hash);
  await app.show('services');
  await expect.poll(() => page.evaluate(() => location.hash)).not.toBe(before);
  await page.reload();
  await expect(app.input).toHaveValue(text);
  await expect(page.getByTestId('nav-services')).toHaveAttribute('aria-pressed', 'true');
});

test('the paste box has line numbers and marks the lines diagnostics name', async ({ app, page }) => {
  await app.open();
  await app.paste(seed('bind-kube-proxy-v1.4.21.iptables-save'));
  const gutter = page.getByTestId('gutter');
  const lines = (await app.input.inputValue()).split('\n').length;
  await expect(gutter.locator('.numbers')).toContainText(`\n${lines}\n`);
  // Six placeholder warnings: six marks, one on each of their lines.
  await expect(gutter.locator('.mark.warning')).toHaveCount(6);
  await expect(gutter.locator('.mark.warning[data-line="39"]')).toHaveCount(1);
  // The gutter scrolls with the text.
  await app.input.evaluate((el) => { el.scrollTop = 200; el.dispatchEvent(new Event('scroll')); });
  await expect.poll(() => gutter.evaluate((g) => g.scrollTop)).toBe(await app.input.evaluate((el) => el.scrollTop));
});

test('pasted conntrack -L lines are shown as SNAT pool occupancy', async ({ app, page }) => {
  await app.open();
  await app.paste(seed('tutorial-nodeport-conntrack.txt'));
  const section = page.getByTestId('conntrack-occupancy');
  await expect(section).toBeVisible();
  await expect(section).toContainText('Pasted conntrack entries');
  await expect(section.getByTestId('occupancy-pool').first()).toContainText('of 64512 ports');
});

test('the packet-path view shows the hooks in order, each table, the draws and NAT where it happens', async ({ app, page }) => {
  await app.open();
  await app.paste(seed('bind-kube-proxy-v1.4.21.iptables-save'));
  await page.getByTestId('finding').first().getByTestId('finding-trace').click();
  const outcome = page.getByTestId('trace-outcome').first();
  const hops = outcome.getByTestId('packet-path').getByTestId('hop');
  // From outside to the externalIP: routed through the node, to the pod behind docker0.
  await expect(hops).toHaveCount(3);
  const order = await hops.evaluateAll((els) => els.map((e) => e.dataset.hook));
  expect(order).toEqual(['PREROUTING', 'FORWARD', 'POSTROUTING']);
  // DNAT in nat PREROUTING, the masquerade in nat POSTROUTING: each where the kernel does it.
  await expect(hops.nth(0).locator('.pass[data-table="nat"]').getByTestId('hop-nat')).toContainText('DNAT: destination becomes 10.100.13.3:53');
  await expect(hops.nth(2).locator('.pass[data-table="nat"]').getByTestId('hop-nat')).toContainText('MASQUERADE');
  await expect(hops.nth(1).locator('.pass[data-table="filter"]')).toBeVisible();
  // The chains say whose they are: the Service's chain carries its name.
  await expect(hops.nth(0).locator('.chip', { hasText: 'KUBE-SVC-' })).toContainText('ares-k29-bindapp');

  // A Service with two endpoints: each way is a random draw of one half.
  await app.paste(seed('kind-v1.23-iptables-v1.8.4.iptables-save'));
  await app.show('trace');
  await page.getByTestId('trace-from').selectOption('pod');
  await page.getByTestId('trace-source').fill('10.244.1.5');
  await page.getByTestId('trace-destination').fill('10.96.0.10');
  await page.getByTestId('trace-protocol').fill('udp');
  await page.getByTestId('trace-port').fill('53');
  await page.getByTestId('trace-submit').click();
  const draws = page.getByTestId('trace-outcome').getByTestId('hop-draw');
  await expect(draws).toHaveCount(2);
  for (const d of await draws.all()) {
    expect(Number(await d.getAttribute('data-share'))).toBeCloseTo(0.5, 9);
    await expect(d).toContainText('50.0000% by a random draw');
  }
});

test('charts are drawn again at their panel\'s width when the window is resized', async ({ app, page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await app.open();
  await app.paste(seed('bind-kube-proxy-v1.4.21.iptables-save'));
  await page.getByTestId('finding').first().getByTestId('finding-plan').click();
  const svg = page.getByTestId('conntrack-chart').locator('svg');
  await expect(svg).toBeVisible();
  const wide = Number(await svg.getAttribute('width'));
  const pane = await page.locator('.result-pane').boundingBox();
  // Drawn for the pane (not at a fixed 760 and scaled).
  expect(wide).toBeGreaterThan(pane.width - 120);
  expect(wide).toBeLessThanOrEqual(pane.width);
  await page.setViewportSize({ width: 640, height: 900 });
  await expect.poll(async () => Number(await svg.getAttribute('width'))).toBeLessThan(wide - 100);
  const narrow = await page.locator('.result-pane').boundingBox();
  expect(Number(await svg.getAttribute('width'))).toBeLessThanOrEqual(Math.max(narrow.width, 480));
  // The cascade follows as well.
  await app.show('cascade');
  const bars = page.getByTestId('cascade-chart').first().locator('svg');
  await expect(bars).toBeVisible();
  expect(Number(await bars.getAttribute('width'))).toBeLessThanOrEqual(Math.max(narrow.width, 480));
});
