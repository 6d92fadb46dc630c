import { relevantChunks } from '../src/relevance.ts';

const chunks = [
  { ordinal: 0, text: 'Use apt update to refresh the lists.' },
  { ordinal: 1, text: 'Then APT  Upgrade installs the new versions; apt update first.' },
  { ordinal: 2, text: 'Logs go to /var/log/apt/history.log.' },
  { ordinal: 3, text: 'and /var/log/apt/term.log as well.' },
];

describe('relevant chunks', () => {
  it('are the chunks of the page holding every required string', () => {
    const r = relevantChunks({ mustContain: ['apt update', 'apt upgrade'] }, chunks);
    expect([...r.ordinals]).toEqual([1]);
    expect(r.rule).toBe('all-strings');
  });

  it('fall back to chunks holding any string when no chunk holds them all', () => {
    const r = relevantChunks({ mustContain: ['/var/log/apt/history.log', '/var/log/apt/term.log'] }, chunks);
    expect([...r.ordinals]).toEqual([2, 3]);
    expect(r.rule).toBe('any-string');
  });

  it('are none when the page lacks the strings', () => {
    expect(relevantChunks({ mustContain: ['dpkg -i'] }, chunks)).toEqual({
      ordinals: new Set(),
      rule: 'none',
    });
  });
});
