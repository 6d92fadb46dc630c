// The live fan-out's routing of kill-switch changes: a tenant's own change to its tenant's channel, a
// platform-wide change (published in the operator's tenant) to the platform channel that every
// tenant's killSwitchChanged subscription follows, never to the operator's tenant channel alone.
import { randomUUID } from 'node:crypto';
import type { AnyEnvelope, ConsumerContext } from '#events/consumer/consumer.ts';
import { devTenantId } from '#kernel/auth/dev-ids.ts';
import { liveChannelOf, liveFanoutConsumer } from '../../src/live/fanout-consumer.ts';
import { createInProcessPubSub } from '../../src/live/in-process-pubsub.ts';
import { type LiveEvent, PLATFORM_CHANNEL } from '../../src/live/topics.ts';

const OPS = devTenantId('ops');
const ACME = devTenantId('acme');

function killSwitchEvent(tenantId: string, payload: Record<string, unknown>): AnyEnvelope<LiveEvent> {
  return {
    id: randomUUID(),
    type: 'killswitch.changed',
    version: 1,
    tenantId,
    actor: { kind: 'user', id: 'olga', name: 'olga@ops' },
    aggregate: { type: 'PlatformKillSwitch', id: 'platform' },
    occurredAt: new Date().toISOString(),
    payload,
  } as AnyEnvelope<LiveEvent>;
}

describe('live fan-out of kill-switch changes', () => {
  it('pushes a platform-wide change on the platform channel and a tenant change on its tenant', async () => {
    const live = createInProcessPubSub();
    const consumer = liveFanoutConsumer({ live });
    const platform = live.subscribe(PLATFORM_CHANNEL, 'killswitch.changed');
    const operator = live.subscribe(OPS, 'killswitch.changed');
    const acme = live.subscribe(ACME, 'killswitch.changed');
    const ctx = {} as ConsumerContext;
    const engaged = killSwitchEvent(OPS, {
      engaged: true,
      reason: 'incident',
      scope: 'PLATFORM',
      engagedBy: 'olga@ops',
    });
    const own = killSwitchEvent(ACME, { engaged: true, reason: 'ours', engagedBy: 'ada@acme' });
    expect([liveChannelOf(engaged), liveChannelOf(own)]).toEqual([PLATFORM_CHANNEL, ACME]);
    await consumer.handle(engaged, ctx);
    await consumer.handle(own, ctx);
    expect((await platform.next()).value).toMatchObject({
      scope: 'PLATFORM',
      engaged: true,
      engagedBy: 'olga@ops',
      eventId: engaged.id,
    });
    // An event without a scope (published before scopes existed) is the tenant's own.
    expect((await acme.next()).value).toMatchObject({ scope: 'TENANT', reason: 'ours', eventId: own.id });
    expect(await live.recent(OPS, 'killswitch.changed', 0)).toEqual([]);
    await operator.return();
    await live.close();
  });
});
