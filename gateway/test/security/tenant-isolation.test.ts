// Cross-tenant attacks generated from the subgraphs' SDL: every root field taking an ID fed the
// victim's ids, `_entities` with victim representations, lists and crafted cursors, every field
// called with each role it does not allow, self-approval, and the audit trail they leave.
import { getNamedType, isObjectType } from 'graphql';
import { ROLES } from '#kernel/graphql/roles.ts';
import {
  operationFor,
  requiredVariables,
  rootFields,
  SUBGRAPH_NAMES,
  selection,
  stringArguments,
  subgraphSchemas,
  withValue,
} from './support/operations.ts';
import type { World } from './support/seed.ts';
import { type AttackCase, attackSuite } from './support/suite.ts';

const suite = attackSuite('tenant-isolation');
const schemas = subgraphSchemas();
const fields = rootFields(schemas);

/** The victim's ids of every kind; each ID argument is fed every one of them. */
const VICTIM_IDS: [string, (w: World) => string][] = [
  ['task', (w) => w.victim.taskIds[0]!],
  ['approval', (w) => w.victim.approvalIds[1]!],
  ['document', (w) => w.victim.documentIds[0]!],
  ['audit event', (w) => w.victim.auditEventIds[0]!],
];

const crossTenantIds: AttackCase[] = fields.flatMap((root) =>
  stringArguments(root.field)
    .filter((arg) => arg.scalar === 'ID')
    .flatMap((arg) =>
      VICTIM_IDS.flatMap(([kind, id]) =>
        (['gateway', root.subgraph] as const).map((target) => ({
          name: `${root.name}(${arg.path.join('.')}: victim ${kind} id)`,
          class: 'cross-tenant-id' as const,
          target,
          expect: { kind: 'null-or-refused' as const },
          build: async (w: World) => {
            const variables = withValue(requiredVariables(root.field), arg.path, id(w), root.field);
            return {
              url: w.targets[target],
              token: await w.attacker.token(['Admin']),
              query: operationFor(root, variables),
              variables,
            };
          },
        })),
      ),
    ),
);

/** Entity types with a key in each subgraph, with the victim ids of that type. */
const ENTITY_IDS: Record<string, (w: World) => string[]> = {
  Task: (w) => w.victim.taskIds,
  ApprovalRequest: (w) => w.victim.approvalIds,
  Document: (w) => w.victim.documentIds,
  AuditEvent: (w) => w.victim.auditEventIds,
};
const entities: AttackCase[] = SUBGRAPH_NAMES.flatMap((subgraph) => {
  const schema = schemas[subgraph];
  const types = Object.keys(ENTITY_IDS).filter((t) => isObjectType(schema.getType(t)));
  const fragments = types
    .map((t) => `... on ${t} ${selection(getNamedType(schema.getType(t)!), 2)}`)
    .join(' ');
  const query = `query Entities($r: [_Any!]!) { _entities(representations: $r) { ${fragments} } }`;
  const cases = types.map((type) => ({
    name: `_entities ${type} with victim ids`,
    reps: (w: World) => ENTITY_IDS[type]!(w).map((id) => ({ __typename: type, id })),
  }));
  cases.push({
    name: '_entities with every victim id under every type',
    reps: (w) =>
      types.flatMap((type) =>
        Object.values(ENTITY_IDS).flatMap((ids) => ids(w).map((id) => ({ __typename: type, id }))),
      ),
  });
  return cases.map(({ name, reps }) => ({
    name,
    class: 'entities' as const,
    target: subgraph,
    expect: { kind: 'null-or-refused' as const },
    build: async (w: World) => ({
      url: w.targets[subgraph],
      token: await w.attacker.token(['Admin', 'Auditor']),
      query,
      variables: { r: reps(w) },
    }),
  }));
});

