import { z } from 'zod';
import { callDigest } from '#contracts/call-digest.ts';
import { ForbiddenError, ValidationError } from '#kernel/errors.ts';
import { loadAgentConfig } from '../../src/config.ts';
import { ToolPolicy } from '../../src/domain/tool-policy.entity.ts';
import { hostAllowed } from '../../src/tools/http-get.ts';
import { ToolRegistry } from '../../src/tools/registry.ts';
import { defineTool, inputSchemaOf } from '../../src/tools/tool.ts';

const unclassified = defineTool({
  name: 'mystery.tool',
  description: 'has no class',
  input: z.object({}),
  run: async () => ({}),
});
const echo = defineTool({
  name: 'test.echo',
  description: 'echoes',
  riskLevel: 'SAFE',
  input: z.object({ text: z.string().max(5), times: z.number().int().min(1).default(1) }),
  run: async (input) => ({ ...input }),
});

describe('tool registry', () => {
  const registry = new ToolRegistry([unclassified, echo]);

  it('refuses to run a tool without a risk class', () => {
    expect(() => registry.check('mystery.tool', {})).toThrow(ForbiddenError);
    expect(() => registry.check('mystery.tool', {})).toThrow(
      'tool mystery.tool has no risk class, so it cannot run',
    );
  });

  it('validates input against the schema and names the path', () => {
    expect(registry.check('test.echo', { text: 'hi' }).input).toEqual({ text: 'hi', times: 1 });
    expect(() => registry.check('test.echo', { text: 'too long' }, 'steps.0.input')).toThrow(
      /^steps\.0\.input\.text: .*5.* \(tool test\.echo\)$/,
    );
    expect(() => registry.check('nope', {})).toThrow(ValidationError);
    expect(() => registry.check('nope', {})).toThrow(
      'unknown tool "nope"; known tools: mystery.tool, test.echo',
    );
  });

  it('publishes the input as JSON Schema', () => {
    expect(inputSchemaOf(echo)).toMatchObject({
      type: 'object',
      properties: { text: { type: 'string', maxLength: 5 } },
      required: ['text'],
    });
  });

  it('refuses a tool registered twice and a malformed name', () => {
    expect(() => registry.register(echo)).toThrow('tool test.echo is registered twice');
    expect(() => defineTool({ ...echo, name: 'Bad Name' })).toThrow(/dot-separated lowercase/);
  });
});

describe('tool policy', () => {
  const alice = {
    tenantId: '00000000-0000-4000-8000-000000000001',
    subjectId: '00000000-0000-4000-8000-000000000002',
    kind: 'user' as const,
    displayName: 'alice',
    roles: ['Admin'],
    scopes: [],
  };
  const base = ToolPolicy.initial(alice.tenantId);
  const classOf = (tool: string) =>
    tool === 'email.send' ? 'HIGH' : tool === 'notes.create' ? 'MEDIUM' : 'SAFE';

  it('HIGH always needs approval; SAFE and MEDIUM run unless a policy says otherwise', () => {
    expect(base.ruleFor('email.send', 'HIGH')).toEqual({
      riskLevel: 'HIGH',
      requiresApproval: true,
      approvers: 1,
    });
    expect(base.ruleFor('notes.create', 'MEDIUM')).toEqual({
      riskLevel: 'MEDIUM',
      requiresApproval: false,
      approvers: 0,
    });
  });

  it('raises classes, requires approval for MEDIUM and N approvers, with a new version', () => {
    const next = ToolPolicy.next(
      base,
      [
        { tool: 'http.get', riskLevel: 'HIGH' },
        { tool: 'notes.create', requireApproval: true },
        { tool: 'email.send', approvers: 2 },
      ],
      classOf,
      alice,
    );
    expect(next.version).toBe(1);
    expect(next.ruleFor('http.get', 'SAFE')).toEqual({
      riskLevel: 'HIGH',
      requiresApproval: true,
      approvers: 1,
    });
    expect(next.ruleFor('notes.create', 'MEDIUM')).toMatchObject({ requiresApproval: true });
    expect(next.ruleFor('email.send', 'HIGH').approvers).toBe(2);
  });

  it('never lowers a class (HIGH stays HIGH) and bounds approvers', () => {
    expect(() => ToolPolicy.next(base, [{ tool: 'email.send', riskLevel: 'SAFE' }], classOf, alice)).toThrow(
      "rules.0: email.send is HIGH; a policy may raise a tool's class, never lower it to SAFE",
    );
    expect(() =>
      ToolPolicy.next(base, [{ tool: 'notes.create', riskLevel: 'SAFE' }], classOf, alice),
    ).toThrow(ValidationError);
    expect(() => ToolPolicy.next(base, [{ tool: 'email.send', approvers: 6 }], classOf, alice)).toThrow(
      'rules.0: approvers must be 1 to 5 (got 6)',
    );
  });
});

describe('call digest and configuration', () => {
  it('binds tool and exact arguments, whatever the key order', () => {
    const a = callDigest('email.send', { to: ['a@x.io'], subject: 's', body: 'b' });
    expect(a).toMatch(/^[0-9a-f]{64}$/);
    expect(callDigest('email.send', { body: 'b', subject: 's', to: ['a@x.io'] })).toBe(a);
    expect(callDigest('email.send', { to: ['b@x.io'], subject: 's', body: 'b' })).not.toBe(a);
    expect(callDigest('notes.create', { to: ['a@x.io'], subject: 's', body: 'b' })).not.toBe(a);
  });

  it('matches allow-listed hosts, with or without a port', () => {
    expect(hostAllowed(new URL('https://example.com/x'), ['example.com'])).toBe(true);
    expect(hostAllowed(new URL('http://127.0.0.1:8080/'), ['127.0.0.1:8080'])).toBe(true);
    expect(hostAllowed(new URL('http://127.0.0.1:8081/'), ['127.0.0.1:8080'])).toBe(false);
    expect(hostAllowed(new URL('https://evil.example.com/'), ['example.com'])).toBe(false);
  });

  it('reads the agent settings and names a wrong variable', () => {
    expect(
      loadAgentConfig({ AGENT_HTTP_ALLOWED_HOSTS: 'Example.com, api.test:8443' }).http.allowedHosts,
    ).toEqual(['example.com', 'api.test:8443']);
    expect(() => loadAgentConfig({ AGENT_HTTP_ALLOWED_HOSTS: 'http://x' })).toThrow(
      /AGENT_HTTP_ALLOWED_HOSTS must be/,
    );
    expect(() => loadAgentConfig({ AGENT_EMAIL_TRANSPORT: 'graph' })).toThrow(
      /AGENT_GRAPH_SENDER must be set when AGENT_EMAIL_TRANSPORT=graph/,
    );
    expect(() => loadAgentConfig({ AGENT_STEP_MAX_ATTEMPTS: '0' })).toThrow(/AGENT_STEP_MAX_ATTEMPTS/);
  });
});
