// The views over one analysis: every example loads; the founding story end to end; the
// cascade; the tracer; the planner; user text stays text.
import { test, expect, seed } from '../fixtures.mjs';
import { mkdirSync } from 'node:fs';

const shots = !!process.env.CHAINLENS_SCREENSHOTS;
async function shot(page, name) {
  if (!shots) return;
  mkdirSync('docs', { recursive: true });
  await page.screenshot({ path: `docs/${name}.png`, fullPage: false });
}

test('every seed fixture loads from the examples with a useful result', async ({ app, page }) => {
  await app.open();
  const names = await page.getByTestId('example-picker').locator('option').evaluateAll(
    (options) => options.map((o) => o.value).filter(Boolean));
  expect(names.length).toBe(14);
  for (const name of names) {
    await page.getByTestId('example-picker').selectOption(name);
    await expect(page.getByTestId('busy')).toHaveCount(0);
    await expect(app.input).toHaveValue(seed(name));
    const summary = await app.summary.innerText();
    if (name.endsWith('.csv')) {
      // Not rules: said so, and the planner reads it as samples.
      await expect(app.diagnostics.locator('[data-code="not-rules"]').first()).toBeVisible();
    } else if (name.includes('conntrack')) {
      expect(summary).toMatch(/conntrack/);
    } else {
      expect(summary).not.toMatch(/^0 rules$/m);
      if (!name.includes('manual')) {
        // kube-proxy's rules: read back into Services.
        await app.show('services');
        await expect(page.getByTestId('service-row').first()).toBeVisible();
        await app.show('overview');
      }
    }
  }
});

test('the founding story: masquerade found, traced, and the pool filling', async ({ app, page }) => {
  await app.open();
  await app.paste(seed('bind-kube-proxy-v1.4.21.iptables-save'));
  const finding = page.locator('[data-testid="finding"][data-code="external-masquerade"]').first();
  await expect(finding).toContainText('10.5.6.29:53/udp');
  await shot(page, 'findings');
  await app.show('services');
  await page.locator('[data-testid="service-row"][data-service="default/ares-k29-bindapp:dns-udp-53"] button').click();
  await app.show('trace');
  await page.getByRole('button', { name: /from outside → external IP 10\.5\.6\.29:53/ }).click();
  const outcome = page.getByTestId('trace-outcome');
  await expect(outcome).toHaveCount(1);
  await expect(outcome).toHaveAttribute('data-probability', '1');
  await expect(outcome).toHaveAttribute('data-dnat', '10.100.13.3:53');
  await expect(outcome).toHaveAttribute('data-snat', 'masqueraded');
  await shot(page, 'trace');
  await outcome.getByRole('button', { name: 'show this path in the graph' }).click();
  await expect(app.node('KUBE-POSTROUTING')).toHaveClass(/on-path/);
  await app.show('conntrack');
  await expect(page.getByTestId('conntrack-target')).toHaveValue('10.5.6.29:53/udp');
  await page.getByTestId('conntrack-rate').fill('2500');
  await page.getByTestId('conntrack-rate').press('Enter');
  await page.getByTestId('conntrack-measured').fill(seed('bind-conntrack-count-2500rps.csv'));
  await expect(page.getByTestId('conntrack-chart')).toHaveAttribute('data-saturated', 'true');
  await expect(page.getByTestId('conntrack-summary')).toContainText('2150');
  await expect(page.getByTestId('conntrack-chart').locator('circle')).not.toHaveCount(0);
  await shot(page, 'conntrack');
  // The same node with hand-written DNAT: no SNAT pool, nothing refused at 10,000/s.
  await app.paste(seed('bind-manual-dnat-v1.4.21.iptables-save'));
  await expect(page.locator('[data-testid="finding"][data-code="external-masquerade"]')).toHaveCount(0);
  await app.show('conntrack');
  await page.getByTestId('conntrack-target').fill('10.5.6.29:53/udp');
  await page.getByTestId('conntrack-target').press('Enter');
  await page.getByTestId('conntrack-rate').fill('10000');
  await page.getByTestId('conntrack-rate').press('Enter');
  await expect(page.getByTestId('conntrack-chart')).toHaveAttribute('data-saturated', 'false');
  await expect(page.getByTestId('conntrack-summary')).toContainText('No SNAT pool');
});

