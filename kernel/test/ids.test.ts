import { isName, isUuid, uuidSchema } from '#kernel/ids.ts';

describe('ids', () => {
  it('accepts canonical UUIDs of any version and case, nothing else', () => {
    expect(isUuid('72f988bf-86f1-41af-91ab-2d7cd011db47')).toBe(true);
    expect(isUuid('72F988BF-86F1-41AF-91AB-2D7CD011DB47')).toBe(true);
    expect(isUuid('00000000-0000-0000-0000-000000000001')).toBe(true);
    for (const bad of [
      '',
      'x',
      '72f988bf86f141af91ab2d7cd011db47',
      '{72f988bf-86f1-41af-91ab-2d7cd011db47}',
      7,
    ]) {
      expect(isUuid(bad)).toBe(false);
    }
  });

  it('checks event fields with the same rule', () => {
    expect(uuidSchema().safeParse('00000000-0000-0000-0000-000000000001').success).toBe(true);
    expect(uuidSchema().safeParse("x' or 1=1").error?.issues[0]?.message).toBe('must be a UUID');
  });

  it('admits names of 1 to 63 lower-case letters, digits and dashes, starting with a letter or digit', () => {
    for (const good of ['a', 'acme', 'agent-approvals', '0day', 'a'.repeat(63)])
      expect(isName(good)).toBe(true);
    for (const bad of ['', '-acme', 'Acme', 'ac_me', 'ac me', 'a'.repeat(64), 3])
      expect(isName(bad)).toBe(false);
  });
});
