import { chromium } from '@playwright/test';
import fs from 'node:fs';
const base = process.env.BASE_URL || 'http://127.0.0.1:8124/';
const seed = fs.readFileSync(process.env.PASTE || '/work/shared/fixtures/seeds/' + (process.env.SEED || 'kube-proxy-bind-externalip.txt'), 'utf8');
const views = (process.env.VIEWS || 'overview,services,graph,cascade,trace,conntrack,compare').split(',');
const sizes = (process.env.SIZES || '1440x900,800x1100').split(',');
const schemes = (process.env.SCHEMES || 'light,dark').split(',');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
for (const size of sizes) {
  const [width, height] = size.split('x').map(Number);
  for (const scheme of schemes) {
    const page = await browser.newPage({ viewport: { width, height }, colorScheme: scheme });
    await page.goto(base);
    await page.getByTestId('rules-input').fill(seed);
    await page.waitForTimeout(1500);
    for (const v of views) {
      await page.getByTestId('nav-' + v).click();
      await page.waitForTimeout(800);
      await page.screenshot({ path: `/tmp/shots/${v}-${size}-${scheme}.png` });
    }
    await page.close();
  }
}
await browser.close();