test('the aliyun cascade shows seven endpoints near a seventh', async ({ app, page }) => {
  await app.open();
  await app.paste(seed('aliyun-v1.12-nat-listing.iptables-L'));
  await app.show('cascade');
  await expect(page.getByTestId('cascade-chart')).toHaveAttribute('data-endpoints', '7');
  const shares = await page.getByTestId('cascade-step').evaluateAll(
    (rows) => rows.map((r) => Number(r.getAttribute('data-probability'))));
  expect(shares.length).toBe(7);
  for (const p of shares) expect(Math.abs(p - 1 / 7)).toBeLessThan(1e-5);
  expect(Math.abs(shares.reduce((a, b) => a + b, 0) - 1)).toBeLessThan(1e-9);
  const bars = page.getByTestId('cascade-chart').locator('rect[fill="#1D4ED8"][opacity="0.75"]');
  await expect(bars).toHaveCount(7);
  // Hovering a bar reads it out: the fifth bar is the fifth endpoint.
  const fifth = await bars.nth(4).boundingBox();
  await page.mouse.move(fifth.x + fifth.width / 2, fifth.y + fifth.height / 2);
  const readout = page.getByTestId('cascade-readout');
  await expect(readout).toBeVisible();
  await expect(readout).toContainText(await page.getByTestId('cascade-step').nth(4).locator('td').first().innerText());
  await expect(readout).toContainText('share of new connections: 14.28');
  await shot(page, 'cascade');
});

test('a malicious comment is shown as text, never as markup', async ({ app, page }) => {
  let dialogs = 0;
  page.on('dialog', async (d) => { dialogs += 1; await d.dismiss(); });
  await app.open();
  const evil = '<img src=x onerror=alert(1)>';
  await app.paste(`*nat
:PREROUTING ACCEPT [0:0]
:KUBE-SERVICES - [0:0]
:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]
:KUBE-SEP-BBBBBBBBBBBBBBBB - [0:0]
-A PREROUTING -j KUBE-SERVICES
-A KUBE-SERVICES -d 10.96.0.5/32 -p tcp -m comment --comment "ns/evil:p cluster IP ${evil}" -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA
-A KUBE-SVC-AAAAAAAAAAAAAAAA -m comment --comment "${evil}" -j KUBE-SEP-BBBBBBBBBBBBBBBB
-A KUBE-SEP-BBBBBBBBBBBBBBBB -p tcp -m comment --comment "${evil}" -m tcp -j DNAT --to-destination 10.244.0.5:80
COMMIT
`);
  for (const view of ['overview', 'services', 'graph', 'cascade', 'trace']) {
    await app.show(view);
    await expect(page.locator('img')).toHaveCount(0);
  }
  await app.show('graph');
  await app.node('KUBE-SVC-AAAAAAAAAAAAAAAA').hover();
  expect(dialogs).toBe(0);
  await expect(app.input).toHaveValue(new RegExp(evil.replace(/[()]/g, '\\$&')));
});

test('clicking a diagnostic selects its line in the paste', async ({ app, page }) => {
  await app.open();
  await app.paste('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nthis is prose\nCOMMIT\n');
  await app.diagnostics.locator('[data-code="unknown-line"] .where').click();
  const selected = await app.input.evaluate((el) => el.value.slice(el.selectionStart, el.selectionEnd));
  expect(selected).toBe('this is prose');
});

test('many Services open folded, one node each, and unfold on click', async ({ app, page }) => {
  await app.open();
  const lines = ['*nat', ':PREROUTING ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]'];
  const rules = ['-A PREROUTING -j KUBE-SERVICES'];
  for (let i = 0; i < 60; i++) {
    const h = String(i).padStart(16, '0');
    lines.push(`:KUBE-SVC-${h} - [0:0]`, `:KUBE-SEP-${h} - [0:0]`);
    rules.push(`-A KUBE-SERVICES -d 10.96.1.${i}/32 -p tcp -m comment --comment "ns/svc${i}:http cluster IP" -m tcp --dport 80 -j KUBE-SVC-${h}`);
    rules.push(`-A KUBE-SVC-${h} -m comment --comment "ns/svc${i}:http" -j KUBE-SEP-${h}`);
    rules.push(`-A KUBE-SEP-${h} -p tcp -m comment --comment "ns/svc${i}:http" -m tcp -j DNAT --to-destination 10.244.1.${i}:8080`);
  }
  await app.paste([...lines, ...rules, 'COMMIT', ''].join('\n'));
  await app.show('graph');
  await expect(page.getByTestId('fold-services')).toBeChecked();
  await expect(app.node('ns/svc7:http')).toBeVisible();
  await expect(app.node('KUBE-SVC-0000000000000007')).toHaveCount(0);
  await app.node('ns/svc7:http').click();
  await expect(app.node('KUBE-SVC-0000000000000007')).toBeVisible();
  await expect(app.node('KUBE-SEP-0000000000000007')).toBeVisible();
});

