import { createMsalServiceTokenProvider, loadCertificateCredential } from '#kernel/auth/service-identity.ts';
import type { AuthConfig } from '#kernel/config/auth.ts';
import { ConfigError } from '#kernel/errors.ts';
import { type ChatAuth, ChatClient, type TokenSource } from './chat-client.ts';
import type { LlmConfig } from './config.ts';

/** The chat-completions URL of a remote configuration. */
export function chatCompletionsUrl(config: Exclude<LlmConfig, { provider: 'offline' }>): string {
  const base = new URL(config.endpoint);
  const path = base.pathname.replace(/\/+$/, '');
  if (config.provider === 'openai') return new URL(`${path}/chat/completions${base.search}`, base).href;
  const url = new URL(
    `${path}/openai/deployments/${encodeURIComponent(config.deployment)}/chat/completions`,
    base,
  );
  url.searchParams.set('api-version', config.apiVersion);
  return url.href;
}

/** Options of {@link createChatClient}. */
export interface CreateChatClientOptions {
  /** The platform's auth settings: Azure without a key signs in as the service's own Entra app (AUTH_SERVICE_*). */
  auth?: AuthConfig;
  /** A token source to use instead (tests: msal-node against a local OpenID provider). */
  tokens?: TokenSource;
}

/**
 * The chat client the configuration names, or undefined for `LLM_PROVIDER=offline`. Azure OpenAI
 * without `LLM_API_KEY` authenticates with an Entra ID token for `LLM_AZURE_SCOPE`, obtained by
 * msal-node client credentials of the service's own app registration (the same AUTH_SERVICE_*
 * identity workers use, ADR 4); the app needs the "Cognitive Services OpenAI User" role.
 */
export async function createChatClient(
  config: LlmConfig,
  options: CreateChatClientOptions = {},
): Promise<ChatClient | undefined> {
  if (config.provider === 'offline') return undefined;
  const common = {
    url: chatCompletionsUrl(config),
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
  };
  if (config.provider === 'openai') {
    return new ChatClient({
      ...common,
      model: `openai:${config.model}`,
      requestModel: config.model,
      auth: config.apiKey ? { kind: 'bearer', apiKey: config.apiKey } : { kind: 'none' },
    });
  }
  let auth: ChatAuth;
  if (config.apiKey) auth = { kind: 'api-key', apiKey: config.apiKey };
  else auth = { kind: 'entra', tokens: options.tokens ?? (await entraTokens(config.scope, options.auth)) };
  return new ChatClient({
    ...common,
    model: `azure:${config.model ?? config.deployment}`,
    provider: 'azure.ai.openai',
    auth,
  });
}

async function entraTokens(scope: string, auth: AuthConfig | undefined): Promise<TokenSource> {
  const credentials = auth?.service;
  if (!credentials || !auth?.entra) {
    throw new ConfigError([
      'LLM_PROVIDER=azure needs LLM_API_KEY, or an Entra ID service identity (AUTH_TENANT_IDS, AUTH_CLIENT_ID, AUTH_SERVICE_CLIENT_ID and AUTH_SERVICE_CLIENT_SECRET or AUTH_SERVICE_CERTIFICATE_FILE) to sign in to Azure OpenAI',
    ]);
  }
  const provider = createMsalServiceTokenProvider({
    service: 'llm',
    clientId: credentials.clientId,
    credential: credentials.clientSecret
      ? { clientSecret: credentials.clientSecret }
      : await loadCertificateCredential(credentials.certificateFile ?? ''),
    authority: `${auth.entra.authorityHost}/${credentials.tenantId}`,
    scope,
  });
  return { getToken: () => provider.getToken() };
}
