import { builtInVersion, renderPrompt } from '#llm/prompts/prompt-store.ts';
import { placeholdersOf, renderTemplate, validateTemplate } from '#llm/prompts/template.ts';

describe('prompt templates', () => {
  it('names its placeholders once each, in order, spaces inside the braces allowed', () => {
    expect(placeholdersOf('{{ a }} and {{b}} then {{a}}; {not} {{}}')).toEqual(['a', 'b', '']);
  });

  it('renders every placeholder in one pass: a value holding {{…}} is not expanded', () => {
    expect(
      renderTemplate('Q: {{question}} / {{ sources }}', { question: 'what is {{sources}}?', sources: 'S' }),
    ).toBe('Q: what is {{sources}}? / S');
    // Replacement patterns of String.replace ($&, $1) are text like any other.
    expect(renderTemplate('{{q}}', { q: 'costs $& and $1' })).toBe('costs $& and $1');
  });

  it('refuses to render a placeholder without a value, naming it and the values given', () => {
    expect(() => renderTemplate('{{question}} {{tone}}', { question: 'q' })).toThrow(
      'The template uses {{tone}} but no value was given for it (values given: question)',
    );
    expect(() => renderTemplate('{{a}}{{b}}', {})).toThrow(
      'The template uses {{a}}, {{b}} but no value was given for them (values given: none)',
    );
  });

  it('validates a template against the variables it may use', () => {
    expect(() => validateTemplate('{{question}} {{sources}}', ['question', 'sources'], 'user')).not.toThrow();
    expect(() =>
      validateTemplate('{{question}} {{secret}} {{a b}}', ['question', 'sources'], 'user'),
    ).toThrow(
      'The user template uses unknown placeholders {{secret}}, {{a b}}; it may use {{question}}, {{sources}}',
    );
  });

  it('renders the built-in prompts (version 0) with their own variables only', () => {
    const answer = renderPrompt(builtInVersion('knowledge.answer'), {
      question: 'Why?',
      sources: '[1] T\nBecause.',
    });
    expect(answer.messages[1]).toEqual({
      role: 'user',
      content: 'Sources:\n\n[1] T\nBecause.\n\nQuestion: Why?',
    });
    expect(answer.use).toEqual({
      name: 'knowledge.answer',
      version: 0,
      variables: { question: 'Why?', sources: '[1] T\nBecause.' },
      messages: 2,
    });
    const planner = renderPrompt(builtInVersion('agent.planner'), {
      goal: 'Tidy up',
      owner: 'Ada',
      tools: '',
    });
    expect(planner.messages[0]!.content).toMatch(
      /^You are the planning agent of WidgeTDC, working for Ada\./,
    );
    expect(planner.messages[1]).toEqual({ role: 'user', content: 'Tidy up' });
  });
});
