import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Identity } from '#kernel/auth/identity.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import { createSubgraphHarness, type SubgraphHarness } from '#testing/subgraph-harness.ts';
import { createTestDatabase, type TestDatabase } from '#testing/test-database.ts';
import { loadAgentConfig } from '../../src/config.ts';
import { createAgentSubgraph } from '../../src/subgraph.ts';
import { builtInTools } from '../../src/tools/built-in.ts';
import type { ToolRegistry } from '../../src/tools/registry.ts';

let db: TestDatabase;
let agent: SubgraphHarness;
let tools: ToolRegistry;
let alice: Identity;
let carol: Identity;
let server: Server;
let host: string;
const seen: { url: string; key: string | undefined }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', key: req.headers['idempotency-key'] as string | undefined });
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`hello from ${req.url}`);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = loadAgentConfig({ AGENT_HTTP_ALLOWED_HOSTS: host, AGENT_HTTP_MAX_BYTES: '12' });
  tools = builtInTools(config);
  db = await createTestDatabase();
  agent = await createSubgraphHarness(createAgentSubgraph(config, tools), db);
  alice = await agent.identity('acme', 'alice', ['Admin']);
  carol = await agent.identity('acme', 'carol', ['Contributor']);
});
afterAll(async () => {
  await agent?.close();
  await db?.close();
  await new Promise((r) => server?.close(r));
});

const TOOLS = '{ tools { name riskLevel defaultRiskLevel requiresApproval approvers inputSchema } }';
const SET =
  'mutation ($rules: [ToolRuleInput!]!) { setToolPolicy(rules: $rules) { version createdBy rules { tool riskLevel requireApproval approvers } } }';

const context = (who: Identity, key: string, signal = new AbortController().signal) => ({
  tenantId: who.tenantId,
  taskId: crypto.randomUUID(),
  idempotencyKey: key,
  owner: { id: who.subjectId, name: who.displayName },
  signal,
});

