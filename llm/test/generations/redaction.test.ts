// The redaction policy (LLM_REDACT) takes out what it names and nothing else.
import { loadGenerationsConfig } from '#llm/config.ts';
import { parseRedactionRules, RedactionPolicy } from '#llm/generations/redaction.ts';

const TEXT = [
  'Write to ada.lovelace@example.co.uk about it.',
  'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl',
  'key sk-proj-abcdefghijklmnop1234 and api_key=hunter2secret, "password": "p4ss"',
  'CPR 010190-1234 and 3112991234; SSN 123-45-6789.',
  'Port 5432, version 16.4, on 2026-12-06, order 123-456-7890.',
].join('\n');

describe('RedactionPolicy', () => {
  it('removes e-mail addresses, keys, tokens, secrets, CPR and SSN numbers by default', () => {
    const out = new RedactionPolicy().redact(TEXT);
    expect(out).not.toMatch(/ada\.lovelace|example\.co\.uk/);
    expect(out).not.toMatch(/eyJhbGci|sk-proj|hunter2|p4ss/);
    expect(out).not.toMatch(/010190-1234|3112991234|123-45-6789/);
    expect(out).toContain('Write to [REDACTED:email] about it.');
    expect(out).toContain('Authorization: Bearer [REDACTED:secret]');
    expect(out).toContain('api_key=[REDACTED:secret]');
    expect(out).toContain('CPR [REDACTED:cpr] and [REDACTED:cpr]; SSN [REDACTED:ssn].');
    // What looks like a number but is none of those stays.
    expect(out).toContain('Port 5432, version 16.4, on 2026-12-06, order 123-456-7890.');
  });

  it('applies only the rules it is given, inside JSON-like values too', () => {
    const emailOnly = new RedactionPolicy(['email']);
    expect(emailOnly.redactValue({ messages: [{ role: 'user', content: TEXT }], n: 3 })).toEqual({
      messages: [{ role: 'user', content: expect.stringContaining('[REDACTED:email]') }],
      n: 3,
    });
    const redacted = emailOnly.redact(TEXT);
    expect(redacted).toContain('123-45-6789');
    expect(redacted).toContain('sk-proj-abcdefghijklmnop1234');
    expect(new RedactionPolicy([]).redact(TEXT)).toBe(TEXT);
  });
});

describe('LLM_REDACT', () => {
  it('reads all (default), none and lists, national_id meaning CPR and SSN', () => {
    expect(parseRedactionRules(undefined)).toEqual(['email', 'secret', 'cpr', 'ssn']);
    expect(parseRedactionRules('none')).toEqual([]);
    expect(parseRedactionRules('email, national_id')).toEqual(['email', 'cpr', 'ssn']);
    expect(loadGenerationsConfig({ LLM_REDACT: 'secret' }).redact).toEqual(['secret']);
  });

  it('names a rule it does not know', () => {
    expect(() => loadGenerationsConfig({ LLM_REDACT: 'email,phone' })).toThrow(
      /LLM_REDACT must be all, none, or a comma-separated list of email, secret, cpr, ssn, national_id \(got "phone"\)/,
    );
  });
});
