import type { ChatModel, ChatOptions, ChatRequest, ChatResult } from './chat.ts';
import { withChatSpan } from './chat-span.ts';
import {
  parseWholeAnswer,
  requestBody,
  StreamAccumulator,
  StreamedApiError,
  WireError,
} from './chat-wire.ts';
import { LlmError, type LlmErrorKind } from './errors.ts';
import {
  DEFAULT_BACKOFF_MS,
  DEFAULT_MAX_RETRY_AFTER_MS,
  isRetryableStatus,
  retryDelayMs,
  waitUnlessAborted,
} from './retry.ts';
import { sseData } from './sse.ts';

/** Something that hands out access tokens (kernel's `ServiceTokenProvider`: msal-node client credentials). */
export interface TokenSource {
  getToken(): Promise<string>;
}

/** How requests authenticate: OpenAI's bearer key, Azure's `api-key` header, or an Entra ID token. */
export type ChatAuth =
  | { readonly kind: 'none' }
  | { readonly kind: 'bearer'; readonly apiKey: string }
  | { readonly kind: 'api-key'; readonly apiKey: string }
  | { readonly kind: 'entra'; readonly tokens: TokenSource };

/** Options of {@link ChatClient}. */
export interface ChatClientOptions {
  /** The full chat-completions URL (`…/v1/chat/completions`, or an Azure deployment's with `api-version`). */
  readonly url: string;
  /** What answers are labelled with until the API names its model (`openai:gpt-4o-mini`). */
  readonly model: string;
  /** `gen_ai.provider.name` of its spans: `openai` (default), `azure.ai.openai`. */
  readonly provider?: string;
  /** `model` sent in the body (OpenAI-compatible); an Azure deployment URL needs none. */
  readonly requestModel?: string;
  readonly auth: ChatAuth;
  /** How long to wait for an answer to start and, streaming, for each next chunk. */
  readonly timeoutMs: number;
  /** Further attempts after a 408/409/425/429/5xx, a network error or a timeout (never after text was streamed). */
  readonly maxRetries: number;
  /** First backoff between attempts (doubles); a Retry-After header replaces it. */
  readonly backoffMs?: number;
  /** Longest wait honoured from a Retry-After header. */
  readonly maxRetryAfterMs?: number;
  /** How to wait between attempts; rejects when the signal aborts (tests record the waits instead of timing them). */
  readonly wait?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** Why one attempt failed, before the number of attempts is known. */
interface Failure {
  kind: LlmErrorKind;
  status?: number;
  /** What happened, as a clause: "did not answer within 30 s". */
  what: string;
  retry: boolean;
  retryAfter?: string | null;
  cause?: unknown;
}

type Attempt = { ok: true; result: Omit<ChatResult, 'attempts'> } | { ok: false; failure: Failure };

const ADVICE: Record<LlmErrorKind, string> = {
  timeout: 'try again later',
  aborted: '',
  rate_limited: 'try again in a minute',
  unauthorized: 'an administrator must check the LLM_* settings (key, or the Entra app’s access)',
  http: 'try again later, or ask an administrator if it persists',
  network: 'try again later',
  malformed: 'an administrator should check LLM_ENDPOINT',
  interrupted: 'try again',
  credentials: 'an administrator must check the AUTH_SERVICE_* settings',
};

/**
 * A chat-completions client for OpenAI-compatible endpoints (OpenAI, vLLM, Ollama, LiteLLM…) and
 * Azure OpenAI, on Node's fetch: whole or SSE-streamed answers, tool calls, usage, a timeout per
 * request (and between streamed chunks), retries with backoff that honour `Retry-After`, and
 * cancellation by AbortSignal at any point. Every failure is an {@link LlmError}.
 */
export class ChatClient implements ChatModel {
  readonly model: string;
  readonly #o: Required<Omit<ChatClientOptions, 'requestModel'>> & { requestModel?: string };
  readonly #url: URL;
  /** Requests sent (attempts included), for tests and metrics. */
  requests = 0;

  constructor(options: ChatClientOptions) {
    this.#o = {
      backoffMs: DEFAULT_BACKOFF_MS,
      maxRetryAfterMs: DEFAULT_MAX_RETRY_AFTER_MS,
      wait: waitUnlessAborted,
      provider: 'openai',
      ...options,
    };
    this.model = options.model;
    this.#url = new URL(options.url);
  }

  chat(request: ChatRequest, options: ChatOptions = {}): Promise<ChatResult> {
    return withChatSpan(
      {
        provider: this.#o.provider,
        model: this.#o.requestModel ?? this.model.replace(/^[a-z]+:/, ''),
        request,
      },
      (firstToken) => this.#chat(request, options, firstToken),
    );
  }

