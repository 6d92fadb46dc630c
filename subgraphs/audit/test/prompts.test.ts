// prompts and setPrompt: versions counted per tenant and name from 1, the built-in version 0 beside
// them, templates validated against the prompt's variables, tenant isolation, and the audit record.
import type { Identity } from '#kernel/auth/identity.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { BUILT_IN_PROMPTS } from '#llm/prompts/built-in.ts';
import { currentPrompt } from '#llm/prompts/prompt-store.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { auditSubgraph } from '../src/subgraph.ts';

let db: TestDatabase;
let audit: SubgraphHarness;
let admin: Identity;
let auditor: Identity;
let stranger: Identity;

const PROMPTS = `query ($name: String) { prompts(name: $name) { name version system user comment createdBy at builtIn current } }`;
const SET = `mutation ($input: SetPromptInput!) { setPrompt(input: $input) { name version system user comment createdBy builtIn current } }`;
const EVENTS = `query { auditEvents(filter: { action: "audit.setPrompt" }) { edges { node { actor action targetType targetId outcome inputSummary } } } }`;

const answerInput = (system: string, comment?: string) => ({
  name: 'knowledge.answer',
  system,
  user: 'Question: {{question}}\n\nSources:\n{{sources}}',
  ...(comment ? { comment } : {}),
});

beforeAll(async () => {
  db = await createTestDatabase();
  audit = await createSubgraphHarness(auditSubgraph, db);
  admin = await audit.identity('acme', 'ada', ['Admin']);
  auditor = await audit.identity('acme', 'audrey', ['Auditor']);
  stranger = await audit.identity('umbrella', 'mallory', ['Admin']);
});
afterAll(async () => {
  await audit?.close();
  await db?.close();
});

