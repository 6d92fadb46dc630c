// Every refusal is audited whatever its input holds: each kind of hostile string, in a mutation and
// in a query, refused for the role or for the value, through the gateway and straight at the
// subgraph, leaves its DENIED/FAILED record, and the record renders the string faithfully (what
// PostgreSQL cannot store escaped and marked, long strings cut at a code point and marked).
import { randomUUID } from 'node:crypto';
import { ESCAPED_MARKER } from '#kernel/audit/redact.ts';
import { unrecordedAuditCount } from '#kernel/audit/refusals.ts';
import type { AttackClass } from './support/attack.ts';
import { attackSuite } from './support/suite.ts';

const suite = attackSuite('audit-hostile');
const CLASS: AttackClass = 'audit-evasion';

/** Every kind of string that once kept a refusal out of the log, and some that never did. */
const HOSTILE: [string, string][] = [
  ['NUL', 'probe\u0000tenant'],
  ['only NUL', '\u0000'],
  ['lone high surrogate', 'probe\uD800'],
  ['lone low surrogate', '\uDC00probe'],
  ['reversed surrogate pair', '\uDC00\uD800'],
  ['NUL beside backslashes', 'a\\u0000b\u0000c\\'],
  ['C0 control characters', Array.from({ length: 31 }, (_, i) => String.fromCharCode(i + 1)).join('')],
  ['DEL and C1 controls', '\u007f\u0080\u0085\u009b\u009f'],
  ['bidi override and zero width', '\u202eadmin\u200b\ufeff'],
  ['astral pair across the 200-character cut', `${'a'.repeat(199)}😀tail`],
  ['oversized (300 kB)', 'Z'.repeat(300_000)],
  ['oversized and NUL-filled (100 kB)', '\u0000'.repeat(100_000)],
  ['lone surrogates, many', '\uD800x'.repeat(500)],
];

/** Operations that are refused whatever the string: for the caller's role, or for the value. */
const OPERATIONS: {
  name: string;
  roles: string[];
  outcome: 'denied' | 'failed';
  action: string;
  query: string;
  variables(s: string): Record<string, unknown>;
}[] = [
  {
    name: 'mutation refused for the role',
    roles: ['Reader'],
    outcome: 'denied',
    action: 'agent.createTask',
    query: 'mutation ($t: String!) { createTask(input: { title: $t }) { id } }',
    variables: (s) => ({ t: s }),
  },
  {
    name: 'mutation refused for the value',
    roles: ['Contributor'],
    outcome: 'failed',
    action: 'agent.cancelTask',
    query: 'mutation ($id: ID!) { cancelTask(id: $id) { id } }',
    variables: (s) => ({ id: s }),
  },
  {
    name: 'query refused for the role',
    roles: ['Auditor'],
    outcome: 'denied',
    action: 'agent.task',
    query: 'query ($id: ID!) { task(id: $id) { id } }',
    variables: (s) => ({ id: s }),
  },
  {
    name: 'query refused for the value',
    roles: ['Reader'],
    outcome: 'failed',
    action: 'agent.task',
    query: 'query ($id: ID!) { task(id: $id) { id } }',
    variables: (s) => ({ id: s }),
  },
];

/**
 * Whether `rendering` is a faithful rendering of `original`: unescaped, it is the whole string, or,
 * when marked as cut, a prefix of it whose marker states the original length.
 */
function renders(rendering: string, original: string): boolean {
  let text = rendering;
  const escaped = text.endsWith(ESCAPED_MARKER);
  if (escaped) text = text.slice(0, -ESCAPED_MARKER.length);
  const cut = /…\[(\d+) chars\]$/.exec(text);
  if (cut) text = text.slice(0, cut.index);
  if (escaped) {
    text = text.replace(/\\(\\|u([0-9a-f]{4}))/g, (_, c: string, hex?: string) =>
      hex ? String.fromCharCode(Number.parseInt(hex, 16)) : c,
    );
  }
  return cut ? Number(cut[1]) === original.length && original.startsWith(text) : text === original;
}

/** Every string inside a stored JSON value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}

const cases = HOSTILE.flatMap(([kind, value]) =>
  OPERATIONS.flatMap((op) => (['gateway', 'agent'] as const).map((target) => ({ kind, value, op, target }))),
);

describe('a refusal with a hostile string leaves a faithful audit record', () => {
  it.each(cases.map((c) => [`${c.target}: ${c.op.name}: ${c.kind}`, c] as const))('%s', async (_, c) => {
    const requestId = `audit-hostile-${randomUUID()}`;
    const result = await suite.log.run(
      {
        name: `${c.op.name} with ${c.kind}`,
        class: CLASS,
        target: c.target,
        request: {
          url: suite.world.targets[c.target],
          token: await suite.world.attacker.token(c.op.roles),
          headers: { 'x-request-id': requestId },
          query: c.op.query,
          variables: c.op.variables(c.value),
        },
        expect: { kind: 'refused', codes: [c.op.outcome === 'denied' ? 'FORBIDDEN' : 'BAD_USER_INPUT'] },
      },
      suite.world.secrets,
    );
    expect(result.problems).toEqual([]);
    expect(result.internalError).toBe(false);
    const rows = await suite.platform.db.asSuperuser<{
      action: string;
      outcome: string;
      target_id: string | null;
      input_summary: unknown;
    }>('select action, outcome, target_id, input_summary from audit.audit_events where request_id = $1', [
      requestId,
    ]);
    expect(rows.map((r) => [r.action, r.outcome])).toEqual([[c.op.action, c.op.outcome]]);
    const rendered = strings(rows[0]?.input_summary);
    expect(rendered.some((s) => renders(s, c.value))).toBe(true);
    // The target id (an id argument) is stored as faithfully, within its column's bound.
    if (rows[0]?.target_id) expect(renders(rows[0].target_id, c.value)).toBe(true);
  });
});

describe('when the audit record cannot be written', () => {
  it('a refusal stays refused and is counted, and a mutation does not commit unaudited', async () => {
    const { db } = suite.platform;
    const title = `unaudited-${randomUUID()}`;
    const before = unrecordedAuditCount();
    await db.asSuperuser('revoke insert on audit.audit_events from widgetdc_app');
    try {
      const denied = await suite.platform.post(
        {
          query: 'mutation ($t: String!) { createTask(input: { title: $t }) { id } }',
          variables: { t: title },
        },
        await suite.world.attacker.token(['Reader']),
        suite.world.targets.agent,
      );
      expect(denied.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const created = await suite.platform.post(
        {
          query: 'mutation ($t: String!) { createTask(input: { title: $t }) { id } }',
          variables: { t: title },
        },
        await suite.world.attacker.token(['Contributor']),
        suite.world.targets.agent,
      );
      expect(created.body.data?.createTask ?? null).toBeNull();
      expect(created.body.errors?.length).toBeGreaterThan(0);
    } finally {
      await db.asSuperuser('grant insert on audit.audit_events to widgetdc_app');
    }
    const rows = await db.asSuperuser('select id from agent.tasks where title = $1', [title]);
    expect(rows).toEqual([]);
    // The refusal's record and the failed mutation's record are both missing: both counted.
    expect(unrecordedAuditCount() - before).toBe(2);
  });
});

describe('after the attacks', () => {
  it("leaves the attacker's audit chain intact", async () => {
    const res = await suite.platform.post(
      { query: '{ verifyAuditChain { ok problem } }' },
      await suite.world.attacker.token(['Auditor']),
    );
    expect(res.body.data?.verifyAuditChain).toEqual({ ok: true, problem: null });
  });
});
