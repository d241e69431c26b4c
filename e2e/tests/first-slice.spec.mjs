// The first slice end to end: the default example on load, pasting a seed, bad input.
import { test, expect, seed } from '../fixtures.mjs';
import { mkdirSync } from 'node:fs';

test('the default example is analysed on load', async ({ app, page }) => {
  await app.open();
  await app.show('graph');
  await expect(app.summary).toContainText('iptables-save');
  expect(await app.tableCounts('nat')).toEqual({ chains: 29, rules: 58 });
  expect(await app.tableCounts('filter')).toEqual({ chains: 10, rules: 13 });
  expect(await app.tableCounts('mangle')).not.toBeNull();
  await expect(app.graph).toHaveAttribute('data-table', 'nat');
  await expect(app.node('KUBE-SERVICES')).toBeVisible();
  await expect(app.node('PREROUTING')).toBeVisible();
  await expect(app.graph.locator('[data-testid="chain-node"]')).toHaveCount(29);
  if (process.env.CHAINLENS_SCREENSHOTS) {
    mkdirSync('docs', { recursive: true });
    await page.screenshot({ path: 'docs/screenshot.png' });
  }
});

test('pasting the BIND kube-proxy dump updates the summary and the graph', async ({ app }) => {
  await app.open();
  await app.paste(seed('bind-kube-proxy-v1.4.21.iptables-save'));
  await app.show('graph');
  await expect(app.summary.locator('[data-table="nat"]')).toHaveAttribute('data-rules', '37');
  expect(await app.tableCounts('nat')).toEqual({ chains: 16, rules: 37 });
  expect(await app.tableCounts('filter')).toEqual({ chains: 7, rules: 10 });
  expect(await app.tableCounts('mangle')).toBeNull();
  await expect(app.node('KUBE-SVC-357LDXEIX7XFORLA')).toBeVisible();
  // The paste anonymised its second external IP as `x.x.x.x/32`: warned about, not an error.
  // Six of them, said once with every line.
  await expect(app.diagnostics.locator('[data-code="placeholder-address"]')).toHaveAttribute('data-times', '6');
  await expect(app.diagnostics.locator('.diagnostic.error')).toHaveCount(0);
});

test('another table is one click away', async ({ app, page }) => {
  await app.open();
  await app.show('graph');
  await page.getByTestId('table-tab-filter').click();
  await expect(app.graph).toHaveAttribute('data-table', 'filter');
  await expect(app.node('KUBE-FIREWALL')).toBeVisible();
});

test('binary junk shows a readable message and the page stays usable', async ({ app }) => {
  await app.open();
  const junk = Array.from({ length: 600 }, (_, i) => String.fromCharCode((i * 37) % 32 || 1)).join('') + '\u0000\ufffd';
  await app.paste(junk);
  await expect(app.diagnostics).toContainText('looks like binary data');
  await expect(app.summary).toContainText('0 rules');
  await app.paste(seed('bind-manual-dnat-v1.4.21.iptables-save'));
  expect(await app.tableCounts('nat')).toEqual({ chains: 16, rules: 3 });
  await expect(app.diagnostics).toHaveCount(0);
});

test('an empty paste says what to do', async ({ app }) => {
  await app.open();
  await app.show('graph');
  await app.paste('');
  await expect(app.diagnostics).toContainText('nothing to analyse');
  await expect(app.diagnostics).toContainText('iptables-save');
  await expect(app.graph).toHaveCount(0);
  await app.paste(seed('kind-v1.23-iptables-v1.8.4.iptables-save'));
  await expect(app.node('KUBE-SERVICES')).toBeVisible();
});

test('a line that is not understood is pointed at, the rest still read', async ({ app }) => {
  await app.open();
  await app.paste('*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -j ACCEPT\nthis is prose\nCOMMIT\n');
  const row = app.diagnostics.locator('[data-code="unknown-line"]');
  await expect(row).toContainText('4:1');
  expect(await app.tableCounts('filter')).toEqual({ chains: 1, rules: 1 });
});

test('a pasted -L listing transcript is read onto the same model', async ({ app }) => {
  await app.open();
  await app.paste(seed('aliyun-v1.12-nat-listing.iptables-L'));
  await app.show('graph');
  await expect(app.summary).toContainText('shell transcript');
  expect(await app.tableCounts('nat')).toEqual({ chains: 9, rules: 21 });
  await expect(app.node('KUBE-SVC-M42ZCW2EYUCRBVAF')).toBeVisible();
  // Lossy parts are said, not hidden: no -v, a `......` elision, SEP chains not in the paste.
  await expect(app.diagnostics.locator('[data-code="listing-without-v"]')).toHaveCount(1);
  await expect(app.diagnostics.locator('[data-code="elided-rows"]')).toHaveCount(1);
  await expect(app.diagnostics.locator('.diagnostic.error')).toHaveCount(0);
});