describe('prompts', () => {
  it('lists the built-in version 0 of every prompt as current before a tenant stores one', async () => {
    const res = await audit.execute(auditor, PROMPTS);
    expect(res.errors).toBeUndefined();
    expect(res.data?.prompts).toEqual(
      [...BUILT_IN_PROMPTS.values()].map((p) => ({
        name: p.name,
        version: 0,
        system: p.system,
        user: p.user,
        comment: null,
        createdBy: null,
        at: null,
        builtIn: true,
        current: true,
      })),
    );
  });

  it('stores versions 1, 2, … of a prompt; the newest is current', async () => {
    const first = await audit.execute(admin, SET, {
      input: answerInput('Answer from the sources. v1', 'first'),
    });
    expect(first.errors).toBeUndefined();
    expect(first.data?.setPrompt).toMatchObject({
      name: 'knowledge.answer',
      version: 1,
      system: 'Answer from the sources. v1',
      comment: 'first',
      createdBy: 'ada@acme',
      builtIn: false,
      current: true,
    });
    const second = await audit.execute(admin, SET, { input: answerInput('Answer from the sources. v2') });
    expect(second.data?.setPrompt).toMatchObject({ version: 2, comment: null, current: true });

    const listed = await audit.execute(auditor, PROMPTS, { name: 'knowledge.answer' });
    expect(listed.errors).toBeUndefined();
    const rows = listed.data?.prompts as {
      version: number;
      current: boolean;
      builtIn: boolean;
      at: string | null;
    }[];
    expect(rows.map((r) => [r.version, r.current, r.builtIn])).toEqual([
      [2, true, false],
      [1, false, false],
      [0, false, true],
    ]);
    expect(rows[0]!.at).toMatch(/^\d{4}-\d\d-\d\dT/);
    // What the renderers read: the same current version, through the tenant's own transaction.
    const current = await withTenant(audit.orm, admin.tenantId, (em) =>
      currentPrompt(em, 'knowledge.answer'),
    );
    expect(current).toMatchObject({ version: 2, system: 'Answer from the sources. v2' });
  });

  it('refuses a template with an unknown placeholder, naming it and the variables allowed', async () => {
    const res = await audit.execute(admin, SET, {
      input: {
        name: 'knowledge.answer',
        system: 'Be brief, {{persona}}.',
        user: '{{question}} {{ context }}',
      },
    });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.message).toBe(
      'The system template uses unknown placeholder {{persona}}; it may use {{question}}, {{sources}}',
    );
    const user = await audit.execute(admin, SET, {
      input: {
        name: 'agent.planner',
        system: 'Plan for {{owner}}.',
        user: '{{goal}} with {{ context }} and {{}}',
      },
    });
    expect(user.errors?.[0]?.message).toBe(
      'The user template uses unknown placeholders {{context}}, {{}}; it may use {{goal}}, {{owner}}, {{tools}}',
    );
    const unknown = await audit.execute(admin, SET, {
      input: { name: 'knowledge.summary', system: 'x', user: 'y' },
    });
    expect(unknown.errors?.[0]?.message).toBe(
      'There is no prompt named "knowledge.summary"; the prompts are knowledge.answer, agent.planner',
    );
    // Nothing was stored by the refusals.
    const listed = await audit.execute(auditor, PROMPTS, { name: 'agent.planner' });
    expect((listed.data!.prompts as { version: number }[]).map((p) => p.version)).toEqual([0]);
  });

  it('keeps each tenant’s versions to itself', async () => {
    const theirs = await audit.execute(stranger, SET, {
      input: { name: 'knowledge.answer', system: 'Umbrella rules.', user: '{{question}}\n{{sources}}' },
    });
    // The other tenant's versions do not count: theirs is their version 1.
    expect(theirs.data?.setPrompt).toMatchObject({ version: 1, system: 'Umbrella rules.' });
    const mine = await audit.execute(auditor, PROMPTS, { name: 'knowledge.answer' });
    expect((mine.data!.prompts as { system: string }[]).map((p) => p.system)).not.toContain(
      'Umbrella rules.',
    );
    const listed = await audit.execute(stranger, PROMPTS, { name: 'knowledge.answer' });
    expect(
      (listed.data!.prompts as { version: number; system: string }[]).map((p) => [p.version, p.system]),
    ).toEqual([
      [1, 'Umbrella rules.'],
      [0, BUILT_IN_PROMPTS.get('knowledge.answer')!.system],
    ]);
  });

  it('lets only an Admin store a version', async () => {
    const res = await audit.execute(auditor, SET, { input: answerInput('An auditor tries.') });
    expect(res.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const listed = await audit.execute(auditor, PROMPTS, { name: 'knowledge.answer' });
    expect((listed.data!.prompts as { system: string }[]).map((p) => p.system)).not.toContain(
      'An auditor tries.',
    );
  });

  it('audits every setPrompt: who stored which version, and the refusals', async () => {
    const res = await audit.execute(auditor, EVENTS);
    expect(res.errors).toBeUndefined();
    const events = (res.data!.auditEvents as { edges: { node: Record<string, string> }[] }).edges.map(
      (e) => e.node,
    );
    const stored = events.filter((e) => e.outcome === 'SUCCESS');
    expect(stored.map((e) => [e.actor, e.targetType, e.targetId])).toEqual([
      ['ada@acme', 'Prompt', 'knowledge.answer@2'],
      ['ada@acme', 'Prompt', 'knowledge.answer@1'],
    ]);
    expect(events.filter((e) => e.outcome === 'FAILED')).toHaveLength(3);
    expect(events.filter((e) => e.outcome === 'DENIED').map((e) => e.actor)).toEqual(['audrey@acme']);
  });

  it('never lets the application change or remove a stored version', async () => {
    for (const statement of [
      `update observability.prompts set system = 'changed'`,
      'delete from observability.prompts',
    ]) {
      await expect(withTenant(audit.orm, admin.tenantId, (em) => em.execute(statement))).rejects.toThrow(
        /permission denied/,
      );
    }
    const current = await withTenant(audit.orm, admin.tenantId, (em) =>
      currentPrompt(em, 'knowledge.answer'),
    );
    expect(current.system).toBe('Answer from the sources. v2');
  });
  it('gives concurrent versions of one prompt their own numbers', async () => {
    const results = await Promise.all(
      [1, 2, 3].map((n) =>
        audit.execute(admin, SET, {
          input: { name: 'agent.planner', system: `Plan ${n} for {{owner}}.`, user: '{{goal}}' },
        }),
      ),
    );
    expect(results.map((r) => r.errors)).toEqual([undefined, undefined, undefined]);
    const versions = results.map((r) => (r.data!.setPrompt as { version: number }).version);
    expect(versions.sort()).toEqual([1, 2, 3]);
  });
});
