// What every browser journey does with pages: open them in contexts of their own (watched for errors and
// CSP violations), sign in through the dev sign-in form, follow the navigation, check a page with
// axe-core and save its screenshot.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { axeViolations, screenshot, watchProblems } from './browser.ts';

/** Pages of one test file: each in its own browser context, closed together. */
export function pagesOf(browser: () => Browser) {
  const contexts: BrowserContext[] = [];
  const problems: string[][] = [];
  return {
    /** A new page in a new context; `watch` records its page errors and CSP violations. */
    async newPage(watch = true): Promise<Page> {
      const context = await browser().newContext({ viewport: { width: 1280, height: 900 } });
      contexts.push(context);
      const page = await context.newPage();
      if (watch) problems.push(watchProblems(page));
      return page;
    },
    /** Everything the watched pages threw or were refused so far. */
    problems: () => problems.flat(),
    async close(): Promise<void> {
      for (const context of contexts) await context.close();
    },
  };
}

const ROLES = ['Reader', 'Contributor', 'Approver', 'Admin', 'Auditor'];

/** Signs in through the console's development sign-in form. */
export async function signIn(
  page: Page,
  origin: string,
  tenant: string,
  user: string,
  roles: string[],
): Promise<void> {
  await page.goto(`${origin}/console/`);
  await page.getByLabel('Tenant').fill(tenant);
  await page.getByLabel('User').fill(user);
  for (const role of ROLES) await page.getByLabel(role, { exact: true }).setChecked(roles.includes(role));
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page
    .getByTestId('who')
    .filter({ hasText: `${user}@${tenant}` })
    .waitFor();
}

/** Checks the page with axe-core (no serious or critical violations) and saves its screenshot. */
export async function checkPage(page: Page, name: string): Promise<void> {
  await screenshot(page, name);
  expect({ page: name, violations: await axeViolations(page) }).toEqual({ page: name, violations: [] });
}

/** Follows the navigation link `label` and waits for its page's heading. */
export async function goTo(page: Page, label: string): Promise<void> {
  await page.getByRole('navigation', { name: 'pages' }).getByRole('link', { name: label }).click();
  await page.getByRole('heading', { level: 1, name: label }).waitFor();
}