/** Lists read by a tenant that owns nothing of the victim's: empty (or free of the victim's data), whatever cursor or filter points at the victim. */
const listFields = fields.filter(
  (f) => f.operation === 'query' && f.field.args.every((a) => a.name !== 'id'),
);
const CURSORS: [string, (w: World, list: string) => string][] = [
  ['no cursor', () => ''],
  ["the victim's own cursor", (w, list) => w.victim.cursors[list] ?? w.victim.cursors.tasks!],
  [
    'a cursor forged from a victim id',
    (w) => Buffer.from(`2999-01-01T00:00:00.000Z|${w.victim.taskIds[0]}`).toString('base64url'),
  ],
  [
    'a cursor carrying SQL',
    () => Buffer.from("2999-01-01T00:00:00.000Z|' or tenant_id is not null --").toString('base64url'),
  ],
];
const lists: AttackCase[] = listFields.flatMap((root) =>
  CURSORS.filter(([name]) => name === 'no cursor' || root.field.args.some((a) => a.name === 'after')).flatMap(
    ([cursorName, cursor]) =>
      (['gateway', root.subgraph] as const).map((target) => ({
        name: `${root.name} with ${cursorName}`,
        class: 'list-leakage' as const,
        target,
        expect: {
          // The intruder's own audit log is not empty: its refused probes are audited (ADR 0013), so
          // auditEvents is checked for the victim's secrets like the other answers that always hold data.
          kind:
            // tools (the built-in catalogue) and toolPolicy (the default when none is set) always answer;
            // so does ask (an Answer, "The documents do not answer this question." when nothing is found).
            // The intruder's own asks are model calls of its tenant: generations and usage hold them
            // (ADR 0037), so they too are checked for the victim's secrets instead of for emptiness.
            root.name === 'killSwitch' ||
            root.name === 'ask' ||
            root.name === 'auditEvents' ||
            root.name === 'generations' ||
            root.name === 'usage' ||
            root.name === 'tools' ||
            // prompts always lists the built-in version 0 of each prompt (ADR 0038).
            root.name === 'prompts' ||
            root.name === 'toolPolicy' ||
            root.name.startsWith('verify') ||
            root.name.startsWith('export')
              ? ('no-leak' as const)
              : ('null-or-refused' as const),
        },
        build: async (w: World) => {
          let variables = requiredVariables(root.field);
          const after = cursor(w, root.name);
          if (after) variables = { ...variables, after };
          if (root.field.args.some((a) => a.name === 'first')) variables = { ...variables, first: 100 };
          return {
            url: w.targets[target],
            token: await w.intruder(['Admin', 'Auditor']),
            query: operationFor(root, variables),
            variables,
          };
        },
      })),
  ),
);

/** The audit log of another tenant, searched for by the victim's names and ids. */
const AUDIT_FILTERS: [string, (w: World) => Record<string, unknown>][] = [
  ['actor = victim user id', (w) => ({ actor: w.victim.userId })],
  ['actor = victim display name', () => ({ actor: 'victor@victim-corp.dev.widgetdc' })],
  ['targetId = victim task id', (w) => ({ targetId: w.victim.taskIds[0] })],
  ['action = agent.createTask', () => ({ action: 'agent.createTask' })],
  ['outcome SUCCESS over all time', () => ({ outcome: 'SUCCESS', from: '2000-01-01T00:00:00.000Z' })],
];
const auditReads: AttackCase[] = AUDIT_FILTERS.flatMap(([name, filter]) =>
  (['gateway', 'audit'] as const).map((target) => ({
    name: `Auditor of another tenant: auditEvents(${name})`,
    class: 'list-leakage' as const,
    target,
    expect: { kind: 'null-or-refused' as const },
    build: async (w: World) => ({
      url: w.targets[target],
      token: await w.intruder(['Auditor']),
      query:
        'query ($f: AuditEventFilter) { auditEvents(filter: $f, first: 100) { edges { cursor node { id actor actorId targetId inputSummary hash } } } }',
      variables: { f: filter(w) },
    }),
  })),
);

/** Every root field called with a token holding only a role it does not allow, or no role at all. */
const roleCases: AttackCase[] = fields.flatMap((root) =>
  [...ROLES.filter((r) => !root.roles.includes(r)).map((r) => [r]), []].flatMap((held) =>
    (['gateway', root.subgraph] as const).map((target) => ({
      name: `${root.operation} ${root.name} with ${held.length ? `only ${held[0]}` : 'no roles'}`,
      class: 'missing-role' as const,
      target,
      expect: { kind: 'forbidden' as const, missingRole: root.roles[0] ?? 'any' },
      build: async (w: World) => {
        const variables = requiredVariables(root.field);
        return {
          url: w.targets[target],
          token: await w.attacker.token(held, 'mallory'),
          query: operationFor(root, variables),
          variables,
        };
      },
    })),
  ),
);

