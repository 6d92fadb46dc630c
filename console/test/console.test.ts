// The console's main journeys in headless Chromium against a real `npm start`: dev sign-in, a task
// needing approval appearing live in the inbox, a second user approving it, the task completing on the
// tasks page, the kill switch's banner everywhere with the tasks paused, the platform-wide kill switch
// engaged by an operator's Admin and shown in another tenant. Every page passes axe-core
// (no serious or critical violations) and runs under the console's own strict CSP without violations.
import type { Browser, Page } from 'playwright-core';
import { launch } from './support/browser.ts';
import { checkPage, goTo, pagesOf, signIn as signInAs } from './support/pages.ts';
import { type Platform, startPlatform } from './support/platform.ts';

/** A tenant of its own (registered on first use in development): the seeded demo tenant has pending work. */
const TENANT = 'acme';
let platform: Platform;
let browser: Browser;
const pages = pagesOf(() => browser);
beforeAll(async () => {
  platform = await startPlatform();
  browser = await launch();
}, 600_000);

afterAll(async () => {
  await pages.close();
  await browser?.close();
  await platform?.stop();
});

afterEach(() => {
  // No page may throw or be refused anything by its Content-Security-Policy.
  expect(pages.problems()).toEqual([]);
});

const newPage = (watch?: boolean) => pages.newPage(watch);
const signIn = (page: Page, user: string, roles: string[], tenant = TENANT) =>
  signInAs(page, platform.origin, tenant, user, roles);

let carl: Page;
let ann: Page;
let taskId: string;

