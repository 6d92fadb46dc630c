import { LESS_THAN, MARK_END, MARK_START, toSnippet } from '../../src/search/snippet.ts';

describe('snippets', () => {
  it('escapes the text, restores <, and turns only the markers into <mark>', () => {
    const headline = `a ${LESS_THAN}b> & "c" 'd' ${MARK_START}port${MARK_END} ${LESS_THAN}mark>x${LESS_THAN}/mark>`;
    expect(toSnippet(headline)).toBe(
      'a &lt;b&gt; &amp; &quot;c&quot; &#39;d&#39; <mark>port</mark> &lt;mark&gt;x&lt;/mark&gt;',
    );
  });
});
