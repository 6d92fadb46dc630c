// The fuzz suite: hostile values (control characters, lone surrogates, huge and tiny numbers,
// invalid and extreme dates, random bytes in cursors and ids, oversized strings, malformed request
// members) in every argument of every operation, through the gateway (the supergraph's API schema)
// and straight to each subgraph (its SDL), with tokens of several roles. For each call: no 5xx, every
// service stays ready, no victim data, and a refused call has its audit record. Seeded
// (WIDGETDC_FUZZ_SEED) and deterministic; prints "N calls, 0 5xx, 0 crashes, 0 unaudited".
import { testDatabaseKind } from '#testing/test-database.ts';
import { startTestPlatform, type TestPlatform } from '../support/platform.ts';
import { type FuzzTarget, fuzzCalls } from './support/fuzz-calls.ts';
import { type FuzzReport, flushFuzzTally, fuzzSummary, runFuzz } from './support/fuzz-run.ts';
import { Random } from './support/fuzz-values.ts';
import { seedWorld, type World } from './support/seed.ts';

const SEED = Number(process.env.WIDGETDC_FUZZ_SEED ?? 20261202);
const TARGETS: FuzzTarget[] = ['gateway', 'knowledge', 'agent', 'governance', 'audit'];

let platform: TestPlatform;
let world: World;
const reports: FuzzReport[] = [];
// The calls depend only on the seed and the SDL (the victim ids among them are whatever seeding made).
const random = new Random(SEED);
let calls: ReturnType<typeof fuzzCalls>;

beforeAll(async () => {
  platform = await startTestPlatform();
  world = await seedWorld(platform);
  const victimIds = [...world.victim.taskIds, ...world.victim.approvalIds, ...world.victim.documentIds];
  calls = fuzzCalls(
    random,
    victimIds.map((id) => ({ name: "another tenant's id", value: id })),
  );
  // The attacker's tenant is registered (seeding did that), so even its first refusal can be recorded.
}, 120_000);

afterAll(async () => {
  if (reports.length > 0) {
    flushFuzzTally(testDatabaseKind(), reports);
    process.stderr.write(`\nfuzz (${testDatabaseKind()}, seed ${SEED}): ${fuzzSummary(reports)}\n`);
  }
  await platform?.close();
});

describe(`fuzz, seed ${SEED}`, () => {
  it.each(TARGETS)(
    'hostile values sent to %s: no 5xx, ready throughout, no leak, every refusal audited',
    async (target) => {
      const report = await runFuzz(target, calls[target], {
        urls: world.targets,
        token: (roles) => world.attacker.token(roles),
        db: platform.db,
        seed: SEED,
        secrets: world.secrets,
      });
      reports.push(report);
      expect(report.calls).toBeGreaterThan(50);
      expect(report.refused).toBeGreaterThan(report.calls / 2);
      expect({
        fiveXx: report.fiveXx,
        crashes: report.crashes,
        leaks: report.leaks,
        unaudited: report.unaudited,
      }).toEqual({
        fiveXx: [],
        crashes: [],
        leaks: [],
        unaudited: [],
      });
    },
    240_000,
  );
});