const DECIDE = 'mutation ($i: DecideApprovalInput!) { decideApproval(input: $i) { id status decidedBy } }';
/** Opens an approval request as `roles` of mallory and returns its id (setup of a self-approval). */
async function ownRequest(w: World, roles: string[]): Promise<string> {
  const token = await w.attacker.token(roles);
  const post = (query: string, variables: Record<string, unknown>) =>
    fetch(w.targets.gateway, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query, variables }),
    }).then((r) => r.json() as Promise<{ data: Record<string, { id: string }> }>);
  const task = await post('mutation ($t: String!) { createTask(input: { title: $t }) { id } }', {
    t: 'own task',
  });
  const request = await post('mutation ($i: RequestApprovalInput!) { requestApproval(input: $i) { id } }', {
    i: { taskId: task.data.createTask!.id, riskLevel: 'HIGH', reason: 'self approval attempt' },
  });
  return request.data.requestApproval!.id;
}
const business: AttackCase[] = [
  ...(['gateway', 'governance'] as const).flatMap((target) =>
    [['Contributor', 'Approver'], ['Admin']].map((roles) => ({
      name: `decideApproval of one's own request as ${roles.join('+')}`,
      class: 'business-rule' as const,
      target,
      expect: { kind: 'forbidden' as const },
      build: async (w: World) => {
        const id = await ownRequest(w, roles);
        return {
          url: w.targets[target],
          token: await w.attacker.token(roles),
          query: DECIDE,
          variables: { i: { id, decision: 'APPROVE', comment: 'approving myself' } },
        };
      },
    })),
  ),
];

// _entities first: the ID attacks below may leave the attacker's own rows pointing at victim ids.
describe('_entities with victim representations', () => suite.attacks(entities));
describe('victim ids fed to every ID argument', () => suite.attacks(crossTenantIds));
describe('lists, filters and crafted cursors', () => suite.attacks([...lists, ...auditReads]));
describe('every operation with a role it does not allow', () => suite.attacks(roleCases));
describe('business rules', () => suite.attacks(business));

describe('after the attacks', () => {
  const audit = async (token: string, query: string, variables?: Record<string, unknown>) => {
    const res = await suite.platform.post({ query, ...(variables ? { variables } : {}) }, token);
    expect(res.body.errors).toBeUndefined();
    return res.body.data as Record<string, unknown>;
  };

  it("leaves the victim's audit chain intact", async () => {
    const data = await audit(
      await suite.world.victim.token(['Auditor']),
      '{ verifyAuditChain { ok checked problem } }',
    );
    expect(data.verifyAuditChain).toMatchObject({ ok: true, problem: null });
    expect((data.verifyAuditChain as { checked: number }).checked).toBeGreaterThan(0);
  });

  it("records the attacker's denied attempts in the attacker tenant's audit log", async () => {
    const token = await suite.world.attacker.token(['Auditor']);
    const events: { action: string; actorId: string }[] = [];
    let after: string | null = null;
    do {
      const data = await audit(
        token,
        `query ($after: String) { auditEvents(filter: { outcome: DENIED }, first: 100, after: $after) {
           edges { node { action actorId outcome } } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
      const page = data.auditEvents as {
        edges: { node: { action: string; actorId: string } }[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
      events.push(...page.edges.map((e) => e.node));
      after = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
    } while (after);
    const denied = suite.log.results.filter((r) => r.attack.class === 'missing-role').length;
    expect(events.length).toBeGreaterThanOrEqual(denied);
    const actions = new Set(events.map((e) => e.action));
    for (const action of ['agent.createTask', 'governance.releaseKillSwitch', 'audit.auditEvents']) {
      expect(actions).toContain(action);
    }
    expect(events.filter((e) => e.actorId !== suite.world.attacker.userId)).toEqual([]);
  });
});
