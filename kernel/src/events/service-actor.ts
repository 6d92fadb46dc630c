import type { Actor } from './catalogue.ts';

/**
 * The actor a worker's follow-up events carry. Today it comes from configuration
 * (`WORKER_SERVICE_ID`/`WORKER_SERVICE_NAME`); this is the one place to swap in a verified
 * service identity (msal-node client credentials) when that lands.
 */
export function workerActor(settings: { serviceId: string; serviceName: string }): Actor {
  return { kind: 'service', id: settings.serviceId, name: settings.serviceName };
}
