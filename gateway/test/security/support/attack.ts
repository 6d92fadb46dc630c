import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Attack classes, as the issue names them; the summary counts per class. */
export type AttackClass =
  | 'cross-tenant-id'
  | 'entities'
  | 'list-leakage'
  | 'token-forgery'
  | 'token-claims'
  | 'missing-role'
  | 'spoofed-header'
  | 'injection'
  | 'query-shape'
  | 'business-rule'
  | 'audit-evasion'
  | 'fuzz';

/**
 * What the attacked service must do.
 * - `unauthenticated`: HTTP 401, `UNAUTHENTICATED`, no data.
 * - `forbidden`: a `FORBIDDEN` error (naming `missingRole` when given) and no data for the field.
 * - `refused`: an error or a 4xx (with one of `codes` when given), and no data for any root field.
 * - `null-or-refused`: every root field answers null or an empty list, or the request is refused.
 * - `no-leak`: any answer except an internal error; only the leak check applies (the caller's own
 *   data may come back).
 */
export type Expectation =
  | { kind: 'unauthenticated' }
  | { kind: 'forbidden'; missingRole?: string }
  | { kind: 'refused'; codes?: string[] }
  | { kind: 'null-or-refused' }
  | { kind: 'no-leak' };

/** One HTTP request an attack sends. */
export interface AttackRequest {
  /** URL of the gateway or of one subgraph. */
  url: string;
  /** Raw bearer token; absent sends no Authorization header. */
  token?: string;
  /** Overrides the Authorization header verbatim (malformed schemes). */
  authorization?: string;
  headers?: Record<string, string>;
  /** A GraphQL operation, or any JSON body (batches) when `rawBody` is set. */
  query?: string;
  variables?: Record<string, unknown>;
  rawBody?: unknown;
}

/** A data-driven attack case. */
export interface Attack {
  name: string;
  class: AttackClass;
  /** `gateway` or a subgraph name, for the report. */
  target: string;
  request: AttackRequest;
  expect: Expectation;
}

/** What one attack produced. */
export interface AttackResult {
  attack: Attack;
  status: number;
  body: unknown;
  /** Victim strings found in the response body or headers. */
  leaks: string[];
  /** Why the response is not the expected refusal; empty when it is. */
  problems: string[];
  /** The response was an internal error (not a failure by itself for `null-or-refused`/`refused`). */
  internalError: boolean;
}

interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: { message?: string; extensions?: { code?: string } }[];
}

/**
 * Sends the attack, scans the whole response for any of `secrets`, and checks the expectation.
 * Secrets in `known` (sent by earlier attacks, so possibly stored in the attacker's own rows) and
 * those this request sends are not foreign data when they come back; the ones sent are added to it.
 */
export async function runAttack(
  attack: Attack,
  secrets: readonly string[],
  known: Set<string> = new Set(),
): Promise<AttackResult> {
  const { request } = attack;
  const headers: Record<string, string> = { 'content-type': 'application/json', ...request.headers };
  if (request.authorization !== undefined) headers.authorization = request.authorization;
  else if (request.token !== undefined) headers.authorization = `Bearer ${request.token}`;
  const payload = JSON.stringify(
    request.rawBody ?? {
      query: request.query,
      ...(request.variables ? { variables: request.variables } : {}),
    },
  );
  const res = await fetch(request.url, { method: 'POST', headers, body: payload });
  const text = await res.text();
  const responseHeaders = [...res.headers].map(([k, v]) => `${k}: ${v}`).join('\n');
  // What the attacker sent is not foreign data when echoed back (e.g. "Task <id> does not exist").
  const sent = `${payload}\n${JSON.stringify(headers)}`;
  const haystack = `${text}\n${responseHeaders}`;
  for (const secret of secrets) if (sent.includes(secret)) known.add(secret);
  const leaks = secrets.filter((s) => s.length >= 6 && !known.has(s) && haystack.includes(s));
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Non-JSON answers (plain-text 4xx) are checked by status alone.
  }
  const problems = checkExpectation(attack.expect, res.status, body);
  const internalError = JSON.stringify(body).includes('INTERNAL_SERVER_ERROR') || res.status >= 500;
  if (attack.expect.kind === 'no-leak' && internalError) {
    problems.push('the service answered with an internal error instead of handling the input');
  }
  return { attack, status: res.status, body, leaks, problems, internalError };
}

