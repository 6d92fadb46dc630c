import { containsNormalised, corpusDir, normalise, pageText } from '../src/corpus.ts';

describe('corpus text', () => {
  it('extracts the text of an HTML page with the platform parser, navigation dropped', () => {
    const html =
      '<html><head><title>t</title></head><body><div class="navheader">Prev Next</div>' +
      '<h2>6.2. Commands</h2><p>Run <code>apt   update</code> first.</p></body></html>';
    expect(pageText(html)).toBe('6.2. Commands\n\nRun apt update first.');
  });

  it('compares case- and whitespace-insensitively', () => {
    expect(normalise('  Apt\n  UPDATE ')).toBe('apt update');
    expect(containsNormalised('Use APT\nUpdate now', 'apt update')).toBe(true);
    expect(containsNormalised('Use apt upgrade', 'apt update')).toBe(false);
  });

  it('says how to install a missing corpus', () => {
    expect(() => corpusDir('/nonexistent/handbook')).toThrow(
      /evaluation corpus is missing: .*apt-get install -y --no-install-recommends debian-handbook/,
    );
  });
});
