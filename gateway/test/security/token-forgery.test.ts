// Forged, tampered and invalid tokens, malformed Authorization headers, and identity headers
// spoofed next to a valid token: against the gateway and straight against every subgraph.
import type { AttackCase } from './support/suite.ts';
import { attackSuite } from './support/suite.ts';
import { FORGERIES, type ForgeKit, forgeKit } from './support/tokens.ts';

const suite = attackSuite('token-forgery');

/** A query per target that would return victim data if the token were accepted. */
const PROBES = {
  gateway:
    '{ tasks { edges { node { id title createdBy approvals { reason } } } } documents { edges { node { title } } } approvalRequests { edges { node { reason requestedBy } } } auditEvents { edges { node { actor inputSummary } } } }',
  knowledge: '{ documents { edges { node { id title } } } }',
  agent: '{ tasks { edges { node { id title createdBy } } } }',
  governance: '{ approvalRequests { edges { node { id reason requestedBy decisionComment } } } }',
  audit: '{ auditEvents(first: 100) { edges { node { id actor actorId inputSummary } } } }',
} as const;
const TARGETS = Object.keys(PROBES) as (keyof typeof PROBES)[];

let kit: Promise<ForgeKit> | undefined;
const forge = (world: Parameters<AttackCase['build']>[0]) => {
  kit ??= forgeKit(world.issuer, world.victim.slug);
  return kit;
};

const forgeries: AttackCase[] = FORGERIES.flatMap((forgery) =>
  TARGETS.map((target) => ({
    name: `token ${forgery.name}`,
    class:
      forgery.name.includes('sign') ||
      forgery.name.includes('alg') ||
      forgery.name.includes('HS256') ||
      forgery.name.includes('jwk') ||
      forgery.name.includes('jku') ||
      forgery.name.includes('RS512')
        ? ('token-forgery' as const)
        : ('token-claims' as const),
    target,
    expect: { kind: forgery.expect },
    build: async (world) => ({
      url: world.targets[target],
      token: await forgery.make(await forge(world)),
      query: PROBES[target],
    }),
  })),
);

const MALFORMED: [string, (token: string) => string | undefined][] = [
  ['no Authorization header', () => undefined],
  ['Basic scheme', () => `Basic ${Buffer.from('victor:secret').toString('base64')}`],
  ['Bearer without a token', () => 'Bearer '],
  ['two bearer tokens', (t) => `Bearer ${t} ${t}`],
];
const malformed: AttackCase[] = MALFORMED.flatMap(([name, header]) =>
  TARGETS.map((target) => ({
    name: `authorization: ${name}`,
    class: 'token-claims' as const,
    target,
    expect: { kind: 'unauthenticated' as const },
    build: async (world) => {
      const value = header(await world.victim.token(['Admin']));
      return {
        url: world.targets[target],
        ...(value === undefined ? {} : { authorization: value }),
        query: PROBES[target],
      };
    },
  })),
);

/** Identity-claiming headers of proxies and platforms, each naming the victim next to a valid intruder token. */
type World = Parameters<AttackCase['build']>[0];
const SPOOFS: [string, (w: World) => Record<string, string> | Promise<Record<string, string>>][] = [
  ['x-tenant-id', (w) => ({ 'x-tenant-id': w.victim.tenantId })],
  ['x-tenant slug', (w) => ({ 'x-tenant': w.victim.slug })],
  ['x-user-id', (w) => ({ 'x-user-id': w.victim.userId })],
  ['x-user-roles', () => ({ 'x-user-roles': 'Admin,Auditor', 'x-roles': 'Admin' })],
  [
    'x-ms-client-principal-id',
    (w) => ({ 'x-ms-client-principal-id': w.victim.userId, 'x-ms-client-principal-name': 'victor' }),
  ],
  [
    'x-ms-client-principal',
    (w) => ({
      'x-ms-client-principal': Buffer.from(
        JSON.stringify({ auth_typ: 'aad', claims: [{ typ: 'tid', val: w.victim.tenantId }] }),
      ).toString('base64'),
    }),
  ],
  [
    'forwarded headers',
    (w) => ({
      forwarded: `for=10.0.0.1;host=${w.victim.slug}.example`,
      'x-forwarded-for': '10.0.0.1',
      'x-forwarded-host': `${w.victim.slug}.example`,
      'x-forwarded-user': w.victim.userId,
    }),
  ],
  [
    'x-forwarded-access-token with a victim token',
    async (w) => ({ 'x-forwarded-access-token': await w.victim.token(['Admin']) }),
  ],
  ['x-request-id crafted as SQL', () => ({ 'x-request-id': "'; drop table audit.events; --" })],
  ['cookie session', (w) => ({ cookie: `tenant=${w.victim.tenantId}; user=${w.victim.userId}` })],
];
const spoofed: AttackCase[] = SPOOFS.flatMap(([name, headers]) =>
  TARGETS.map((target) => ({
    name: `spoofed ${name}`,
    class: 'spoofed-header' as const,
    target,
    expect: { kind: 'null-or-refused' as const },
    build: async (world) => ({
      url: world.targets[target],
      token: await world.intruder(['Admin', 'Auditor']),
      headers: await headers(world),
      query: PROBES[target],
    }),
  })),
);

describe('forged and invalid tokens are refused everywhere', () => suite.attacks(forgeries));
describe('malformed Authorization headers are refused everywhere', () => suite.attacks(malformed));
describe('identity headers next to a valid token change nothing', () => suite.attacks(spoofed));