test('compare: the kube-proxy dump against the hand-written one, the same packet through both', async ({ app, page }) => {
  await app.open();
  await app.paste(seed('bind-kube-proxy-v1.4.21.iptables-save'));
  await app.show('compare');
  await page.getByTestId('compare-input').fill(seed('bind-manual-dnat-v1.4.21.iptables-save'));
  await expect(page.getByTestId('compare-result')).toContainText('Service default/ares-k29-bindapp:dns-udp-53 only in A');
  await page.getByPlaceholder('address').fill('10.5.6.29');
  await page.getByPlaceholder('address').press('Tab');
  await page.locator('.compare input[size="6"]').fill('53');
  await page.locator('.compare input[size="6"]').press('Tab');
  const both = page.getByTestId('compare-trace');
  await expect(page.getByTestId('compare-a')).toContainText('DNAT to 10.100.13.3:53, source rewritten to the node');
  // No interface given: the hand-written rules' own `-i eth3` says where traffic comes in,
  // so the fix is seen working — DNAT, no masquerade.
  await expect(page.getByTestId('compare-b')).toContainText('accepted, DNAT to 10.100.13.3:53');
  await expect(page.getByTestId('compare-b')).not.toContainText('masquerade');
  await expect(both).toBeVisible();
});

test('a paste of megabytes is analysed whole and shown in part', async ({ app, page }) => {
  await app.open();
  const rules = Array.from({ length: 20000 }, (_, i) =>
    `-A KUBE-SERVICES -d 10.96.${i >> 8}.${i & 255}/32 -p tcp -m comment --comment "ns/svc${i}:http cluster IP" -m tcp --dport 80 -j ACCEPT`);
  const text = ['*nat', ':KUBE-SERVICES - [0:0]', ...rules, 'COMMIT', ''].join('\n');
  expect(text.length).toBeGreaterThan(1 << 20);
  await app.input.evaluate((el, text) => {
    const data = new DataTransfer();
    data.setData('text/plain', text);
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
  await expect(page.getByTestId('large-paste')).toBeVisible();
  await expect(page.getByTestId('busy')).toHaveCount(0);
  expect(await app.tableCounts('nat')).toEqual({ chains: 1, rules: 20000 });
  expect((await app.input.inputValue()).length).toBeLessThanOrEqual(30000);
  await page.getByTestId('large-paste').getByRole('button', { name: 'Clear' }).click();
  await expect(page.getByTestId('large-paste')).toHaveCount(0);
});

test('a jump in the graph says which rules make it and what they do', async ({ app, page }) => {
  await app.open();
  await app.show('graph');
  await expect(app.graph).toBeVisible();
  const titles = await app.graph.locator('path.edge > title').allTextContents();
  const jump = titles.find((t) => t.startsWith('KUBE-SERVICES → KUBE-SVC-TCOU7JCQXEZGVUNU'));
  expect(jump).toContain('-A KUBE-SERVICES -d 10.96.0.10/32 -p udp');
  expect(jump).toContain('UDP packets to 10.96.0.10/32, to port 53: continue in chain KUBE-SVC-TCOU7JCQXEZGVUNU');
});

test('from the node: a packet a process on the node sends to a ClusterIP', async ({ app, page }) => {
  await app.open();
  await app.show('services');
  await page.locator('[data-testid="service-row"][data-service="kube-system/kube-dns:dns"] button').click();
  await app.show('trace');
  await page.getByRole('button', { name: 'from the node → cluster IP 10.96.0.10:53' }).click();
  const outcomes = page.getByTestId('trace-outcome');
  await expect(outcomes).toHaveCount(2);
  const shares = await outcomes.evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-probability'))));
  expect(shares).toEqual([0.5, 0.5]);
  await expect(outcomes.first()).toContainText('nat OUTPUT #1 jump KUBE-SERVICES');
});