describe('tools through the agent subgraph', () => {
  it('lists the built-in tools with their classes and input schemas', async () => {
    const result = await agent.execute(carol, TOOLS);
    const list = result.data?.tools as { name: string; riskLevel: string; requiresApproval: boolean }[];
    expect(list.map((t) => [t.name, t.riskLevel, t.requiresApproval])).toEqual([
      ['email.send', 'HIGH', true],
      ['http.get', 'SAFE', false],
      ['notes.create', 'MEDIUM', false],
      ['notes.delete', 'HIGH', true],
      ['notes.update', 'MEDIUM', false],
    ]);
    expect(result.data?.tools).toContainEqual(
      expect.objectContaining({
        name: 'http.get',
        inputSchema: expect.objectContaining({ required: ['url'] }),
      }),
    );
  });

  it('lets an Admin tighten the policy in audited versions, never lower HIGH, and refuses Contributors', async () => {
    const denied = await agent.execute(carol, SET, { rules: [{ tool: 'http.get', riskLevel: 'HIGH' }] });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const lowered = await agent.execute(alice, SET, { rules: [{ tool: 'email.send', riskLevel: 'MEDIUM' }] });
    expect(lowered.errors?.[0]).toMatchObject({
      message: "rules.0: email.send is HIGH; a policy may raise a tool's class, never lower it to MEDIUM",
      extensions: { code: 'BAD_USER_INPUT' },
    });
    const unknown = await agent.execute(alice, SET, { rules: [{ tool: 'rm.rf' }] });
    expect(unknown.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const v1 = await agent.execute(alice, SET, {
      rules: [
        { tool: 'notes.create', requireApproval: true, approvers: 2 },
        { tool: 'http.get', riskLevel: 'MEDIUM' },
      ],
    });
    expect(v1.data?.setToolPolicy).toEqual({
      version: 1,
      createdBy: 'alice@acme',
      rules: [
        { tool: 'notes.create', riskLevel: null, requireApproval: true, approvers: 2 },
        { tool: 'http.get', riskLevel: 'MEDIUM', requireApproval: false, approvers: 1 },
      ],
    });
    const list = (await agent.execute(carol, TOOLS)).data?.tools as { name: string }[];
    expect(list.find((t) => t.name === 'notes.create')).toMatchObject({
      requiresApproval: true,
      approvers: 2,
    });
    expect(list.find((t) => t.name === 'http.get')).toMatchObject({
      riskLevel: 'MEDIUM',
      defaultRiskLevel: 'SAFE',
    });
    const v2 = await agent.execute(alice, SET, { rules: [] });
    expect((v2.data!.setToolPolicy as { version: number }).version).toBe(2);
    expect((await agent.execute(carol, '{ toolPolicy { version rules { tool } } }')).data).toEqual({
      toolPolicy: { version: 2, rules: [] },
    });
    const audited = await db.asSuperuser<{ outcome: string }>(
      "select outcome from audit.audit_events where action = 'agent.setToolPolicy' order by seq",
    );
    expect(audited.map((r) => r.outcome)).toEqual(['denied', 'failed', 'failed', 'success', 'success']);
  });

  it('refuses a plan with an unknown tool or invalid input, naming the step', async () => {
    const create =
      'mutation ($steps: [TaskStepInput!]) { createTask(input: { goal: "g", steps: $steps }) { id } }';
    const unknown = await agent.execute(carol, create, { steps: [{ tool: 'shell.exec', input: {} }] });
    expect(unknown.errors?.[0]?.message).toMatch(
      /^unknown tool "shell.exec"; known tools: email.send, http.get/,
    );
    const invalid = await agent.execute(carol, create, {
      steps: [
        { tool: 'notes.create', input: { title: 'ok' } },
        { tool: 'email.send', input: { to: ['not-an-address'], subject: 's', body: 'b' } },
      ],
    });
    expect(invalid.errors?.[0]).toMatchObject({
      message: 'steps.1.input.to.0: must be an e-mail address (tool email.send)',
      extensions: { code: 'BAD_USER_INPUT', field: 'steps.1.input.to.0' },
    });
  });

  it('http.get reads allow-listed hosts only, bounded, without following redirects', async () => {
    const get = tools.get('http.get');
    const out = await withTenant(agent.orm, alice.tenantId, (em) =>
      get.run({ url: `http://${host}/status` }, { em, ...context(alice, 'step:k1') }),
    );
    expect(out).toEqual({ status: 200, contentType: 'text/plain', body: 'hello from /', truncated: true });
    expect(seen.at(-1)).toEqual({ url: '/status', key: 'step:k1' });
    await expect(
      withTenant(agent.orm, alice.tenantId, (em) =>
        get.run({ url: 'http://169.254.169.254/latest/meta-data' }, { em, ...context(alice, 'step:k2') }),
      ),
    ).rejects.toThrow('http.get may not reach 169.254.169.254: it is not in AGENT_HTTP_ALLOWED_HOSTS');
    const aborted = new AbortController();
    aborted.abort(new Error('stop'));
    await expect(
      withTenant(agent.orm, alice.tenantId, (em) =>
        get.run({ url: `http://${host}/slow` }, { em, ...context(alice, 'step:k3', aborted.signal) }),
      ),
    ).rejects.toThrow('stop');
  });

  it('email.send offline stores the mail once per idempotency key; the owner lists it', async () => {
    const send = tools.get('email.send');
    const mail = { to: ['ops@example.com'], subject: 'Quarterly numbers', body: 'Attached.' };
    const first = await withTenant(agent.orm, alice.tenantId, (em) =>
      send.run(mail, { em, ...context(alice, 'step:mail-1') }),
    );
    const again = await withTenant(agent.orm, alice.tenantId, (em) =>
      send.run(mail, { em, ...context(alice, 'step:mail-1') }),
    );
    expect(again).toEqual({ mailId: first.mailId, transport: 'offline', repeated: true });
    const listed = await agent.execute(alice, '{ sentMails { id to subject transport } }');
    expect(listed.data?.sentMails).toEqual([
      { id: first.mailId, to: ['ops@example.com'], subject: 'Quarterly numbers', transport: 'offline' },
    ]);
    expect((await agent.execute(carol, '{ sentMails { id } }')).data?.sentMails).toEqual([]);
  });
});
