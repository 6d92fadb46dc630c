// A failed chat replayed from the console, in headless Chromium against a real `npm start` whose chat model
// is a local server speaking OpenAI's protocol (the platform's client is the real one): the ask's model call
// is refused, the Generations page lists it one click away ("Failed calls only"), its record shows the error,
// and an Admin replays it with the built-in prompt version and another model: the old and the new output side
// by side, the replay linked to the original. Every page passes axe-core; screenshots go to console/test/screenshots.
import type { Browser, Page } from 'playwright-core';
import { type FakeChatServer, reply, startFakeChatServer } from '#testing/fake-chat-server.ts';
import { launch } from './support/browser.ts';
import { checkPage, goTo, pagesOf, signIn } from './support/pages.ts';
import { type Platform, startPlatform } from './support/platform.ts';

const TENANT = 'umbrella';
const ANSWER = 'Hotel nights are reimbursed up to 180 euros [1].';

let platform: Platform;
let fake: FakeChatServer;
let browser: Browser;
const pages = pagesOf(() => browser);

beforeAll(async () => {
  // Every call the queue does not script gets the answer; the first ask is refused (400 is not retried).
  fake = await startFakeChatServer(
    reply.answer({ pieces: [ANSWER], usage: { prompt_tokens: 120, completion_tokens: 14 } }),
  );
  platform = await startPlatform({
    LLM_PROVIDER: 'openai',
    LLM_ENDPOINT: fake.baseUrl,
    LLM_API_KEY: 'sk-test',
    LLM_MODEL: 'gpt-4o-mini',
  });
  browser = await launch();
}, 600_000);

afterAll(async () => {
  await pages.close();
  await browser?.close();
  await platform?.stop();
  await fake?.close();
});

afterEach(() => {
  expect(pages.problems()).toEqual([]);
});

/** Uploads a document through the API and waits until it is READY. */
async function uploadPolicy(token: string): Promise<void> {
  const { ingestDocument } = await platform.graphql<{ ingestDocument: { id: string } }>(
    token,
    'mutation ($input: IngestDocumentInput!) { ingestDocument(input: $input) { id status } }',
    {
      input: {
        title: 'hotel-policy.md',
        mimeType: 'text/markdown',
        text: '# Hotels\n\nHotel costs are reimbursed up to 180 euros a night. Receipts are uploaded within thirty days.\n',
      },
    },
  );
  for (let attempt = 0; attempt < 120; attempt++) {
    const { document } = await platform.graphql<{ document: { status: string } }>(
      token,
      'query ($id: ID!) { document(id: $id) { status } }',
      { id: ingestDocument.id },
    );
    if (document.status === 'READY') return;
    if (document.status === 'FAILED') throw new Error('the policy failed to ingest');
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error('the policy did not become READY');
}

let admin: Page;

describe('a failed chat replayed from the console', () => {
  it('lists the failed ask one click away and shows its error', async () => {
    const token = await platform.token('rita', ['Contributor', 'Admin', 'Auditor'], TENANT);
    await uploadPolicy(token);
    fake.enqueue(reply.status(400, {}, 'This model’s maximum context length was exceeded'));
    await expect(
      platform.graphql(token, 'query ($q: String!) { ask(question: $q) { text } }', {
        q: 'How much is a hotel night?',
      }),
    ).rejects.toThrow();

    admin = await pages.newPage();
    await signIn(admin, platform.origin, TENANT, 'rita', ['Contributor', 'Admin', 'Auditor']);
    await goTo(admin, 'Generations');
    await admin.getByRole('button', { name: 'Failed calls only' }).click();
    const failed = admin.locator('tbody tr', { hasText: 'chat · answer' });
    // The record may be written a moment after the call: the filter is applied again until it is listed.
    for (let attempt = 0; attempt < 30 && (await failed.count()) === 0; attempt++) {
      await admin.waitForTimeout(500);
      await admin.getByRole('button', { name: 'Apply filters' }).click();
    }
    await expect(failed.count()).resolves.toBe(1);
    await expect(failed.textContent()).resolves.toContain('FAILED');
    await expect(failed.textContent()).resolves.toContain('gpt-4o-mini');
    await checkPage(admin, 'generations-failed');
    await failed.getByRole('link').click();
    await admin.getByRole('heading', { level: 1, name: 'Generation · chat · answer' }).waitFor();
    await expect(admin.getByRole('note').textContent()).resolves.toContain('maximum context length');
    await expect(admin.getByTestId('generation-facts').textContent()).resolves.toContain(
      'knowledge.answer v0',
    );
    await admin
      .getByRole('region', { name: /message$/ })
      .first()
      .waitFor();
  });

  it('replays it with the built-in prompt and another model: the old and the new output side by side', async () => {
    await admin.getByLabel('Prompt version').selectOption({ label: 'v0 (built in) (current)' });
    await admin.getByLabel(/^Model \(empty: gpt-4o-mini\)/).fill('gpt-4.1-mini');
    await admin.getByRole('button', { name: 'Replay', exact: true }).click();
    const result = admin.getByTestId('replay-result');
    await result.waitFor();
    await expect(result.getByRole('region', { name: 'original output' }).textContent()).resolves.toBe(
      '(no output)',
    );
    await expect(result.getByRole('region', { name: 'replay output' }).textContent()).resolves.toBe(ANSWER);
    await expect(result.textContent()).resolves.toContain('Replay · gpt-4.1-mini · v0');
    await expect(result.textContent()).resolves.toContain('SUCCEEDED');
    // The model was asked for the chosen model with the re-rendered prompt.
    expect(fake.requests.at(-1)?.body.model).toBe('gpt-4.1-mini');
    await checkPage(admin, 'generation-replayed');
    // The original lists its replay; the replay links back to it.
    await admin.getByRole('heading', { name: 'Replays' }).waitFor();
    await result.getByRole('link', { name: 'open the replay' }).click();
    await admin.getByRole('heading', { level: 1, name: 'Generation · chat · replay' }).waitFor();
    await expect(admin.getByTestId('generation-summary').textContent()).resolves.toContain('SUCCEEDED');
    await admin.getByRole('link', { name: 'the original call' }).click();
    await admin.getByRole('heading', { level: 1, name: 'Generation · chat · answer' }).waitFor();
  });
});
