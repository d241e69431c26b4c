// Shared test set-up: a page object for the app, and guards that fail any test whose page
// reaches outside 127.0.0.1 or logs a console error.
import { test as base, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

// `cargo xtask test` passes CHAINLENS_SHARED; otherwise `shared/` sits beside the repository.
const shared = process.env.CHAINLENS_SHARED ?? fileURLToPath(new URL('../../shared/', import.meta.url));

/** The text of a seed fixture from shared/fixtures/seeds. */
export function seed(name) {
  return readFileSync(join(shared, 'fixtures', 'seeds', name), 'utf8');
}

/** The text of a real paste from shared/conformance/real-nodes. */
export function real(name) {
  return readFileSync(join(shared, 'conformance', 'real-nodes', name), 'utf8');
}

export class ChainlensPage {
  constructor(page) {
    this.page = page;
    /** Console errors a test provokes on purpose (each a RegExp). */
    this.allowedErrors = [];
    this.input = page.getByTestId('rules-input');
    this.summary = page.getByTestId('summary');
    this.diagnostics = page.getByTestId('diagnostics');
    this.graph = page.getByTestId('chain-graph');
  }

  async open() {
    await this.page.goto('/');
    await expect(this.summary).toBeVisible();
  }

  async paste(text) {
    await this.input.fill(text);
    // The analysis runs just after the paste; wait until it is done.
    await expect(this.page.getByTestId('busy')).toHaveCount(0);
  }

  /** Switches to a view: overview, services, graph, cascade, trace, conntrack, compare. */
  async show(view) {
    await this.page.getByTestId(`nav-${view}`).click();
  }

  /** The `chains`/`rules` counts shown for one table, or null when the table is absent. */
  async tableCounts(name) {
    const el = this.summary.locator(`[data-table="${name}"]`);
    if ((await el.count()) === 0) return null;
    return { chains: Number(await el.getAttribute('data-chains')), rules: Number(await el.getAttribute('data-rules')) };
  }

  node(chain) {
    return this.graph.locator(`[data-testid="chain-node"][data-chain="${chain}"]`);
  }
}

export const test = base.extend({
  app: async ({ page }, use) => {
    const outside = [];
    const consoleErrors = [];
    await page.route('**/*', (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' || url.protocol === 'data:') return route.continue();
      outside.push(url.href);
      return route.abort();
    });
    page.on('console', (msg) => { if (msg.type() === 'error') consoleErrors.push(msg.text()); });
    page.on('pageerror', (err) => consoleErrors.push(String(err)));
    const app = new ChainlensPage(page);
    await use(app);
    expect(outside, 'requests outside 127.0.0.1').toEqual([]);
    const unexpected = consoleErrors.filter((e) => !app.allowedErrors.some((r) => r.test(e)));
    expect(unexpected, 'console errors').toEqual([]);
  },
});

export { expect };