function checkExpectation(expect: Expectation, status: number, raw: unknown): string[] {
  const body = (typeof raw === 'object' && raw !== null ? raw : {}) as GraphQLBody;
  const errors = body.errors ?? [];
  const codes = errors.map((e) => e.extensions?.code);
  const data = body.data ?? null;
  const values = data ? Object.values(data) : [];
  const anyData = values.some((v) => v !== null);
  const problems: string[] = [];
  const refused = status >= 400 || errors.length > 0;
  switch (expect.kind) {
    case 'unauthenticated':
      if (status !== 401) problems.push(`expected HTTP 401, got ${status}`);
      if (!codes.includes('UNAUTHENTICATED'))
        problems.push(`expected UNAUTHENTICATED, got ${codes.join(',')}`);
      if (data !== null) problems.push('expected no data at all');
      break;
    case 'forbidden': {
      if (!codes.includes('FORBIDDEN')) problems.push(`expected FORBIDDEN, got ${codes.join(',') || 'none'}`);
      if (anyData) problems.push('expected no data for the refused field');
      const role = expect.missingRole;
      if (role && !errors.some((e) => e.extensions?.code === 'FORBIDDEN' && e.message?.includes(role))) {
        problems.push(`expected the FORBIDDEN message to name the role ${role}`);
      }
      break;
    }
    case 'refused':
      if (!refused) problems.push(`expected a refusal (4xx or error), got HTTP ${status} without errors`);
      if (anyData) problems.push('expected no data');
      if (expect.codes && !expect.codes.some((c) => codes.includes(c))) {
        problems.push(
          `expected code ${expect.codes.join(' or ')}, got ${codes.join(',') || `HTTP ${status}`}`,
        );
      }
      break;
    case 'null-or-refused':
      if (!refused && !values.every(isEmptyAnswer))
        problems.push('expected null, an empty list or a refusal');
      if (refused && anyData && !values.every(isEmptyAnswer))
        problems.push('refused but still returned data');
      break;
    case 'no-leak':
      break;
  }
  return problems;
}

/** Null, an empty list, a list of nulls, or an object holding only ids, cursors and empty answers. */
function isEmptyAnswer(value: unknown): boolean {
  if (value === null || value === undefined) return true;
  if (Array.isArray(value)) return value.every(isEmptyAnswer);
  if (typeof value !== 'object') return false;
  return Object.entries(value).every(
    ([key, inner]) => ['__typename', 'id', 'pageInfo'].includes(key) || isEmptyAnswer(inner),
  );
}

/** A failure message that shows the attack, what came back and the leaked values. */
export function describeFailure(result: AttackResult): string {
  const { attack } = result;
  const shown = JSON.stringify(result.body);
  return [
    `attack "${attack.name}" [${attack.class}] against ${attack.target}`,
    attack.request.query ? `operation: ${attack.request.query.slice(0, 400)}` : '',
    attack.request.variables ? `variables: ${JSON.stringify(attack.request.variables).slice(0, 300)}` : '',
    attack.request.headers ? `headers: ${JSON.stringify(attack.request.headers)}` : '',
    ...result.leaks.map((l) => `LEAKED: ${l}`),
    ...result.problems.map((p) => `NOT REFUSED: ${p}`),
    `response HTTP ${result.status}: ${shown.length > 1200 ? `${shown.slice(0, 1200)}…` : shown}`,
  ]
    .filter(Boolean)
    .join('\n');
}

/** Counts of one test file on one database kind, summed by the reporter. */
export interface AttackTally {
  file: string;
  project: string;
  attacks: number;
  leaks: number;
  notRefused: number;
  internalErrors: string[];
  byClass: Record<string, number>;
  leaked: string[];
}

/** Environment variable naming the run's tally folder (set by the reporter before workers start). */
export const RUN_DIR_VARIABLE = 'WIDGETDC_ATTACK_RUN_DIR';

/** The folder this run's tallies go to. */
export function runDirectory(): string {
  return process.env[RUN_DIR_VARIABLE] ?? join(tmpdir(), `widgetdc-attacks-${process.ppid}`);
}

/** Collects the results of one file and writes its tally for the reporter. */
export class AttackLog {
  readonly results: AttackResult[] = [];
  private readonly file: string;
  /** Victim strings the attacker has sent so far (it may have stored them in its own rows). */
  private readonly known = new Set<string>();

  constructor(file: string) {
    this.file = file;
  }

  /** Runs, records and returns one attack. */
  async run(attack: Attack, secrets: readonly string[]): Promise<AttackResult> {
    const result = await runAttack(attack, secrets, this.known);
    this.results.push(result);
    return result;
  }

  /** Writes the tally to the run folder (one JSON file per test file and database kind). */
  flush(project: string): void {
    const byClass: Record<string, number> = {};
    for (const r of this.results) byClass[r.attack.class] = (byClass[r.attack.class] ?? 0) + 1;
    const tally: AttackTally = {
      file: this.file,
      project,
      attacks: this.results.length,
      leaks: this.results.filter((r) => r.leaks.length > 0).length,
      notRefused: this.results.filter((r) => r.problems.length > 0).length,
      internalErrors: this.results.filter((r) => r.internalError).map((r) => r.attack.name),
      byClass,
      leaked: this.results.flatMap((r) => r.leaks.map((l) => `${r.attack.name}: ${l}`)),
    };
    const dir = runDirectory();
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `${this.file}.${project}.${process.pid}.json`), JSON.stringify(tally));
  }
}
