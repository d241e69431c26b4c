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
