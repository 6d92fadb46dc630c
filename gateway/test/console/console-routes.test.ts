import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DevIssuer, loadOrCreateDevKeys, startDevIssuer } from '#kernel/auth/dev-issuer.ts';
import { loadConfig } from '#kernel/config.ts';
import { createLogger } from '#kernel/logger.ts';
import { loadConsoleSignIn } from '../../src/console/console-config.ts';
import { consoleRoute } from '../../src/console/console-routes.ts';

let dir: string;
let dist: string;
let server: Server;
let base: string;
let issuer: DevIssuer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wtdc-console-'));
  dist = join(dir, 'dist');
  await mkdir(join(dist, 'assets'), { recursive: true });
  await writeFile(join(dist, 'index.html'), '<!doctype html><title>console</title>');
  await writeFile(join(dist, 'assets', 'main-ABCD1234.js'), 'export {};');
  await writeFile(join(dist, 'widgetdc-approvals.js'), 'export {};');
  await writeFile(join(dist, 'assets', 'notes.exe'), 'MZ');
  await writeFile(join(dir, 'secret.js'), 'the key');
  issuer = await startDevIssuer(await loadOrCreateDevKeys(dir), {
    host: '127.0.0.1',
    port: 0,
    nodeEnv: 'development',
    allowInProduction: false,
    audience: 'api://widgetdc',
  });
  const route = consoleRoute({
    signIn: { devIssuerUrl: new URL(issuer.jwksUrl).origin, entra: undefined },
    dist,
    logger: createLogger('test', loadConfig().log),
  });
  server = createServer(route);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await issuer.close();
  await rm(dir, { recursive: true, force: true });
});

const get = (path: string) => fetch(`${base}${path}`, { redirect: 'manual' });

/** A GET of exactly this path (fetch would normalise `..` away before sending it). */
function rawGet(path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request(`${base}/`, { path }, (res) => {
      let body = '';
      res.on('data', (c) => {
        body += String(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('the /console route', () => {
  it('serves the app with its content type, a strict policy and revalidation; its pages fall back to it', async () => {
    for (const path of ['/console/', '/console/tasks/123']) {
      const res = await get(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(res.headers.get('cache-control')).toBe('no-cache');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe');
      expect(await res.text()).toContain('<title>console</title>');
    }
    expect((await get('/console')).headers.get('location')).toBe('/console/');
  });

  it('caches hashed assets for a year, the widget for minutes, and answers 304 to a matching etag', async () => {
    const hashed = await get('/console/assets/main-ABCD1234.js');
    expect(hashed.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(hashed.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const widget = await get('/console/widgetdc-approvals.js');
    expect(widget.headers.get('cache-control')).toBe('public, max-age=300');
    const again = await fetch(`${base}/console/widgetdc-approvals.js`, {
      headers: { 'if-none-match': widget.headers.get('etag')! },
    });
    expect(again.status).toBe(304);
  });

  it('never leaves the build folder and serves no unknown file type', async () => {
    for (const path of [
      '/console/../secret.js',
      '/console/..%2fsecret.js',
      '/console/%2e%2e/secret.js',
      '/console/assets/..%2f..%2fsecret.js',
      '/console/..%5csecret.js',
      '/console/%00.js',
      '/console/assets/notes.exe',
      '/console/.hidden.js',
      '/secret.js',
      '/consolesecret.js',
      '/console/missing.js',
    ]) {
      const res = await rawGet(path);
      expect({ path, status: res.status }).toEqual({ path, status: 404 });
      expect(res.body).not.toContain('the key');
    }
    expect((await fetch(`${base}/console/`, { method: 'POST' })).status).toBe(405);
  });

  it('tells the browser which sign-in it offers and mints dev tokens only from JSON requests', async () => {
    expect(await (await get('/console/config.json')).json()).toEqual({ dev: true, entra: null });
    const minted = await fetch(`${base}/console/dev-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'demo', user: 'bob', roles: ['Approver'] }),
    });
    expect(minted.status).toBe(200);
    const { token } = (await minted.json()) as { token: string };
    const claims = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect(claims).toMatchObject({ roles: ['Approver'], name: 'bob', aud: 'api://widgetdc' });
    // A cross-site form cannot send JSON, so it cannot mint a token.
    const form = await fetch(`${base}/console/dev-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'tenant=demo&user=bob',
    });
    expect(form.status).toBe(415);
    const badRole = await fetch(`${base}/console/dev-token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ tenant: 'demo', user: 'bob', roles: ['Root'] }),
    });
    expect(badRole.status).toBe(400);
    expect(((await badRole.json()) as { error: string }).error).toMatch(/roles must be a list of Reader/);
  });
});

describe('the console sign-in settings', () => {
  const auth = loadConfig({}).auth;
  it('refuses dev sign-in in production and Entra ID sign-in without Entra ID for the API', () => {
    expect(() =>
      loadConsoleSignIn(auth, 'production', { CONSOLE_DEV_ISSUER_URL: 'http://127.0.0.1:4010' }),
    ).toThrow(/CONSOLE_DEV_ISSUER_URL must not be set with NODE_ENV=production/);
    expect(() => loadConsoleSignIn(auth, 'development', { CONSOLE_ENTRA_CLIENT_ID: 'spa' })).toThrow(
      /CONSOLE_ENTRA_CLIENT_ID needs Entra ID configured/,
    );
    expect(loadConsoleSignIn(auth, 'production', {})).toEqual({ devIssuerUrl: undefined, entra: undefined });
  });

  it('asks Entra ID for the API scope at the single tenant', () => {
    const tenant = '6c1f3f1e-8f0e-4f7a-9d9e-2b1a4c5d6e7f';
    const entraAuth = loadConfig({
      AUTH_TENANT_IDS: tenant,
      AUTH_CLIENT_ID: '0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9',
    }).auth;
    expect(
      loadConsoleSignIn(entraAuth, 'production', { CONSOLE_ENTRA_CLIENT_ID: 'spa-client' }).entra,
    ).toEqual({
      clientId: 'spa-client',
      authority: `https://login.microsoftonline.com/${tenant}`,
      scopes: ['api://0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9/access_as_user'],
    });
  });
});