  async #chat(request: ChatRequest, options: ChatOptions, firstToken: () => void): Promise<ChatResult> {
    const { signal } = options;
    const stream = options.stream ?? options.onToken !== undefined;
    const body = JSON.stringify(requestBody(request, this.#o.requestModel, stream));
    let delivered = 0;
    const onToken = (text: string) => {
      if (delivered === 0) firstToken();
      delivered += text.length;
      options.onToken?.(text);
    };
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw this.#error({ kind: 'aborted', what: '', retry: false }, attempt);
      this.requests++;
      const outcome = await this.#attempt(body, stream, signal, onToken);
      if (outcome.ok) return { ...outcome.result, attempts: attempt + 1 };
      let { failure } = outcome;
      if (failure.retry && delivered > 0) {
        // Text already reached the caller: another attempt would repeat it, so the answer ends here.
        failure = {
          kind: failure.kind === 'timeout' ? 'timeout' : 'interrupted',
          what: `broke off after ${delivered} characters (${failure.what})`,
          retry: false,
          cause: failure.cause,
        };
      }
      if (!failure.retry || attempt >= this.#o.maxRetries) throw this.#error(failure, attempt + 1);
      try {
        await this.#o.wait(retryDelayMs(attempt, this.#o, failure.retryAfter), signal);
      } catch {
        throw this.#error({ kind: 'aborted', what: '', retry: false }, attempt + 1);
      }
    }
  }

  async #attempt(
    body: string,
    stream: boolean,
    signal: AbortSignal | undefined,
    onToken: (text: string) => void,
  ): Promise<Attempt> {
    const controller = new AbortController();
    const cancel = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', cancel, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException('timed out', 'TimeoutError'));
    }, this.#o.timeoutMs);
    let headers: Record<string, string>;
    try {
      headers = await this.#headers(stream);
    } catch (error) {
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
      return {
        ok: false,
        failure: {
          kind: 'credentials',
          what: `has no token: ${(error as Error).message}`,
          retry: false,
          cause: error,
        },
      };
    }
    try {
      const response = await fetch(this.#url, { method: 'POST', headers, body, signal: controller.signal });
      if (!response.ok) return { ok: false, failure: await this.#refusal(response) };
      if (!stream) {
        const text = await response.text();
        return { ok: true, result: parseWholeAnswer(text, this.model) };
      }
      if (!response.body) throw new WireError('the streamed answer has no body');
      const answer = new StreamAccumulator(this.model);
      for await (const data of sseData(response.body)) {
        timer.refresh();
        const text = answer.add(data);
        if (text) onToken(text);
        if (answer.done) break;
      }
      if (!answer.complete) {
        return {
          ok: false,
          failure: { kind: 'interrupted', what: 'ended its streamed answer before the end', retry: true },
        };
      }
      return { ok: true, result: answer.result() };
    } catch (error) {
      if (signal?.aborted) return { ok: false, failure: { kind: 'aborted', what: '', retry: false } };
      if (timedOut) {
        return {
          ok: false,
          failure: { kind: 'timeout', what: `sent nothing for ${seconds(this.#o.timeoutMs)}`, retry: true },
        };
      }
      if (error instanceof WireError) {
        return {
          ok: false,
          failure: {
            kind: 'malformed',
            what: `sent an answer we cannot read: ${error.message}`,
            retry: false,
          },
        };
      }
      if (error instanceof StreamedApiError) {
        return {
          ok: false,
          failure: {
            kind: 'http',
            what: `reported an error in its answer: ${clip(error.message)}`,
            retry: true,
          },
        };
      }
      return {
        ok: false,
        failure: {
          kind: 'network',
          what: `cannot be reached (${networkReason(error)})`,
          retry: true,
          cause: error,
        },
      };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', cancel);
      // Releases the connection whatever state the body is in (a no-op after a complete answer).
      controller.abort();
    }
  }

  async #refusal(response: Response): Promise<Failure> {
    const status = response.status;
    const retryAfter = response.headers.get('retry-after');
    const detail = serverMessage(await response.text().catch(() => ''));
    if (status === 401 || status === 403) {
      return {
        kind: 'unauthorized',
        status,
        what: `refused the platform's credentials (HTTP ${status})`,
        retry: false,
      };
    }
    if (status === 429) {
      return {
        kind: 'rate_limited',
        status,
        what: 'is busy (HTTP 429: too many requests)',
        retry: true,
        retryAfter,
      };
    }
    const retry = isRetryableStatus(status);
    // A 4xx explains what was wrong with the request (context too long, unknown model); a 5xx is the
    // service's own trouble and its text tells a user nothing.
    const what =
      status < 500 && detail ? `refused the request (HTTP ${status}: ${detail})` : `failed (HTTP ${status})`;
    return { kind: 'http', status, what, retry, retryAfter };
  }

  async #headers(stream: boolean): Promise<Record<string, string>> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      accept: stream ? 'text/event-stream' : 'application/json',
    };
    const { auth } = this.#o;
    if (auth.kind === 'bearer') headers.authorization = `Bearer ${auth.apiKey}`;
    else if (auth.kind === 'api-key') headers['api-key'] = auth.apiKey;
    else if (auth.kind === 'entra') headers.authorization = `Bearer ${await auth.tokens.getToken()}`;
    return headers;
  }

  #error(failure: Failure, attempts: number): LlmError {
    const host = this.#url.host;
    const message =
      failure.kind === 'aborted'
        ? 'The request to the language model was cancelled.'
        : `The language model at ${host} ${failure.what}${attempts > 1 ? ` (${attempts} attempts)` : ''}; ${ADVICE[failure.kind]}.`;
    return new LlmError(
      message,
      { kind: failure.kind, ...(failure.status ? { status: failure.status } : {}), attempts },
      failure.cause ? { cause: failure.cause } : undefined,
    );
  }
}

const seconds = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);
const clip = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 200);

/** The `error.message` of an OpenAI-style error body, else the body's text, shortened. */
function serverMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } })?.error?.message;
    if (typeof message === 'string') return clip(message);
  } catch {
    // not JSON: use the text
  }
  return clip(body);
}

/** undici's fetch says "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, other side closed) is in its cause. */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error);
}
