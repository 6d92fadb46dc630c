import { testDatabaseKind } from '#testing/test-database.ts';
import { startTestPlatform, type TestPlatform } from '../../support/platform.ts';
import { type Attack, AttackLog, type AttackRequest, describeFailure, type Expectation } from './attack.ts';
import { seedWorld, type World } from './seed.ts';

/** An attack whose request is built once the world is seeded (ids are only known then). */
export interface AttackCase {
  name: string;
  class: Attack['class'];
  target: string;
  expect: Expectation;
  build(world: World): Promise<AttackRequest> | AttackRequest;
}

/** The platform and seeded world of one test file, shared by all its attacks. */
export interface AttackSuite {
  readonly platform: TestPlatform;
  readonly world: World;
  readonly log: AttackLog;
  /** Declares one Jest test per case; each fails on a leak or a missing refusal. */
  attacks(cases: AttackCase[]): void;
}

/**
 * Starts one platform for the file, seeds victim and attacker, and writes the file's tally for the
 * reporter when it ends. Call at the top level of a test file.
 */
export function attackSuite(file: string): AttackSuite {
  const log = new AttackLog(file);
  let platform: TestPlatform | undefined;
  let world: World | undefined;
  beforeAll(async () => {
    platform = await startTestPlatform();
    world = await seedWorld(platform);
  });
  afterAll(async () => {
    log.flush(testDatabaseKind());
    await platform?.close();
  });
  const suite: AttackSuite = {
    get platform() {
      if (!platform) throw new Error('the platform has not started');
      return platform;
    },
    get world() {
      if (!world) throw new Error('the world has not been seeded');
      return world;
    },
    log,
    attacks(cases) {
      const names = new Set<string>();
      for (const c of cases) {
        const key = `${c.target}: ${c.name}`;
        if (names.has(key)) throw new Error(`duplicate attack ${key}`);
        names.add(key);
      }
      it.each(cases.map((c) => [`${c.target}: ${c.name}`, c] as const))('%s', async (_, c) => {
        const request = await c.build(suite.world);
        const result = await log.run(
          { name: c.name, class: c.class, target: c.target, request, expect: c.expect },
          suite.world.secrets,
        );
        if (result.leaks.length > 0 || result.problems.length > 0) throw new Error(describeFailure(result));
      });
    },
  };
  return suite;
}
