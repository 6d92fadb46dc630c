import { randomBytes, randomUUID } from 'node:crypto';
import { devTenantId, devUserId } from '#kernel/auth/dev-ids.ts';
import { withTenant } from '#kernel/db/tenant-context.ts';
import type { TestPlatform } from '../../support/platform.ts';

/** Where attacks are sent: the gateway and each subgraph, by name. */
export type Targets = Record<'gateway' | 'knowledge' | 'agent' | 'governance' | 'audit', string>;

/** One seeded tenant: its ids, the objects it owns, and a way to get tokens for its users. */
export interface SeededTenant {
  slug: string;
  tenantId: string;
  /** Object id of the tenant's main user. */
  userId: string;
  taskIds: string[];
  approvalIds: string[];
  documentIds: string[];
  auditEventIds: string[];
  /** A cursor of each of the tenant's lists (tasks, approvalRequests, documents, auditEvents). */
  cursors: Record<string, string>;
  /** Signs a token for `user` (default the main user) of this tenant with `roles`. */
  token(roles: string[], user?: string): Promise<string>;
}

/** The two tenants, the targets and every victim string that must never reach the attacker. */
export interface World {
  targets: Targets;
  victim: SeededTenant;
  attacker: SeededTenant;
  /** Victim ids and distinctive strings; the leak check scans every response for them. */
  secrets: string[];
  /** A token of a third tenant that owns nothing (its lists must come back empty). */
  intruder(roles: string[]): Promise<string>;
  /** The platform's issuer, for forging tokens. */
  issuer: TestPlatform['issuer'];
}

type Post = TestPlatform['post'];

async function call<T>(post: Post, token: string, query: string, variables?: Record<string, unknown>) {
  const res = await post({ query, ...(variables ? { variables } : {}) }, token);
  if (res.body.errors) throw new Error(`seeding failed: ${JSON.stringify(res.body.errors)}`);
  return res.body.data as T;
}

/** Seeds a victim and an attacker tenant through the real API and collects the victim's secrets. */
export async function seedWorld(platform: TestPlatform): Promise<World> {
  const marker = randomBytes(4).toString('hex');
  const victim = await seedTenant(platform, 'victim-corp', 'victor', `VICTIM-SECRET-${marker}`);
  const attacker = await seedTenant(platform, 'attacker-corp', 'mallory', `attacker-own-${marker}`);
  const secrets = [
    victim.tenantId,
    victim.userId,
    devUserId(victim.slug, 'vera'),
    'victor@victim-corp.dev.widgetdc',
    'vera@victim-corp.dev.widgetdc',
    `VICTIM-SECRET-${marker}`,
    ...victim.taskIds,
    ...victim.approvalIds,
    ...victim.documentIds,
    ...victim.auditEventIds,
    ...Object.values(victim.cursors),
  ];
  const { subgraphs } = platform;
  return {
    targets: {
      gateway: platform.gateway.url,
      knowledge: subgraphs.knowledge.url,
      agent: subgraphs.agent.url,
      governance: subgraphs.governance.url,
      audit: subgraphs.audit.url,
    },
    victim,
    attacker,
    secrets: [...new Set(secrets)],
    intruder: (roles) => platform.issuer.token('intruder-corp', 'ivan', roles),
    issuer: platform.issuer,
  };
}

async function seedTenant(
  platform: TestPlatform,
  slug: string,
  user: string,
  secret: string,
): Promise<SeededTenant> {
  const post = platform.post.bind(platform);
  const token = (roles: string[], who = user) => platform.issuer.token(slug, who, roles);
  const admin = await token(['Admin']);
  const contributor = await token(['Contributor']);
  const approver = await token(['Approver'], 'vera');
  const tenantId = devTenantId(slug);

  const taskIds: string[] = [];
  for (const n of [1, 2, 3]) {
    const data = await call<{ createTask: { id: string } }>(
      post,
      contributor,
      'mutation ($t: String!) { createTask(input: { title: $t }) { id } }',
      { t: `${secret} task ${n}` },
    );
    taskIds.push(data.createTask.id);
  }
  const approvalIds: string[] = [];
  for (const taskId of taskIds.slice(0, 2)) {
    const data = await call<{ requestApproval: { id: string } }>(
      post,
      contributor,
      'mutation ($i: RequestApprovalInput!) { requestApproval(input: $i) { id } }',
      { i: { taskId, riskLevel: 'HIGH', reason: `${secret} reason for ${taskId}` } },
    );
    approvalIds.push(data.requestApproval.id);
  }
  await call(post, approver, 'mutation ($i: DecideApprovalInput!) { decideApproval(input: $i) { id } }', {
    i: { id: approvalIds[0], decision: 'APPROVE', comment: `${secret} approved comment` },
  });
  await call(post, admin, 'mutation ($r: String!) { engageKillSwitch(reason: $r) { engaged } }', {
    r: `${secret} kill switch reason`,
  });

  // Knowledge has no mutation yet: documents go in through the tenant context, as ingestion would.
  const documentIds = [randomUUID(), randomUUID()];
  await withTenant(platform.subgraphs.knowledge.orm, tenantId, async (em) => {
    for (const [n, id] of documentIds.entries()) {
      await em.execute(
        `insert into knowledge.documents (id, tenant_id, title, mime_type, status, created_by, created_at)
         values (?, ?, ?, 'application/pdf', 'READY', ?, now() - (? || ' minutes')::interval)`,
        [id, tenantId, `${secret} document ${n}`, devUserId(slug, user), String(n)],
      );
    }
  });

  const lists = await call<Record<string, { edges: { cursor: string; node: { id: string } }[] }>>(
    post,
    admin,
    `{ tasks(first: 100) { edges { cursor node { id } } }
       approvalRequests(first: 100) { edges { cursor node { id } } }
       documents(first: 100) { edges { cursor node { id } } }
       auditEvents(first: 100) { edges { cursor node { id } } } }`,
  );
  const cursors: Record<string, string> = {};
  for (const [list, connection] of Object.entries(lists)) {
    const edge = connection.edges.at(-1);
    if (!edge) throw new Error(`seeding failed: ${slug} has no ${list}`);
    cursors[list] = edge.cursor;
  }
  return {
    slug,
    tenantId,
    userId: devUserId(slug, user),
    taskIds,
    approvalIds,
    documentIds,
    auditEventIds: lists.auditEvents!.edges.map((e) => e.node.id),
    cursors,
    token,
  };
}
