// The app under hostile and unlucky input: listing rows that used to kill the WebAssembly
// module, a worker that dies (a test hook makes it panic as a bug would), and a link whose
// rules would make the simulator's branches multiply.
import { test, expect, seed } from '../fixtures.mjs';
import { linkTo, nodePortTrace } from '../hostile.mjs';

const listing = (row) =>
  `Chain KUBE-SERVICES (2 references)\ntarget     prot opt source               destination\n${row}\n`;

test('the listing rows that killed the app are diagnosed and the app works on', async ({ app, page }) => {
  await app.open();
  await app.paste(listing('KUBE-SVC-X  tcp  --  0.0.0.0/0            10.96.0.1            /* */ tcp dpt:443'));
  await expect(app.summary).toContainText('iptables -L listing');
  expect(await app.tableCounts('filter')).toEqual({ chains: 1, rules: 1 });
  await app.paste(listing('ACCEPT  tcp  --  0.0.0.0/0            10.96.0.1            multiport'));
  await expect(app.diagnostics).toContainText('multiport ports missing');
  await app.paste(listing('ACCEPT  tcp  --  0.0.0.0/0            10.96.0.1/33\nDROP  tcp  --  0.0.0.0/0            10.96.0.2'));
  await expect(app.diagnostics).toContainText('10.96.0.1/33');
  // The bad row is kept (and said), and the row after it is still read.
  expect(await app.tableCounts('filter')).toEqual({ chains: 1, rules: 2 });
  await app.paste(seed('kind-v1.23-iptables-v1.8.4.iptables-save'));
  expect(await app.tableCounts('nat')).toEqual({ chains: 29, rules: 58 });
  await expect(page.getByTestId('worker-died')).toHaveCount(0);
});

test('a worker that dies is said, its results dropped, the text kept, and the next paste analysed', async ({ app, page }) => {
  app.allowedErrors.push(/asked to crash/, /unreachable|RuntimeError/);
  await app.open();
  await app.paste(seed('bind-kube-proxy-v1.4.21.iptables-save'));
  await expect(page.getByTestId('finding').first()).toBeVisible();
  await app.show('trace');
  await page.getByTestId('service-picker').fill('dns-udp');
  await page.getByTestId('service-picker-list').getByRole('button', { name: 'default/ares-k29-bindapp:dns-udp-53' }).click();
  await page.getByRole('button', { name: /external IP 10\.5\.6\.29:53/ }).click();
  await expect(page.getByTestId('trace-outcome')).toHaveCount(1);
  const text = await app.input.inputValue();
  await page.evaluate(async () => {
    const m = await import('./pkg/chainlens.js');
    m.chainlensCrashWorker();
  });
  await expect(page.getByTestId('worker-died')).toBeVisible();
  await expect(page.getByTestId('worker-died')).toContainText('asked to crash');
  // Nothing of the dead analysis is left on screen — not the trace, not the presets; the text is.
  await expect(page.getByTestId('trace-outcome')).toHaveCount(0);
  await expect(page.getByRole('button', { name: /external IP/ })).toHaveCount(0);
  await expect(app.summary).toContainText('not analysed');
  await app.show('overview');
  await expect(page.getByTestId('finding')).toHaveCount(0);
  await expect(app.summary.locator('[data-table]')).toHaveCount(0);
  expect(await app.input.inputValue()).toBe(text);
  // A new worker answers the next paste.
  await app.paste(seed('kind-v1.23-iptables-v1.8.4.iptables-save'));
  expect(await app.tableCounts('nat')).toEqual({ chains: 29, rules: 58 });
  await expect(page.getByTestId('worker-died')).toHaveCount(0);
  await app.show('overview');
  await expect(page.getByTestId('overview')).toContainText('Service ports');
});

test('a link with twenty undecidable rules ahead of a NodePort opens and says what it merged', async ({ app, page }) => {
  const link = `/${linkTo(nodePortTrace(20))}`;
  expect(link.length).toBeLessThan(2000);
  await page.goto(link);
  const outcome = page.getByTestId('trace-outcome');
  await expect(outcome).toHaveCount(1);
  await expect(outcome).toHaveAttribute('data-dnat', '203.0.113.10:8080');
  await expect(outcome).toHaveAttribute('data-probability', '1');
  // It says that the ipset tests did not matter, and that many paths were merged.
  await expect(outcome).toContainText('paths alike');
  await expect(outcome.getByTestId('trace-either')).toHaveAttribute('data-count', '20');
  await expect(outcome.getByTestId('trace-either')).toContainText('20 tests the rules cannot decide make no difference');
  // And the page answers at once.
  await app.show('services');
  await expect(page.locator('[data-testid="service-row"][data-service="default/web:http"]')).toBeVisible();
});
