import { chromium } from '@playwright/test';
import fs from 'node:fs';
const seed = fs.readFileSync('/work/shared/fixtures/seeds/bind-kube-proxy-v1.4.21.iptables-save', 'utf8');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
await page.goto('http://127.0.0.1:8124/');
await page.getByTestId('rules-input').fill(seed);
await page.waitForTimeout(1200);
await page.getByTestId('finding').first().getByTestId('finding-plan').click();
await page.waitForTimeout(500);
await page.getByTestId('nav-overview').click();
await page.getByTestId('finding').first().getByTestId('finding-trace').click();
await page.waitForTimeout(800);
await page.getByTestId('share-open').click();
const snippets = {};
for (const v of ['graph', 'cascade', 'conntrack', 'trace']) {
  await page.getByTestId('embed-view').selectOption(v);
  await page.waitForTimeout(600);
  snippets[v] = await page.getByTestId('embed-snippet').inputValue();
}
for (const [v, s] of Object.entries(snippets)) {
  const p = await browser.newPage({ viewport: { width: 620, height: 420 } });
  await p.setContent(`<!doctype html><body style="margin:10px">${s}</body>`);
  await p.waitForTimeout(2000);
  await p.screenshot({ path: `/tmp/shots/embed-${v}.png` });
}
await browser.close();
