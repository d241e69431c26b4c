// The chain graph read as people read it: nodes in Kubernetes words, fitted to the panel with
// the traced path in view, reachable by keyboard, and a chain's rules one click away.
import { test, expect, seed } from '../fixtures.mjs';

test('graph nodes carry Service names and endpoint addresses, not only hashes', async ({ app }) => {
  await app.open();
  await app.paste(seed('kind-v1.23-iptables-v1.8.4.iptables-save'));
  await app.show('graph');
  await expect(app.node('KUBE-SVC-TCOU7JCQXEZGVUNU')).toHaveAttribute('data-words', 'kube-system/kube-dns:dns');
  await expect(app.node('KUBE-SVC-TCOU7JCQXEZGVUNU').locator('text.words')).toHaveText('kube-system/kube-dns:dns');
  const endpoints = app.graph.locator('[data-testid="chain-node"][data-words^="→ 10.244."]');
  expect(await endpoints.count()).toBeGreaterThan(2);
});

test('after fit the traced path is inside the viewport', async ({ app, page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await app.open();
  await app.paste(seed('bind-kube-proxy-v1.4.21.iptables-save'));
  await page.getByTestId('finding').first().getByTestId('finding-trace').click();
  await expect(page.getByTestId('trace-outcome').first()).toBeVisible();
  await app.show('graph');
  // KUBE-MARK-MASQ sat off-screen at zoom 1, even on the highlighted path.
  const masq = app.node('KUBE-MARK-MASQ');
  await expect(masq).toHaveClass(/on-path/);
  await page.getByTestId('graph-fit').click();
  await expect(masq).toBeInViewport();
  for (const chain of ['PREROUTING', 'KUBE-SERVICES', 'KUBE-POSTROUTING']) {
    await expect(app.node(chain)).toBeInViewport();
  }
});

test('the keyboard reaches a chain node, moves with arrows and opens its rules', async ({ app, page }) => {
  await app.open();
  await app.paste(seed('kind-v1.23-iptables-v1.8.4.iptables-save'));
  await app.show('graph');
  const first = app.node('PREROUTING');
  await first.focus();
  await expect(first).toBeFocused();
  await page.keyboard.press('ArrowRight');
  const focused = page.locator('[data-testid="chain-node"]:focus');
  await expect(focused).toHaveCount(1);
  const chain = await focused.getAttribute('data-chain');
  expect(chain).not.toBe('PREROUTING');
  await page.keyboard.press('Enter');
  const panel = page.getByTestId('chain-panel');
  await expect(panel).toBeVisible();
  await expect(page.getByTestId('chain-panel-name')).toHaveText(chain);
  await expect(panel.getByTestId('chain-panel-rule').first()).toContainText(`-A ${chain}`);
  // Each rule selects its line in the paste.
  await panel.getByTestId('chain-panel-rule').first().locator('button').click();
  const selected = await app.input.evaluate((el) => el.value.slice(el.selectionStart, el.selectionEnd));
  expect(selected).toContain(`-A ${chain}`);
  await page.getByRole('button', { name: 'close' }).click();
  await expect(panel).toHaveCount(0);
});

test('on a narrow screen the graph panel stays inside the page and the graph fits it', async ({ app, page }) => {
  await page.setViewportSize({ width: 800, height: 1100 });
  await app.open();
  await app.paste(seed('kind-v1.23-iptables-v1.8.4.iptables-save'));
  await app.show('graph');
  await expect(app.node('KUBE-MARK-MASQ')).toBeInViewport();
  const panel = await page.locator('.graph-scroll').boundingBox();
  expect(panel.x + panel.width).toBeLessThanOrEqual(800);
});

test('search lights its matches on a small graph and brings them into view', async ({ app, page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await app.open();
  await app.paste(seed('kind-v1.23-iptables-v1.8.4.iptables-save'));
  await app.show('graph');
  await page.getByTestId('graph-search').fill('kube-dns:metrics');
  const svc = app.node('KUBE-SVC-JD5MR3NA4I4DYORP');
  await expect(svc).toHaveClass(/match/);
  await expect(svc).toBeInViewport();
  await expect(app.graph.locator('[data-testid="chain-node"].match')).toHaveCount(1);
});

test('the first screen names the example and offers the founding story', async ({ app, page }) => {
  await app.open();
  await expect(page.getByTestId('example-note')).toContainText('Example loaded: kind-v1.23');
  await page.getByTestId('founding-story').click();
  await expect(page.getByTestId('example-note')).toContainText('bind-kube-proxy-v1.4.21');
  await expect(page.getByTestId('finding').first()).toHaveAttribute('data-code', 'external-masquerade');
});

test('unfolding thousands of Services draws one neighbourhood, says so, and a search moves it', async ({ app, page }) => {
  await app.open();
  const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]', ':KUBE-MARK-MASQ - [0:0]'];
  const rules = ['-A PREROUTING -j KUBE-SERVICES', '-A KUBE-MARK-MASQ -j MARK --set-xmark 0x4000/0x4000'];
  for (let i = 0; i < 1000; i++) {
    const h = String(i).padStart(16, '0');
    lines.push(`:KUBE-SVC-${h} - [0:0]`, `:KUBE-SEP-${h}A - [0:0]`, `:KUBE-SEP-${h}B - [0:0]`);
    rules.push(`-A KUBE-SERVICES -d 10.96.${i >> 8}.${i & 255}/32 -p tcp -m comment --comment "ns/svc${i}:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-${h}`);
    rules.push(`-A KUBE-SVC-${h} -m comment --comment "ns/svc${i}:http" -m statistic --mode random --probability 0.50000000000 -j KUBE-SEP-${h}A`);
    rules.push(`-A KUBE-SVC-${h} -m comment --comment "ns/svc${i}:http" -j KUBE-SEP-${h}B`);
    for (const e of ['A', 'B']) {
      rules.push(`-A KUBE-SEP-${h}${e} -s 10.244.${i >> 7}.${(i & 127) * 2}/32 -m comment --comment "ns/svc${i}:http" -j KUBE-MARK-MASQ`);
      rules.push(`-A KUBE-SEP-${h}${e} -p tcp -m comment --comment "ns/svc${i}:http" -m tcp -j DNAT --to-destination 10.244.${i >> 7}.${(i & 127) * 2 + (e === 'A' ? 0 : 1)}:8080`);
    }
  }
  // The text set at once (Playwright's fill types 700 KB into the field too slowly).
  await app.input.evaluate((el, text) => {
    el.value = text;
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, [...lines, ...rules, 'COMMIT', ''].join('\n'));
  await expect(page.getByTestId('busy')).toHaveCount(0);
  await expect(app.summary).toContainText('3003 chains');
  await app.show('graph');
  await expect(page.getByTestId('fold-services')).toBeChecked();
  await page.getByTestId('fold-services').uncheck();
  // 3,000 chains: drawn one by one they froze the tab; now one Service's and the rest as one.
  const note = page.getByTestId('graph-note');
  await expect(note).toContainText('1000 Services are too many to draw chain by chain');
  const nodes = app.graph.locator('[data-testid="chain-node"]');
  await expect(nodes.first()).toBeVisible();
  expect(await nodes.count()).toBeLessThan(20);
  await expect(app.graph.locator('[data-testid="chain-node"][data-chain^="KUBE-SEP-"]')).toHaveCount(2);
  // The rest node counts what it stands for: all but the one drawn.
  await expect(app.node('the chains of 999 other Services (search to show)')).toBeVisible();
  // A search unfolds the Service it names instead.
  await page.getByTestId('graph-search').fill('ns/svc734:http');
  await expect(app.node('KUBE-SVC-0000000000000734')).toBeVisible();
  await expect(app.node('KUBE-SEP-0000000000000734A')).toBeVisible();
  await expect(note).toContainText('the Service matching “ns/svc734:http”');
  expect(await nodes.count()).toBeLessThan(20);
  // A search that names nothing says so.
  await page.getByTestId('graph-search').fill('no-such-service');
  await expect(note).toContainText('No Service matches “no-such-service”');
  await expect(app.node('the chains of 1000 other Services (search to show)')).toBeVisible();
});

test('Ctrl + wheel (a trackpad\'s pinch) zooms: scaled while it goes on, drawn at the new zoom when it stops', async ({ app, page }) => {
  await page.setViewportSize({ width: 1440, height: 900 });
  await app.open();
  await app.paste(seed('kind-v1.23-iptables-v1.8.4.iptables-save'));
  await app.show('graph');
  await expect(app.graph).toBeVisible();
  // Fitted once the graph arrives; fit again so the zoom is settled before the gesture.
  await page.getByTestId('graph-fit').click();
  await page.waitForTimeout(300);
  const zoom = page.getByTestId('graph-zoom');
  const before = Number(await zoom.inputValue());
  const width = Number(await app.graph.getAttribute('width'));
  const box = await page.locator('.graph-scroll').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -100);
  await page.mouse.wheel(0, -100);
  await page.keyboard.up('Control');
  await expect.poll(async () => Number(await zoom.inputValue())).toBeGreaterThan(before * 1.2);
  await expect.poll(async () => Number(await app.graph.getAttribute('width'))).toBeGreaterThan(width * 1.2);
  // Once drawn at the new zoom, it is no longer scaled.
  await expect(page.getByTestId('graph-layer')).not.toHaveAttribute('style', /scale/);
});
