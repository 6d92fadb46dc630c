import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { createOrm } from '#kernel/db/orm.ts';
import { registerTenant } from '#kernel/db/tenant-registry.ts';
import { SUBGRAPH_NAMES } from '../src/config.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform({ autoProvisionTenants: false });
});
afterAll(async () => {
  await platform?.close();
});

describe('tenants (auto-provisioning off, as in production)', () => {
  it('refuses a verified token of an unregistered tenant at the gateway and at every subgraph', async () => {
    const token = await platform.issuer.token('initech', 'ivan', ['Admin']);
    const tenantId = devTenantId('initech');
    // The gateway holds no data: what reaches a subgraph is refused there; subgraphs refuse anything.
    const targets = [
      { url: platform.gateway.url, query: '{ killSwitch { engaged } }' },
      ...SUBGRAPH_NAMES.map((name) => ({ url: platform.subgraphs[name].url, query: '{ __typename }' })),
    ];
    for (const { url, query } of targets) {
      const res = await platform.post({ query }, token, url);
      expect({ url, status: res.status, body: res.body }).toMatchObject({
        url,
        // The gateway answers 200 with the subgraph's error (a query may span several subgraphs).
        status: url === platform.gateway.url ? 200 : 403,
        body: {
          errors: [
            {
              message: `Tenant ${tenantId} is not registered with WidgeTDC; an administrator must register it first`,
              extensions: { code: 'FORBIDDEN' },
            },
          ],
        },
      });
    }
    const [counted] = await platform.db.asSuperuser<{ count: string }>(
      'select count(*) from platform.tenants where id = $1',
      [tenantId],
    );
    expect(Number(counted?.count)).toBe(0);
  });

  it('admits the tenant once an operator has registered it', async () => {
    const orm = await createOrm({ url: platform.db.appUrl, entities: [], poolMax: 1 });
    try {
      await registerTenant(
        orm,
        { tenantId: devTenantId('hooli'), slug: 'hooli', displayName: 'Hooli' },
        { kind: 'service', id: 'operator:test', name: 'test operator' },
      );
    } finally {
      await orm.close();
    }
    const token = await platform.issuer.token('hooli', 'gavin', ['Contributor']);
    const res = await platform.post(
      { query: 'mutation { createTask(input: { title: "First task" }) { title status } }' },
      token,
    );
    expect(res.body).toEqual({ data: { createTask: { title: 'First task', status: 'PENDING' } } });
  });
});
