// The console's knowledge and traces journeys and the widget on another origin, in headless Chromium
// against a real `npm start`: upload → progress bar → READY live → search with highlighted snippets →
// ask → citations and stage timings → the cited passage in its document → the answer's trace as a flame
// graph with its stage spans; the widget embedded in a host page of another origin under a strict CSP
// decides an approval, and a host origin not in CORS_ORIGINS is refused. Every page passes axe-core and
// runs under its CSP without violations; screenshots go to console/test/screenshots.
import { createServer, type Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { launch, screenshot } from './support/browser.ts';
import { checkPage, goTo, pagesOf, signIn as signInAs } from './support/pages.ts';
import { freePort, type Platform, startPlatform } from './support/platform.ts';

/** A tenant of its own (registered on first use in development). */
const TENANT = 'globex';
const DOCUMENT = 'travel-policy.md';
const TEXT = [
  '# Travel policy',
  '',
  '## Booking',
  '',
  'Employees book flights through the travel desk at least fourteen days before departure. Economy class is the rule for flights under six hours.',
  '',
  '## Expenses',
  '',
  'Hotel costs are reimbursed up to 180 euros a night. Receipts are uploaded within thirty days of the trip.',
  '',
  '## Safety',
  '',
  'Travellers register their itinerary with the security office before they leave.',
  '',
].join('\n');

let platform: Platform;
let browser: Browser;
const pages = pagesOf(() => browser);
/** A host on an origin CORS_ORIGINS names, and one it does not. */
let allowedHost: Host;
let refusedHost: Host;

beforeAll(async () => {
  const [allowedPort, refusedPort] = [await freePort(), await freePort()];
  platform = await startPlatform({ CORS_ORIGINS: `http://127.0.0.1:${allowedPort}` });
  allowedHost = await startHost(allowedPort, 'gateway');
  refusedHost = await startHost(refusedPort, 'self');
  browser = await launch();
}, 600_000);

afterAll(async () => {
  await pages.close();
  await browser?.close();
  await allowedHost?.close();
  await refusedHost?.close();
  await platform?.stop();
});

afterEach(() => {
  expect(pages.problems()).toEqual([]);
});

const newPage = (watch?: boolean) => pages.newPage(watch);
const signIn = (page: Page, user: string, roles: string[]) =>
  signInAs(page, platform.origin, TENANT, user, roles);

/** Prints the time from navigation to the page's first meaningful content (never asserted). */
async function printRender(page: Page, what: string, started: number): Promise<void> {
  const paint = await page.evaluate(
    () => performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? Number.NaN,
  );
  process.stdout.write(
    `${what} first meaningful render: ${Date.now() - started} ms (first contentful paint ${Math.round(paint)} ms)\n`,
  );
}

let kim: Page;
let traceId: string;
/** The operation an ask from the console is traced as. */
const OPERATION = 'query Ask';

describe('the knowledge journey in a browser', () => {
  it('uploads a document with a progress bar and follows it live to READY', async () => {
    // Kim writes documents and reads traces.
    kim = await newPage();
    await signIn(kim, 'kim', ['Contributor', 'Auditor']);
    const started = Date.now();
    await goTo(kim, 'Knowledge');
    await kim.getByText('No documents yet.').waitFor();
    await printRender(kim, 'knowledge page', started);
    await kim.getByLabel('Upload documents').setInputFiles({
      name: DOCUMENT,
      mimeType: 'text/markdown',
      buffer: Buffer.from(TEXT),
    });
    const sent = kim.locator(`li[data-upload="${DOCUMENT}"]`);
    // The progress bar fills as the bytes go out; the status then follows documentStatusChanged (this row
    // is updated by pushes only, never by a query).
    await sent.getByText(`Sent ${DOCUMENT}`).waitFor();
    await expect(
      sent.locator('progress').evaluate((p) => (p as unknown as { value: number }).value),
    ).resolves.toBe(1);
    await expect(sent.textContent()).resolves.toContain('100%');
    await sent.getByText('READY').waitFor({ timeout: 120_000 });
    const row = kim.locator(`tr[data-document="${DOCUMENT}"]`);
    await row.getByText('READY').waitFor();
    await expect(row.locator('td').nth(2).textContent()).resolves.toBe('3');
    await checkPage(kim, 'knowledge-uploaded');
  });

  it('searches with the matched words highlighted in the snippets', async () => {
    await kim.getByLabel('Words to find, or a question').fill('receipts');
    await kim.getByRole('button', { name: 'Search', exact: true }).click();
    const hit = kim.getByRole('list', { name: 'search results' }).getByRole('listitem').first();
    await hit.waitFor();
    await expect(hit.locator('mark').first().textContent()).resolves.toMatch(/^receipts$/i);
    await expect(hit.textContent()).resolves.toContain(DOCUMENT);
    await expect(hit.textContent()).resolves.toContain('Expenses');
    await checkPage(kim, 'knowledge-search-marked');
  });

  it('asks: the answer with citations and stage timings, a citation opens the passage in its document', async () => {
    await kim.getByLabel('Words to find, or a question').fill('How much is reimbursed for a hotel night?');
    await kim.getByRole('button', { name: 'Ask', exact: true }).click();
    const answer = kim.getByTestId('answer');
    await answer.waitFor();
    await expect(answer.locator('.answer-text').textContent()).resolves.toMatch(/\[\d+\]/);
    const timings = (await answer.getByTestId('timings').locator('dt').allTextContents()).map((t) =>
      t.trim(),
    );
    expect(timings).toEqual([
      'embedding',
      'keyword',
      'vector',
      'fusion',
      'rerank',
      'passages',
      'generation',
      'total',
    ]);
    const link = answer.getByRole('link', { name: 'Open the trace of this answer' });
    traceId = ((await link.getAttribute('href')) ?? '').split('/').at(-1) ?? '';
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const sources = answer.getByRole('list', { name: 'sources' }).getByRole('listitem');
    await expect(sources.count()).resolves.toBeGreaterThan(0);
    const cited = sources.filter({ hasText: '180 euros' }).first();
    await expect(cited.textContent()).resolves.toContain(DOCUMENT);
    await cited.getByRole('button').click();

    // The cited passage in its document: its neighbours around it in order, the quote marked, focused.
    const inDocument = kim.getByTestId('in-document');
    const passage = kim.getByTestId('cited-passage');
    await passage.waitFor();
    const passages = inDocument.locator('ol.passages > li');
    await expect(passages.count()).resolves.toBe(3);
    await expect(passages.nth(0).textContent()).resolves.toContain('travel desk');
    await expect(passages.nth(2).textContent()).resolves.toContain('security office');
    await expect(passage.textContent()).resolves.toContain('Expenses');
    await expect(passage.locator('mark').textContent()).resolves.toContain('180 euros');
    await expect(
      passage.evaluate((el) => el === (el.ownerDocument as { activeElement: unknown }).activeElement),
    ).resolves.toBe(true);
    await checkPage(kim, 'knowledge-answer-cited');
  });
});

describe('the traces page in a browser', () => {
  it('opens the answer’s trace as a flame graph with its stage spans, by mouse and keyboard', async () => {
    const started = Date.now();
    await kim.getByTestId('answer').getByRole('link', { name: 'Open the trace of this answer' }).click();
    await kim.getByRole('heading', { level: 1, name: /^Trace/ }).waitFor();
    const bars = kim.getByRole('region', { name: /^flame graph/ });
    // Each process flushes its spans about once a second: the page loads the trace again until they are in.
    for (const stage of [
      'knowledge.ask',
      'knowledge.embedding',
      'knowledge.vector',
      'knowledge.generation',
    ]) {
      await bars.locator(`button[data-span="${stage}"]`).first().waitFor({ timeout: 60_000 });
    }
    await printRender(kim, 'flame graph', started);
    // The operation the trace is about: the console's named query, as the gateway's operation span names it.
    await expect(kim.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(`Trace · ${OPERATION}`);
    await expect(kim.getByRole('list', { name: 'services' }).textContent()).resolves.toMatch(
      /gateway.*knowledge|knowledge.*gateway/s,
    );
    // A bar lies inside its parent: the stage starts no earlier and ends no later than knowledge.ask.
    const box = async (name: string) =>
      (await bars.locator(`button[data-span="${name}"]`).first().boundingBox())!;
    const ask = await box('knowledge.ask');
    const generation = await box('knowledge.generation');
    expect(generation.x).toBeGreaterThanOrEqual(ask.x - 1);
    expect(generation.x + generation.width).toBeLessThanOrEqual(ask.x + ask.width + 1);
    expect(generation.y).toBeGreaterThan(ask.y);

    // Hover shows a span's attributes.
    await bars.locator('button[data-span="knowledge.generation"]').first().hover();
    const details = kim.getByTestId('span-details');
    await details.getByRole('heading', { name: 'knowledge.generation' }).waitFor();
    await expect(details.textContent()).resolves.toContain('widgetdc.stage.ms');

    // Keyboard: focus a stage, ↑ to its parent, Enter keeps it selected, ↓ back to its first child.
    await bars.locator('button[data-span="knowledge.embedding"]').first().focus();
    await kim.mouse.move(0, 0);
    await details.getByRole('heading', { name: 'knowledge.embedding' }).waitFor();
    const focused = () =>
      kim.evaluate(
        () =>
          (globalThis as unknown as { document: { activeElement: { dataset: { span?: string } } } }).document
            .activeElement.dataset.span,
      );
    let up = 0;
    while ((await focused()) !== 'knowledge.ask' && up++ < 5) await kim.keyboard.press('ArrowUp');
    await expect(focused()).resolves.toBe('knowledge.ask');
    await kim.keyboard.press('Enter');
    await expect(
      bars.locator('button[data-span="knowledge.ask"]').first().getAttribute('aria-pressed'),
    ).resolves.toBe('true');
    await kim.keyboard.press('ArrowDown');
    await expect(focused()).resolves.not.toBe('knowledge.ask');
    // One tab stop: the bar last focused; the others leave the tab order.
    await expect(bars.locator('button[tabindex="0"]').count()).resolves.toBe(1);
    await kim.keyboard.press('ArrowUp');
    await expect(focused()).resolves.toBe('knowledge.ask');
    // The selected span's details list its children as full-size buttons, which reach even the shortest spans.
    await details
      .getByRole('button', { name: /^knowledge\.generation/ })
      .first()
      .click();
    await expect(focused()).resolves.toBe('knowledge.generation');
    await details.getByRole('heading', { name: 'knowledge.generation' }).waitFor();
    await bars.locator('button[data-span="knowledge.embedding"]').first().focus();
    await checkPage(kim, 'trace-flame-graph');
  });

  it('lists traces with filters, each linking to its flame graph', async () => {
    await goTo(kim, 'Traces');
    await kim.getByLabel('Operation').fill('ask');
    await kim.getByRole('button', { name: 'Apply filters' }).click();
    const row = kim.locator(`tr[data-trace="${traceId}"]`);
    await row.waitFor();
    await expect(row.getByRole('link').textContent()).resolves.toBe(OPERATION);
    await expect(row.textContent()).resolves.toContain('knowledge');
    // The unfiltered rows stay until the filtered page arrives: then every row is an ask.
    await kim
      .locator('tbody tr td:first-child')
      .filter({ hasNotText: /ask/i })
      .first()
      .waitFor({ state: 'detached' });
    for (const listed of await kim.locator('tbody tr td:first-child').allTextContents()) {
      expect(listed.toLowerCase()).toContain('ask');
    }
    await checkPage(kim, 'traces-list');
    await kim.getByLabel('Operation').fill('no-such-operation');
    await kim.getByRole('button', { name: 'Apply filters' }).click();
    await kim.getByText('No traces match these filters.').waitFor();
    await checkPage(kim, 'traces-empty');
    await kim.getByLabel('Operation').fill('');
    await kim.getByRole('button', { name: 'Apply filters' }).click();
    await row.getByRole('link').click();
    await kim.getByRole('heading', { level: 1, name: `Trace · ${OPERATION}` }).waitFor();
  });

  it('tells a Contributor without the Auditor role what the traces page needs', async () => {
    const lee = await newPage();
    await signIn(lee, 'lee', ['Contributor']);
    await goTo(lee, 'Traces');
    await lee
      .getByRole('alert')
      .getByText(/forbidden/i)
      .waitFor();
    await checkPage(lee, 'traces-forbidden');
  });
});

interface GenerationNode {
  id: string;
  purpose: string;
  operation: string;
  model: string;
  userId: string | null;
  userName: string | null;
  totalTokens: number;
  traceId: string | null;
  status: string;
}
interface UsageRowNode {
  userId: string | null;
  model: string | null;
  totalTokens: number;
}

/** The ask's generation, once the recorder has written it (records may be buffered for a moment). */
async function askGeneration(token: string): Promise<GenerationNode> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const { generations } = await platform.graphql<{ generations: { edges: { node: GenerationNode }[] } }>(
      token,
      `{ generations(filter: { purpose: "answer" }, first: 10) { edges { node {
        id purpose operation model userId userName totalTokens traceId status } } } }`,
    );
    const found = generations.edges.map((e) => e.node).find((g) => g.traceId === traceId);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error(`no generation of the ask (trace ${traceId}) was recorded`);
}

describe('usage and generations in a browser', () => {
  let ask: GenerationNode;
  let kimTokens: number;
  const digits = (n: number) => n.toLocaleString('en-US');

  it('shows the asking user’s tokens and the answer’s model in the usage charts and tables', async () => {
    const token = await platform.token('kim', ['Contributor', 'Auditor'], TENANT);
    ask = await askGeneration(token);
    expect(ask).toMatchObject({ operation: 'chat', status: 'SUCCEEDED' });
    // What the page must show, from the API: kim's tokens over the default period (the last 30 days).
    const to = new Date(Date.parse(new Date().toISOString().slice(0, 10)) + 86_400_000);
    const { usage } = await platform.graphql<{ usage: { rows: UsageRowNode[] } }>(
      token,
      'query ($from: DateTime!, $to: DateTime!) { usage(from: $from, to: $to, groupBy: [USER]) { rows { userId model totalTokens } } }',
      { from: new Date(to.getTime() - 30 * 86_400_000).toISOString(), to: to.toISOString() },
    );
    const mine = usage.rows.find((r) => r.userId === ask.userId);
    expect(mine?.totalTokens).toBeGreaterThan(0);
    kimTokens = mine!.totalTokens;

    const started = Date.now();
    await goTo(kim, 'Usage');
    await kim.getByTestId('usage-total').waitFor();
    await printRender(kim, 'usage page', started);
    // The user chart: a bar for kim titled with her tokens, and the chart's text name says it too.
    const userChart = kim.locator('svg[data-chart="user"]');
    const kimBar = userChart.locator(`g[data-bar="${ask.userId}"]`);
    await expect(kimBar.locator('title').textContent()).resolves.toContain(`${digits(kimTokens)} tokens`);
    await expect(userChart.getAttribute('aria-label')).resolves.toMatch(/^Tokens per user: /);
    // The model chart has the answer's model; the tables (behind "Table: …") carry the same numbers.
    const modelBar = kim.locator(`svg[data-chart="model"] g[data-bar="${ask.model}"]`);
    await expect(modelBar.locator('text').first().textContent()).resolves.toBe(
      ask.model.length > 26 ? `${ask.model.slice(0, 25)}…` : ask.model,
    );
    const userFigure = kim.getByTestId('usage-user');
    await userFigure.getByText('Table: tokens per user').click();
    const kimRow = userFigure.getByRole('row').filter({ hasText: ask.userName ?? ask.userId ?? '' });
    await expect(kimRow.locator('td').nth(4).textContent()).resolves.toBe(digits(kimTokens));
    const modelFigure = kim.getByTestId('usage-model');
    await modelFigure.getByText('Table: tokens per model').click();
    await modelFigure.getByRole('rowheader', { name: ask.model, exact: true }).waitFor();
    const dayFigure = kim.getByTestId('usage-day');
    await expect(dayFigure.locator('svg g[data-bar]').count()).resolves.toBe(30);
    // Cost instead of tokens: the same charts in dollars (the extractive answerer costs nothing).
    await kim.getByLabel('Cost (USD)').check();
    await expect(userChart.getAttribute('aria-label')).resolves.toMatch(/^Cost per user: /);
    await expect(kimBar.locator('title').textContent()).resolves.toMatch(/: \$\d/);
    await kim.getByLabel('Tokens', { exact: true }).check();
    // An Auditor reads the budgets but cannot set one.
    await kim.getByRole('heading', { name: 'Monthly token budgets' }).waitFor();
    await expect(kim.getByRole('button', { name: 'Save budget' }).count()).resolves.toBe(0);
    await checkPage(kim, 'usage');
    // A period with no calls says what to do.
    await kim.getByLabel('First day (UTC)').fill('2020-01-01');
    await kim.getByLabel('Last day (UTC)').fill('2020-01-31');
    await kim.getByRole('button', { name: 'Show usage' }).click();
    await kim.getByText('No LLM calls recorded in this period.').waitFor();
    await expect(kim.getByText(/Ask a question on the Knowledge page/).count()).resolves.toBe(1);
    await checkPage(kim, 'usage-empty');
  });

  it('lists the ask’s generation; its detail has input, output, tokens, timing and the link to its trace', async () => {
    // From the usage table: the model's name opens the generations list filtered to it.
    await goTo(kim, 'Generations');
    await goTo(kim, 'Usage');
    const modelFigure = kim.getByTestId('usage-model');
    await modelFigure.getByText('Table: tokens per model').click();
    await modelFigure.getByRole('link', { name: ask.model, exact: true }).click();
    await kim.getByRole('heading', { level: 1, name: 'Generations' }).waitFor();
    expect(new URL(kim.url()).search).toBe(`?model=${encodeURIComponent(ask.model)}`);
    await expect(kim.getByLabel('Model').inputValue()).resolves.toBe(ask.model);
    const row = kim.locator(`tr[data-generation="${ask.id}"]`);
    await row.waitFor();
    for (const listed of await kim.locator('tbody tr td:nth-child(3)').allTextContents())
      expect(listed).toContain(ask.model);
    await goTo(kim, 'Generations');
    await expect(kim.getByLabel('Model').inputValue()).resolves.toBe('');
    await row.waitFor();
    await expect(row.textContent()).resolves.toContain(ask.model);
    await expect(row.textContent()).resolves.toContain('chat · answer');
    await checkPage(kim, 'generations-list');
    // Failed calls, one click away: none on the offline defaults, and the page says so.
    await kim.getByRole('button', { name: 'Failed calls only' }).click();
    await kim.getByText('No generations match these filters.').waitFor();
    await expect(
      kim.getByRole('button', { name: 'Failed calls only' }).getAttribute('aria-pressed'),
    ).resolves.toBe('true');
    await kim.getByRole('button', { name: 'Failed calls only' }).click();
    // The model filter keeps the ask.
    await kim.getByLabel('Model').fill(ask.model);
    await kim.getByRole('button', { name: 'Apply filters' }).click();
    await row.waitFor();
    await row.getByRole('link').click();
    await kim.getByRole('heading', { level: 1, name: 'Generation · chat · answer' }).waitFor();
    const facts = kim.getByTestId('generation-facts');
    await expect(facts.textContent()).resolves.toContain(`${digits(ask.totalTokens)} total`);
    await expect(kim.getByTestId('generation-summary').textContent()).resolves.toContain('SUCCEEDED');
    // The input has the question; the output is the answer the page showed.
    await expect(
      kim
        .getByRole('region', { name: /message$/ })
        .last()
        .textContent(),
    ).resolves.toContain('How much is reimbursed for a hotel night?');
    await expect(kim.getByRole('region', { name: 'output' }).textContent()).resolves.toContain('180');
    await checkPage(kim, 'generation-detail');
    // The same trace as the answer's, as a flame graph.
    await kim.getByRole('link', { name: 'Open the trace of this call (flame graph)' }).click();
    await kim.getByRole('heading', { level: 1, name: `Trace · ${OPERATION}` }).waitFor();
    expect(new URL(kim.url()).pathname).toBe(`/console/traces/${traceId}`);
  });

  it('lets an Admin set a tenant budget, shows validation errors, and the use against the limit', async () => {
    const ada = await newPage();
    await signIn(ada, 'ada', ['Admin']);
    await goTo(ada, 'Usage');
    await ada.getByText('No token budgets are set: calls are not limited.').waitFor();
    const limit = ada.getByLabel('Tokens a month (empty: remove the budget)');
    // The form refuses what is not a whole number; the server refuses what is out of range, and says why.
    await limit.fill('lots');
    await ada.getByRole('button', { name: 'Save budget' }).click();
    await ada
      .getByRole('alert')
      .getByText(/Enter a whole number of tokens/)
      .waitFor();
    await expect(limit.getAttribute('aria-invalid')).resolves.toBe('true');
    await limit.fill('-5');
    await ada.getByRole('button', { name: 'Save budget' }).click();
    await ada
      .getByRole('alert')
      .getByText(/bad user input/i)
      .waitFor();
    await checkPage(ada, 'usage-budget-invalid');
    await limit.fill('1000000');
    await ada.getByRole('button', { name: 'Save budget' }).click();
    await ada
      .getByRole('status')
      .getByText('Saved: 1,000,000 tokens a month for the whole tenant.')
      .waitFor();
    const budget = ada.locator('tr[data-budget=""]');
    await budget.waitFor();
    await expect(budget.locator('td').nth(2).textContent()).resolves.toBe('1,000,000');
    const used = Number((await budget.locator('td').nth(1).textContent())?.replaceAll(',', ''));
    expect(used).toBeGreaterThanOrEqual(kimTokens);
    await expect(budget.getByRole('meter').getAttribute('aria-label')).resolves.toMatch(
      /^Whole tenant: \d+% of the budget used$/,
    );
    await checkPage(ada, 'usage-budget');
    // Removing it: the empty form value.
    await limit.fill('');
    await ada.getByRole('button', { name: 'Save budget' }).click();
    await ada.getByRole('status').getByText('Removed the budget of the whole tenant.').waitFor();
    await ada.getByText('No token budgets are set: calls are not limited.').waitFor();
  });

  it('tells a Contributor without the Auditor role what the usage and generations pages need', async () => {
    const lee = await newPage();
    await signIn(lee, 'lee', ['Contributor']);
    for (const label of ['Usage', 'Generations']) {
      await goTo(lee, label);
      await lee
        .getByRole('alert')
        .getByText(/forbidden/i)
        .first()
        .waitFor();
    }
    await checkPage(lee, 'generations-forbidden');
  });
});

/** A host page server on its own origin. */
interface Host {
  origin: string;
  close(): Promise<void>;
}

/**
 * Serves an enterprise page that embeds the widget under a strict CSP: scripts only from itself and the
 * gateway, connections only to itself and the gateway, no inline code or styles. The widget module comes
 * from the gateway (`gateway`) or is a copy the host serves itself (`self`, so only the API calls cross
 * origins). Tokens come from the host's own backend (`/token`), as a host's sign-in would give them.
 */
async function startHost(port: number, widgetFrom: 'gateway' | 'self'): Promise<Host> {
  const gateway = platform.origin;
  const widgetUrl =
    widgetFrom === 'gateway' ? `${gateway}/console/widgetdc-approvals.js` : '/widgetdc-approvals.js';
  const csp = [
    "default-src 'none'",
    `script-src 'self' ${gateway}`,
    `connect-src 'self' ${gateway} ${gateway.replace(/^http/, 'ws')}`,
    "style-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  const html = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Initech operations</title>
    <link rel="icon" href="data:," />
    <script type="module" src="${widgetUrl}"></script>
    <script type="module" src="/host.js"></script>
  </head>
  <body>
    <main>
      <h1>Initech operations</h1>
      <widgetdc-approvals heading="Agent actions waiting for you"></widgetdc-approvals>
      <h2>Decisions made here</h2>
      <ul id="decisions" aria-live="polite"></ul>
    </main>
  </body>
</html>`;
  const script = `
const widget = document.querySelector('widgetdc-approvals');
globalThis.decided = [];
widget.addEventListener('approval-decided', (event) => {
  globalThis.decided.push(event.detail);
  const item = document.createElement('li');
  item.textContent = event.detail.decision + ' ' + event.detail.id + ' ' + event.detail.status;
  document.getElementById('decisions').append(item);
});
widget.endpoint = ${JSON.stringify(`${gateway}/graphql`)};
widget.tokenProvider = async () => (await fetch('/token')).text();
`;
  const server: Server = createServer((req, res) => {
    const send = (type: string, body: string) =>
      res.writeHead(200, { 'content-type': type, 'content-security-policy': csp }).end(body);
    if (req.url === '/') return send('text/html; charset=utf-8', html);
    if (req.url === '/host.js') return send('text/javascript', script);
    if (req.url === '/token') {
      void platform.token('ann', ['Approver'], TENANT).then((token) => send('text/plain', token));
      return;
    }
    if (req.url === '/widgetdc-approvals.js' && widgetFrom === 'self') {
      void fetch(`${gateway}/console/widgetdc-approvals.js`)
        .then((r) => r.text())
        .then((body) => send('text/javascript', body));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

async function createApprovalTask(goal: string, to: string): Promise<string> {
  const token = await platform.token('carl', ['Contributor'], TENANT);
  const created = await platform.graphql<{ createTask: { id: string } }>(
    token,
    'mutation ($input: CreateTaskInput!) { createTask(input: $input) { id } }',
    {
      input: { goal, steps: [{ tool: 'email.send', input: { to: [to], subject: 'Q3', body: 'Attached' } }] },
    },
  );
  return created.createTask.id;
}

describe('the widget embedded by a host on another origin', () => {
  it('lists a pending approval and decides it under the host’s strict CSP, with CORS_ORIGINS naming the host', async () => {
    const taskId = await createApprovalTask('Mail the auditors', 'audit@example.com');
    const host = await newPage();
    const started = Date.now();
    await host.goto(`${allowedHost.origin}/`);
    const item = host.locator('widgetdc-approvals li', { hasText: 'Mail the auditors' });
    await item.waitFor();
    await printRender(host, 'cross-origin widget', started);
    await expect(item.textContent()).resolves.toContain('audit@example.com');
    await checkPage(host, 'widget-cross-origin');
    await item.getByLabel('Comment').fill('Checked from Initech');
    await item.getByRole('button', { name: 'Approve' }).click();
    await item.waitFor({ state: 'detached' });

    const decided = (await host.evaluate(
      () => (globalThis as unknown as { decided: unknown[] }).decided,
    )) as {
      id: string;
      decision: string;
      status: string;
      comment: string;
    }[];
    expect(decided).toHaveLength(1);
    expect(decided[0]).toMatchObject({
      decision: 'APPROVE',
      status: 'APPROVED',
      comment: 'Checked from Initech',
    });
    const token = await platform.token('carl', ['Contributor'], TENANT);
    const state = await platform.graphql<{
      approvalRequest: { status: string; decidedBy: string; task: { id: string } };
    }>(token, 'query ($id: ID!) { approvalRequest(id: $id) { status decidedBy task { id } } }', {
      id: decided[0]!.id,
    });
    expect(state.approvalRequest).toEqual({
      status: 'APPROVED',
      decidedBy: `ann@${TENANT}.dev.widgetdc`,
      task: { id: taskId },
    });
  });

  it('is refused on a host origin CORS_ORIGINS does not name', async () => {
    await createApprovalTask('Mail the press', 'press@example.com');
    const host = await newPage(false);
    const messages: string[] = [];
    host.on('console', (message) => messages.push(message.text()));
    await host.goto(`${refusedHost.origin}/`);
    // The widget (a copy the host serves) runs, but the browser refuses the gateway's answers to it.
    await host.locator('widgetdc-approvals p.error', { hasText: 'Could not load approvals' }).waitFor();
    await expect(host.locator('widgetdc-approvals li').count()).resolves.toBe(0);
    expect(messages.join('\n')).toMatch(/blocked by CORS policy/);
    expect(messages.join('\n')).not.toMatch(/Content Security Policy/);
    await screenshot(host, 'widget-refused-origin');
    // What the browser saw: a preflight from that origin gets no CORS headers, one from the allowed host does.
    const preflight = (origin: string) =>
      fetch(`${platform.origin}/graphql`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
    const refused = await preflight(refusedHost.origin);
    expect(refused.headers.get('access-control-allow-origin')).toBeNull();
    const allowed = await preflight(allowedHost.origin);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(allowedHost.origin);
  });
});
