// Browser clients on other origins: CORS for the configured origins only, and a request id on every
// response (errors included) that a client can read and quote.
import { readFile } from 'node:fs/promises';
import WebSocket from 'ws';
import { createLogger } from '#kernel/logger.ts';
import { SUPERGRAPH_FILE } from '../src/compose.ts';
import { type RunningGateway, startGateway } from '../src/gateway.ts';
import { startTestPlatform, type TestPlatform } from './support/platform.ts';

const APP = 'https://console.example.com';

let platform: TestPlatform;
let gateway: RunningGateway;

beforeAll(async () => {
  platform = await startTestPlatform();
  gateway = await startGateway({
    supergraphSdl: await readFile(SUPERGRAPH_FILE, 'utf8'),
    subgraphUrls: Object.fromEntries(Object.values(platform.subgraphs).map((s) => [s.name, s.url])),
    auth: platform.issuer.auth,
    host: '127.0.0.1',
    port: 0,
    introspection: false,
    apolloTelemetry: false,
    logger: createLogger('test', { level: 'silent' }),
    corsOrigins: [APP],
  });
});
afterAll(async () => {
  await gateway?.close();
  await platform?.close();
});

const preflight = (url: string, origin: string) =>
  fetch(url, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization, content-type, apollo-require-preflight',
    },
  });

describe('CORS at the gateway', () => {
  it('answers the preflight of a configured origin, allowing the headers clients send', async () => {
    const res = await preflight(gateway.url, APP);
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(APP);
    expect(res.headers.get('access-control-allow-methods')).toBe('GET, POST, OPTIONS');
    expect(res.headers.get('access-control-allow-headers')?.split(', ')).toEqual(
      expect.arrayContaining(['authorization', 'content-type', 'apollo-require-preflight']),
    );
    expect(res.headers.get('vary')).toBe('Origin');
  });

  it('lets that origin read the response and its request id, an error response included', async () => {
    const token = await platform.issuer.token('acme', 'alice', ['Reader']);
    const ok = await fetch(gateway.url, {
      method: 'POST',
      headers: { origin: APP, authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ killSwitch { engaged } }' }),
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP);
    expect(ok.headers.get('access-control-expose-headers')).toBe('x-request-id');
    expect(ok.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const refused = await fetch(gateway.url, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json', 'x-request-id': 'client-chosen-id-1' },
      body: JSON.stringify({ query: '{ killSwitch { engaged } }' }),
    });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-request-id')).toBe('client-chosen-id-1');
    expect(refused.headers.get('access-control-allow-origin')).toBe(APP);
  });

  it('gives other origins no CORS headers (browsers refuse them), and none at all by default', async () => {
    const other = await preflight(gateway.url, 'https://evil.example.com');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    expect(other.status).not.toBe(204);
    const byDefault = await preflight(platform.gateway.url, APP);
    expect(byDefault.headers.get('access-control-allow-origin')).toBeNull();
    // The request id is there whatever the origin.
    expect(byDefault.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

/** The upgrade's answer for a browser page on `origin` (undefined: a client that sends none). */
function upgrade(url: string, origin: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws', origin === undefined ? {} : { origin });
    socket.once('upgrade', (res) => {
      resolve(res.statusCode ?? 0);
      socket.close();
    });
    socket.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      res.resume();
      socket.terminate();
    });
    socket.once('error', (error) => {
      if (!/Unexpected server response|closed before/.test(error.message)) reject(error);
    });
  });
}

describe('the WebSocket endpoint and origins', () => {
  const wsUrl = () => gateway.url.replace(/^http/, 'ws');

  it('upgrades for a configured origin, its own origin (the console) and clients that send none', async () => {
    expect(await upgrade(wsUrl(), APP)).toBe(101);
    expect(await upgrade(wsUrl(), new URL(gateway.url).origin)).toBe(101);
    expect(await upgrade(wsUrl(), undefined)).toBe(101);
  });

  it('refuses pages on other origins with 403 before graphql-ws sees them', async () => {
    expect(await upgrade(wsUrl(), 'https://evil.example.com')).toBe(403);
    expect(await upgrade(wsUrl(), 'null')).toBe(403);
    // A gateway with no CORS_ORIGINS serves its own origin only.
    expect(await upgrade(platform.gateway.wsUrl, APP)).toBe(403);
    expect(await upgrade(platform.gateway.wsUrl, new URL(platform.gateway.url).origin)).toBe(101);
  });
});
