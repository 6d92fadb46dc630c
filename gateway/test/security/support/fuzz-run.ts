// Sends the fuzz suite's calls and judges each: no 5xx (nor an internal error in the body), the
// services stay ready, no victim data comes back, and every refused call has its audit record.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestDatabase } from '#testing/test-database.ts';
import { type AttackTally, runDirectory } from './attack.ts';
import type { FuzzCall, FuzzTarget } from './fuzz-calls.ts';

/** What one target's calls produced. */
export interface FuzzReport {
  target: FuzzTarget;
  calls: number;
  refused: number;
  /** Calls answered with HTTP 5xx or an INTERNAL_SERVER_ERROR, by label. */
  fiveXx: string[];
  /** Calls that got no answer, or after which a service was not ready. */
  crashes: string[];
  /** Refused calls without an audit record, by label. */
  unaudited: string[];
  /** Victim strings found in answers, by label. */
  leaks: string[];
}

/** Options of {@link runFuzz}. */
export interface FuzzRunOptions {
  urls: Record<FuzzTarget, string>;
  token(roles: string[]): Promise<string>;
  db: TestDatabase;
  seed: number;
  /** Strings that must never come back unless the call sent them. */
  secrets: readonly string[];
  /** Every how many calls the readiness of every service is checked. */
  readyEvery?: number;
}

const readyUrl = (graphql: string) => graphql.replace(/\/graphql$/, '/ready');

async function allReady(urls: Record<FuzzTarget, string>): Promise<string[]> {
  const down: string[] = [];
  for (const [name, url] of Object.entries(urls)) {
    const res = await fetch(readyUrl(url)).catch(() => undefined);
    if (res?.status !== 200) down.push(name);
    await res?.body?.cancel();
  }
  return down;
}

/** Sends `calls` one after another and reports on them. */
export async function runFuzz(
  target: FuzzTarget,
  calls: FuzzCall[],
  options: FuzzRunOptions,
): Promise<FuzzReport> {
  const report: FuzzReport = {
    target,
    calls: 0,
    refused: 0,
    fiveXx: [],
    crashes: [],
    unaudited: [],
    leaks: [],
  };
  const refusedIds = new Map<string, string>();
  const tokens = new Map<string, Promise<string>>();
  const tokenFor = (roles: string[]) => {
    const key = roles.join(',');
    if (!tokens.has(key)) tokens.set(key, options.token(roles));
    return tokens.get(key) as Promise<string>;
  };
  const every = options.readyEvery ?? 40;
  for (const [i, call] of calls.entries()) {
    const requestId = `fuzz-${options.seed}-${target}-${i}`;
    const headers: Record<string, string> = {
      authorization: `Bearer ${await tokenFor(call.roles)}`,
      'x-request-id': requestId,
      // Apollo's CSRF prevention refuses GETs without a preflight header.
      'apollo-require-preflight': 'true',
    };
    if (call.method === 'POST') headers['content-type'] = 'application/json';
    report.calls += 1;
    let status: number;
    let text: string;
    try {
      const res = await fetch(`${options.urls[call.target]}${call.search ?? ''}`, {
        method: call.method,
        headers,
        ...(call.body !== undefined ? { body: call.body } : {}),
      });
      status = res.status;
      text = await res.text();
    } catch (error) {
      report.crashes.push(
        `${call.label}: no answer (${error instanceof Error ? error.message : String(error)})`,
      );
      continue;
    }
    let codes: unknown[] = [];
    try {
      const parsed = JSON.parse(text) as { errors?: { extensions?: { code?: unknown } }[] };
      codes = (parsed.errors ?? []).map((e) => e.extensions?.code);
    } catch {
      codes = ['(not JSON)'];
    }
    if (status >= 500 || codes.includes('INTERNAL_SERVER_ERROR'))
      report.fiveXx.push(`${call.label}: HTTP ${status} ${text.slice(0, 300)}`);
    const sent = call.body ?? call.search ?? '';
    for (const secret of options.secrets)
      if (!sent.includes(secret) && text.includes(secret)) report.leaks.push(`${call.label}: ${secret}`);
    // An automatic persisted query's first request is answered "send the text": a protocol step.
    const protocolStep = codes.length > 0 && codes.every((c) => c === 'PERSISTED_QUERY_NOT_FOUND');
    if ((status >= 400 || codes.length > 0) && !protocolStep) {
      report.refused += 1;
      refusedIds.set(requestId, call.label);
    }
    if ((i + 1) % every === 0 || i === calls.length - 1) {
      const down = await allReady(options.urls);
      if (down.length > 0) report.crashes.push(`after ${call.label}: not ready: ${down.join(', ')}`);
    }
  }
  const ids = [...refusedIds.keys()];
  const found = await options.db.asSuperuser<{ request_id: string }>(
    'select distinct request_id from audit.audit_events where request_id = any($1::text[])',
    [ids],
  );
  const audited = new Set(found.map((r) => r.request_id));
  for (const [id, label] of refusedIds) if (!audited.has(id)) report.unaudited.push(label);
  return report;
}

/** The summary line of a set of reports. */
export function fuzzSummary(reports: readonly FuzzReport[]): string {
  const sum = (pick: (r: FuzzReport) => number) => reports.reduce((n, r) => n + pick(r), 0);
  return `${sum((r) => r.calls)} calls, ${sum((r) => r.fiveXx.length)} 5xx, ${sum((r) => r.crashes.length)} crashes, ${sum((r) => r.unaudited.length)} unaudited`;
}

/** Writes the run's tally where the attack reporter sums it (fuzz calls count as attacks of class `fuzz`). */
export function flushFuzzTally(project: string, reports: readonly FuzzReport[]): void {
  const calls = reports.reduce((n, r) => n + r.calls, 0);
  const tally: AttackTally & { fuzz: Record<string, number> } = {
    file: 'fuzz',
    project,
    attacks: calls,
    leaks: reports.reduce((n, r) => n + r.leaks.length, 0),
    notRefused: 0,
    internalErrors: reports.flatMap((r) => r.fiveXx),
    byClass: { fuzz: calls },
    leaked: reports.flatMap((r) => r.leaks),
    fuzz: {
      calls,
      fiveXx: reports.reduce((n, r) => n + r.fiveXx.length, 0),
      crashes: reports.reduce((n, r) => n + r.crashes.length, 0),
      unaudited: reports.reduce((n, r) => n + r.unaudited.length, 0),
    },
  };
  const dir = runDirectory();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `fuzz.${project}.${process.pid}.json`), JSON.stringify(tally));
}
