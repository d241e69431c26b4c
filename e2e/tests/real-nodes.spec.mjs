// Real pastes (conformance/real-nodes) as users bring them: a grep'd fragment traces through
// the kube-proxy rules it lacks (assumed, and said), not "nothing happens".
import { test, expect, real } from '../fixtures.mjs';

test('a grep\'d fragment traces to its endpoints through the entry rules it lacks', async ({ app, page }) => {
  await app.open();
  await app.paste(real('09-kind-etp-local-grep-transcript.txt'));
  const assumed = app.diagnostics.locator('[data-code="assumed-kube-proxy-rules"]');
  await expect(assumed.first()).toContainText('-A PREROUTING');
  await app.show('services');
  await page.locator('[data-testid="service-row"][data-service="default/test-svc"] button').click();
  await app.show('trace');
  await page.getByRole('button', { name: 'from outside → cluster IP 10.96.115.88:80' }).click();
  const outcomes = page.getByTestId('trace-outcome');
  await expect(outcomes).toHaveCount(2);
  const dnats = await outcomes.evaluateAll((els) => els.map((e) => e.getAttribute('data-dnat')).sort());
  expect(dnats).toEqual(['10.244.1.3:80', '10.244.2.3:80']);
  for (const o of await outcomes.all()) {
    await expect(o).toHaveAttribute('data-snat', 'masqueraded');
    await expect(o).toHaveAttribute('data-probability', '0.5');
    // The step through an assumed rule says so.
    await expect(o).toContainText('PREROUTING #1 (assumed)');
    // ...as text: it is on no line of the paste, so it is no link to one.
    await expect(o.getByRole('button', { name: /\(assumed\)/ })).toHaveCount(0);
    await expect(o.getByRole('button', { name: 'nat KUBE-SERVICES #1' })).toHaveCount(1);
  }
});

test('a Calico node\'s chains open folded into one node, named by its owner, and unfold on click', async ({ app, page }) => {
  await app.open();
  await app.paste(real('14-calico-k8s111-filter-L.txt'));
  await app.show('graph');
  const calico = page.locator('[data-testid="chain-node"][data-chain="Calico chains"]');
  await expect(calico).toHaveCount(1);
  await expect(calico.locator('title')).toContainText('chains');
  await expect(page.locator('[data-testid="chain-node"][data-chain="cali-INPUT"]')).toHaveCount(0);
  await calico.click();
  await expect(page.locator('[data-testid="chain-node"][data-chain="cali-INPUT"]')).toHaveCount(1);
  await expect(page.locator('[data-testid="chain-node"][data-chain="Calico chains"]')).toHaveCount(0);
});
