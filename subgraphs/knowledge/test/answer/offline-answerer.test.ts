import type { AnswerSource } from '../../src/answer/answerer.ts';
import { NO_ANSWER, OfflineAnswerer } from '../../src/answer/offline-answerer.ts';
import { splitSentences } from '../../src/answer/sentences.ts';
import { DEFAULT_ANSWER_MIN_COVERAGE } from '../../src/config.ts';
import { CORPUS } from '../fixtures/corpus.ts';

const sources: AnswerSource[] = CORPUS.map((doc, i) => ({
  n: i + 1,
  chunkId: `chunk-${doc.key}`,
  documentId: doc.key,
  title: doc.title,
  headingPath: '',
  page: null,
  text: doc.text,
  score: 1 / (i + 1),
}));
const answerer = new OfflineAnswerer({ minCoverage: DEFAULT_ANSWER_MIN_COVERAGE });

describe('offline answerer', () => {
  it('answers with sentences of the sources, each cited by its number and quoted exactly', async () => {
    const draft = await answerer.answer('What is the default port of PostgreSQL?', sources);
    expect(draft.unanswered).toBe(false);
    expect(draft.citations[0]).toEqual({ n: 1, quote: 'The server listens on TCP port 5432 by default.' });
    expect(draft.text.startsWith('The server listens on TCP port 5432 by default. [1]')).toBe(true);
    for (const citation of draft.citations) {
      expect(sources[citation.n - 1]!.text).toContain(citation.quote);
      expect(draft.text).toContain(`${citation.quote} [${citation.n}]`);
    }
    // Nothing but cited quotes: removing them and their markers leaves only spaces.
    let rest = draft.text;
    for (const c of draft.citations) rest = rest.replace(`${c.quote} [${c.n}]`, '');
    expect(rest.trim()).toBe('');
    expect(draft.model).toBe('offline-extractive');
    expect(draft.usage.completionTokens).toBeGreaterThan(0);
    expect(draft.usage.promptTokens).toBeGreaterThan(draft.usage.completionTokens);
  });

  it('cites the source a sentence came from, in any language of the corpus', async () => {
    const redis = await answerer.answer('How often does Redis call fsync with everysec?', sources);
    expect(redis.citations[0]!.n).toBe(2);
    expect(redis.citations[0]!.quote).toMatch(
      /^With everysec, the default, Redis calls fsync once per second/,
    );
    const danish = await answerer.answer('Hvor mange kilometer cykelstier har København?', sources);
    expect(danish.citations[0]).toMatchObject({ n: 5 });
    expect(danish.citations[0]!.quote).toContain('380 kilometer cykelstier');
  });

  it('says plainly that the documents do not answer when no sentence covers the question', async () => {
    for (const question of [
      'Who won the football world cup in 1998?',
      'How many pods can a Kubernetes node run at most?',
      'What is the price of a Redis Enterprise licence?',
      'the and of',
    ]) {
      const draft = await answerer.answer(question, sources);
      expect(draft).toMatchObject({ text: NO_ANSWER, citations: [], unanswered: true });
    }
    expect(await answerer.answer('What is the default port?', [])).toMatchObject({ unanswered: true });
  });

  it('follows the best sentence with the next one of its passage, quoted and cited as well', async () => {
    const passage: AnswerSource = {
      ...sources[0]!,
      n: 1,
      text: 'The tool that installs a package file is dpkg. Run dpkg --install file.deb as root. Unrelated closing words.',
    };
    const draft = await answerer.answer('Which tool installs a package file?', [passage]);
    expect(draft.citations.slice(0, 2)).toEqual([
      { n: 1, quote: 'The tool that installs a package file is dpkg.' },
      { n: 1, quote: 'Run dpkg --install file.deb as root.' },
    ]);
    expect(draft.text).toContain('dpkg. [1] Run dpkg --install file.deb as root. [1]');
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(answerer.answer('port?', sources, { signal: controller.signal })).rejects.toThrow();
  });
});

describe('sentence splitting', () => {
  it('cuts at sentence ends and line breaks, keeping exact slices', () => {
    const text =
      'It listens on 5432. Restart it (e.g. pg_ctl restart) after a change!\n- one item\n\n3 more. e.g. lower case stays';
    const sentences = splitSentences(text);
    expect(sentences.map((s) => s.text)).toEqual([
      'It listens on 5432.',
      'Restart it (e.g. pg_ctl restart) after a change!',
      '- one item',
      '3 more. e.g. lower case stays',
    ]);
    for (const s of sentences) expect(text.slice(s.start, s.start + s.text.length)).toBe(s.text);
  });
});
