import { isRetryableStatus, retryAfterMs, retryDelayMs, waitUnlessAborted } from '#llm/retry.ts';

describe('retry policy', () => {
  it('reads Retry-After as seconds or a date, capped', () => {
    expect(retryAfterMs('2', 60_000)).toBe(2000);
    expect(retryAfterMs('600', 60_000)).toBe(60_000);
    expect(retryAfterMs(new Date(Date.now() + 5000).toUTCString(), 60_000)).toBeGreaterThan(3000);
    expect(retryAfterMs(new Date(Date.now() - 5000).toUTCString(), 60_000)).toBe(0);
    expect(retryAfterMs('soon', 60_000)).toBeUndefined();
    expect(retryAfterMs(null, 60_000)).toBeUndefined();
  });

  it('doubles the backoff unless the server says how long to wait', () => {
    const policy = { backoffMs: 100, maxRetryAfterMs: 10_000 };
    expect([0, 1, 2].map((attempt) => retryDelayMs(attempt, policy))).toEqual([100, 200, 400]);
    expect(retryDelayMs(2, policy, '3')).toBe(3000);
    expect(retryDelayMs(2, policy, 'garbage')).toBe(400);
  });

  it('retries timeouts, conflicts, rate limits and server errors only', () => {
    expect([408, 409, 425, 429, 500, 502, 503, 504].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 413, 422, 501].some(isRetryableStatus)).toBe(false);
  });

  it('stops waiting when the signal aborts', async () => {
    const controller = new AbortController();
    const waiting = waitUnlessAborted(60_000, controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ name: 'AbortError' });
  });
});
