import { chromium } from '@playwright/test';
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium' });
const page = await browser.newPage({ viewport: { width: 800, height: 400 } });
for (const f of process.argv.slice(2)) {
  await page.goto('file://' + f);
  await page.screenshot({ path: f.replace(/\.svg$/, '.png') });
}
await browser.close();