describe('the console in a browser', () => {
  it('serves the sign-in page fast and signs in with the dev issuer', async () => {
    carl = await newPage();
    const started = Date.now();
    await carl.goto(`${platform.origin}/console/`);
    await carl.getByRole('heading', { name: 'Sign in to the WidgeTDC console' }).waitFor();
    const firstRender = Date.now() - started;
    const paint = await carl.evaluate(
      () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
    );
    process.stdout.write(
      `console first meaningful render: ${firstRender} ms to the sign-in form (first contentful paint ${Math.round(paint)} ms)\n`,
    );
    expect(platform.output()).toContain(`Console:      ${platform.origin}/console/`);
    await checkPage(carl, 'sign-in');
    await signIn(carl, 'carl', ['Contributor']);
    await carl.getByRole('heading', { level: 1, name: 'Approvals' }).waitFor();
    await expect(carl.getByTestId('who').textContent()).resolves.toContain('Contributor');
    // A signed-in reload: the tab's session resumes and the inbox renders with its data.
    const reloaded = Date.now();
    await carl.reload();
    await carl.getByText('Nothing waits for a decision.').waitFor();
    process.stdout.write(
      `console signed-in render: ${Date.now() - reloaded} ms to the loaded approvals inbox\n`,
    );
  });

  it('shows a task that needs approval in another user’s inbox live, with its call in full', async () => {
    ann = await newPage();
    await signIn(ann, 'ann', ['Approver']);
    await ann.getByText('Nothing waits for a decision.').waitFor();
    await checkPage(ann, 'approvals-empty');

    await goTo(carl, 'Tasks');
    await carl.getByText('Create a task from a plan').click();
    await carl.getByLabel('Goal').fill('Send the Q3 report');
    await checkPage(carl, 'tasks-create');
    await carl.getByRole('button', { name: 'Create task' }).click();
    await carl.getByRole('heading', { level: 1, name: /Send the Q3 report/ }).waitFor();
    taskId = new URL(carl.url()).pathname.split('/').at(-1)!;
    await carl.getByRole('heading', { level: 1, name: /WAITING FOR APPROVAL/ }).waitFor();

    // Ann's inbox was loaded before the request existed: it arrives over the subscription.
    const card = ann.locator('li.card', { hasText: 'email.send' });
    await card.waitFor();
    await expect(card.textContent()).resolves.toContain('board@example.com');
    await expect(card.textContent()).resolves.toContain('Send the Q3 report');
    await expect(card.textContent()).resolves.toContain(`carl@${TENANT}.dev.widgetdc`);
    await expect(card.getByTestId('progress').textContent()).resolves.toBe('0 of 1');
    await expect(card.locator('.countdown').textContent()).resolves.toMatch(/left\)$/);
    await expect(card.textContent()).resolves.toContain('HIGH');
    await checkPage(ann, 'approvals-pending');
  });

  it('lets the second user approve with a comment, and the task completes on the tasks page', async () => {
    await goTo(carl, 'Tasks');
    const row = carl.locator(`tr[data-task="${taskId}"]`);
    await row.getByText('WAITING FOR APPROVAL').waitFor();

    const card = ann.locator('li.card', { hasText: 'email.send' });
    await card.getByLabel('Comment (optional)').fill('Numbers checked');
    await card.getByRole('button', { name: 'Approve' }).click();
    await ann.getByText('Nothing waits for a decision.').waitFor();

    // Carl's list follows the task's status live, to COMPLETED.
    await row.getByText('COMPLETED').waitFor({ timeout: 60_000 });
    await checkPage(carl, 'tasks-list');
    await row.getByRole('link').click();
    await carl.getByRole('heading', { level: 1, name: /COMPLETED/ }).waitFor();
    await expect(carl.locator('ol.timeline li').count()).resolves.toBe(2);
    await expect(carl.locator('ol.timeline').textContent()).resolves.toContain('approval APPROVED');
    await checkPage(carl, 'task-detail');
  });

  it('engages the kill switch with a confirmation: a banner on every page, waiting tasks paused', async () => {
    // A task waiting for approval when the switch is engaged is paused.
    const token = await platform.token('carl', ['Contributor'], TENANT);
    const created = await platform.graphql<{ createTask: { id: string } }>(
      token,
      'mutation { createTask(input: { goal: "Mail the board", steps: [{ tool: "email.send", input: { to: ["board@example.com"], subject: "Hi", body: "Hello" } }] }) { id } }',
    );
    await goTo(carl, 'Tasks');
    const row = carl.locator(`tr[data-task="${created.createTask.id}"]`);
    await row.getByText('WAITING FOR APPROVAL').waitFor();

    await ann.getByRole('button', { name: 'Kill switch' }).click();
    const dialog = ann.getByRole('dialog', { name: 'Engage the kill switch?' });
    await dialog.waitFor();
    await checkPage(ann, 'kill-switch-confirm');
    await dialog.getByLabel(/Why/).fill('Suspicious mail volume');
    await dialog.getByRole('button', { name: 'Engage' }).click();

    for (const page of [ann, carl]) {
      const banner = page.getByTestId('kill-switch-banner');
      await banner.waitFor();
      await expect(banner.textContent()).resolves.toMatch(
        /engaged by ann@acme\.dev\.widgetdc at .*Suspicious mail volume/,
      );
    }
    await row.getByText('PAUSED').waitFor({ timeout: 60_000 });
    for (const label of ['Approvals', 'Tasks']) {
      await goTo(carl, label);
      await carl.getByTestId('kill-switch-banner').waitFor();
      if (label === 'Tasks') await row.getByText('PAUSED').waitFor();
      await checkPage(carl, `kill-switch-${label.toLowerCase()}`);
    }
    await expect(carl.getByTestId('kill-switch-banner').textContent()).resolves.toContain(
      'An Admin can release it.',
    );

    // An Admin releases it from the banner; the banner goes everywhere.
    const ada = await newPage();
    await signIn(ada, 'ada', ['Admin']);
    await ada.getByRole('button', { name: 'Release the kill switch' }).click();
    await carl.getByTestId('kill-switch-banner').waitFor({ state: 'detached' });
    await ann.getByTestId('kill-switch-banner').waitFor({ state: 'detached' });
  });

  it("engages the platform-wide kill switch as an operator's Admin: its banner in another tenant, released by the operator", async () => {
    // Under `npm start` the demo tenant operates the platform (OPERATOR_TENANT_IDS).
    const olga = await newPage();
    await signIn(olga, 'olga', ['Admin'], 'demo');
    const ada = await newPage();
    await signIn(ada, 'ada', ['Admin']);
    // A tenant's Admin has the tenant's button only.
    await ada.getByRole('button', { name: 'Kill switch', exact: true }).waitFor();
    expect(await ada.getByRole('button', { name: 'Platform kill switch' }).count()).toBe(0);

    await olga.getByRole('button', { name: 'Platform kill switch' }).click();
    const dialog = olga.getByRole('dialog', { name: 'Engage the platform-wide kill switch?' });
    await dialog.waitFor();
    await checkPage(olga, 'platform-kill-switch-confirm');
    await dialog.getByLabel(/Why/).fill('Provider incident');
    await dialog.getByRole('button', { name: 'Engage for every tenant' }).click();

    for (const page of [carl, ada, olga]) {
      const banner = page.getByTestId('platform-kill-switch-banner');
      await banner.waitFor();
      await expect(banner.textContent()).resolves.toMatch(
        /Platform-wide kill switch engaged by olga@demo\.dev\.widgetdc at .*Provider incident/,
      );
    }
    await goTo(carl, 'Tasks');
    await carl.getByTestId('platform-kill-switch-banner').waitFor();
    await checkPage(carl, 'platform-kill-switch-tasks');
    await expect(ada.getByTestId('platform-kill-switch-banner').textContent()).resolves.toContain(
      'A platform operator can release it.',
    );
    await olga.getByRole('button', { name: 'Release the platform-wide kill switch' }).click();
    for (const page of [carl, ada, olga]) {
      await page.getByTestId('platform-kill-switch-banner').waitFor({ state: 'detached' });
    }
  });

  it('uploads a document with a progress bar and shows it READY when ingestion ends', async () => {
    await goTo(carl, 'Knowledge');
    await checkPage(carl, 'knowledge-empty');
    await carl.getByLabel('Upload documents').setInputFiles({
      name: 'onboarding-policy.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from(
        '# Onboarding policy\n\nNew joiners get a laptop on day one. Passwords are at least 14 characters.\n',
      ),
    });
    const row = carl.locator('tr[data-document="onboarding-policy.md"]');
    await row.waitFor();
    await row.getByText('READY').waitFor({ timeout: 120_000 });
    await expect(row.locator('td').nth(2).textContent()).resolves.toMatch(/^[1-9]\d*$/);
    await checkPage(carl, 'knowledge-ready');
  });

  it('searches the uploaded document with the matched words highlighted', async () => {
    const box = carl.getByLabel('Words to find, or a question');
    await box.fill('laptop');
    await carl.getByRole('button', { name: 'Search', exact: true }).click();
    const hit = carl.getByRole('list', { name: 'search results' }).getByRole('listitem').first();
    await hit.waitFor();
    await expect(hit.locator('mark').first().textContent()).resolves.toMatch(/^laptop$/i);
    await expect(hit.textContent()).resolves.toContain('onboarding-policy.md');
    await checkPage(carl, 'knowledge-search');
    // Ask, its citations in their document and its trace: console/test/journeys.test.ts.
  });

  it('shows the audit log with filters, verifies the chain and offers the export', async () => {
    const auditor = await newPage();
    await signIn(auditor, 'aud', ['Auditor']);
    await goTo(auditor, 'Audit log');
    await auditor.getByRole('cell', { name: 'governance.engageKillSwitch' }).first().waitFor();
    await auditor.getByLabel('Action').fill('agent.createTask');
    await auditor.getByRole('button', { name: 'Apply filters' }).click();
    await auditor.getByRole('cell', { name: 'governance.engageKillSwitch' }).waitFor({ state: 'detached' });
    await auditor.getByRole('cell', { name: 'agent.createTask' }).first().waitFor();
    await auditor.getByRole('button', { name: 'Verify the chain' }).click();
    await expect(auditor.getByTestId('verification').textContent()).resolves.toMatch(
      /^Chain intact: \d+ rows checked/,
    );
    const download = auditor.waitForEvent('download');
    await auditor.getByRole('button', { name: 'Export JSON Lines' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toMatch(/^audit-.*\.jsonl$/);
    await checkPage(auditor, 'audit');
    // Tasks are not the Auditor's: the page says which roles it needs.
    await goTo(auditor, 'Tasks');
    await auditor
      .getByRole('alert')
      .getByText(/forbidden/i)
      .waitFor();
    await checkPage(auditor, 'tasks-forbidden');
  });

  it('lists dead letters of a topic for Admins, with an empty state', async () => {
    const ada = await newPage();
    await signIn(ada, 'ada', ['Admin']);
    await goTo(ada, 'Dead letters');
    await ada.getByText(/^No dead letters on /).waitFor();
    await checkPage(ada, 'dead-letters');
  });

  it('decides an approval from the widget embedded in the example host page (same origin; another origin in journeys.test.ts)', async () => {
    const host = await newPage();
    await host.goto(`${platform.origin}/console/examples/host.html?user=ann&tenant=${TENANT}`);
    // Loaded: the kill-switch test's task waits for approval again since the release.
    await host.locator('widgetdc-approvals li', { hasText: 'Mail the board' }).waitFor();
    const token = await platform.token('carl', ['Contributor'], TENANT);
    const created = await platform.graphql<{ createTask: { id: string } }>(
      token,
      'mutation { createTask(input: { goal: "Mail the auditors", steps: [{ tool: "email.send", input: { to: ["audit@example.com"], subject: "Q3", body: "Attached" } }] }) { id } }',
    );
    // Arrives live, inside the widget's shadow root.
    const item = host.locator('widgetdc-approvals li', { hasText: 'Mail the auditors' });
    await item.waitFor();
    await expect(item.textContent()).resolves.toContain('audit@example.com');
    await checkPage(host, 'widget-host');
    await item.getByLabel('Comment').fill('From the widget');
    await item.getByRole('button', { name: 'Approve' }).click();
    await host.locator('#decisions li', { hasText: /^Approved .* \(now APPROVED\)$/ }).waitFor();
    await item.waitFor({ state: 'detached' });
    const until = Date.now() + 60_000;
    let status = '';
    while (Date.now() < until && status !== 'COMPLETED') {
      const data = await platform.graphql<{ task: { status: string } }>(
        token,
        `{ task(id: "${created.createTask.id}") { status } }`,
      );
      status = data.task.status;
      if (status !== 'COMPLETED') await new Promise((r) => setTimeout(r, 200));
    }
    expect(status).toBe('COMPLETED');
  });

  it('shows N-of-M progress and takes a decision from the keyboard alone', async () => {
    // An Admin asks for two approvers of email.send.
    const admin = await platform.token('ada', ['Admin'], TENANT);
    await platform.graphql(
      admin,
      'mutation { setToolPolicy(rules: [{ tool: "email.send", approvers: 2 }]) { version } }',
    );
    const token = await platform.token('carl', ['Contributor'], TENANT);
    await platform.graphql(
      token,
      'mutation { createTask(input: { goal: "Mail the regulator", steps: [{ tool: "email.send", input: { to: ["reg@example.com"], subject: "Filing", body: "Attached" } }] }) { id } }',
    );
    const bob = await newPage();
    await signIn(bob, 'bob', ['Approver']);
    const card = (page: Page) => page.locator('li.card', { hasText: 'Mail the regulator' });
    await expect(card(bob).getByTestId('progress').textContent()).resolves.toBe('0 of 2');

    // Ann decides with the keyboard: into the comment, Tab to Approve, Enter.
    await goTo(ann, 'Approvals');
    await card(ann).getByLabel('Comment (optional)').focus();
    await ann.keyboard.type('First of two');
    await ann.keyboard.press('Tab');
    await expect(
      ann.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { textContent: string } } }).document
            .activeElement.textContent,
      ),
    ).resolves.toBe('Approve');
    await ann.keyboard.press('Enter');
    await card(ann).getByTestId('progress').getByText('1 of 2').waitFor();
    // A vote short of the quorum publishes no event (only decisions do): Bob sees it when his list reloads.
    await goTo(bob, 'Tasks');
    await goTo(bob, 'Approvals');
    await card(bob).getByTestId('progress').getByText('1 of 2').waitFor();
    await expect(card(bob).textContent()).resolves.toContain('First of two');
    await checkPage(bob, 'approvals-n-of-m');
    await card(bob).getByRole('button', { name: 'Approve' }).click();
    await card(bob).waitFor({ state: 'detached' });
  });
});
