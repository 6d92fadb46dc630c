import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { msalNetworkClientTrusting } from '#kernel/auth/https-client.ts';
import { createMsalServiceTokenProvider } from '#kernel/auth/service-identity.ts';
import type { AuthConfig } from '#kernel/config/auth.ts';
import { ConfigError } from '#kernel/errors.ts';
import { loadLlmConfig } from '#llm/config.ts';
import { chatCompletionsUrl, createChatClient } from '#llm/create-chat-client.ts';
import { type FakeChatServer, startFakeChatServer } from '#testing/fake-chat-server.ts';
import { startTestOidcProvider } from '#testing/oidc-provider.ts';

let fake: FakeChatServer;
beforeAll(async () => {
  fake = await startFakeChatServer();
});
afterAll(() => fake.close());

const question = { messages: [{ role: 'user' as const, content: 'Hi' }] };

describe('the chat client the configuration names', () => {
  it('is none offline', async () => {
    expect(await createChatClient(loadLlmConfig({}))).toBeUndefined();
  });

  it('OpenAI-compatible: <endpoint>/chat/completions, the model in the body, a bearer key', async () => {
    const config = loadLlmConfig({
      LLM_PROVIDER: 'openai',
      LLM_ENDPOINT: `${fake.baseUrl}/`,
      LLM_MODEL: 'llama3.1',
      LLM_API_KEY: 'sk-local',
    });
    const chat = (await createChatClient(config))!;
    expect(chat.model).toBe('openai:llama3.1');
    await chat.chat(question);
    const sent = fake.requests.at(-1)!;
    expect(sent.url).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe('Bearer sk-local');
    expect(sent.body.model).toBe('llama3.1');
  });

  it('Azure OpenAI with a key: the deployment URL with api-version and the api-key header', async () => {
    const config = loadLlmConfig({
      LLM_PROVIDER: 'azure',
      LLM_ENDPOINT: fake.origin,
      LLM_AZURE_DEPLOYMENT: 'gpt 4o',
      LLM_API_VERSION: '2025-01-01-preview',
      LLM_API_KEY: 'azure-key',
    });
    expect(chatCompletionsUrl(config as Exclude<typeof config, { provider: 'offline' }>)).toBe(
      `${fake.origin}/openai/deployments/gpt%204o/chat/completions?api-version=2025-01-01-preview`,
    );
    const chat = (await createChatClient(config))!;
    expect(chat.model).toBe('azure:gpt 4o');
    await chat.chat(question, { onToken: () => {} });
    const sent = fake.requests.at(-1)!;
    expect(sent.url).toBe('/openai/deployments/gpt%204o/chat/completions?api-version=2025-01-01-preview');
    expect(sent.headers['api-key']).toBe('azure-key');
    expect(sent.headers.authorization).toBeUndefined();
    expect(sent.body.model).toBeUndefined();
  });

  it('Azure OpenAI without a key: an Entra token of the service identity (msal-node client credentials)', async () => {
    const worker = {
      clientId: randomUUID(),
      clientSecret: randomUUID(),
      tenantId: randomUUID(),
      objectId: randomUUID(),
      roles: [],
    };
    const provider = await startTestOidcProvider({
      clients: [worker],
      resources: { 'https://cognitiveservices.azure.com': 'https://cognitiveservices.azure.com' },
    });
    try {
      const config = loadLlmConfig({
        LLM_PROVIDER: 'azure',
        LLM_ENDPOINT: fake.origin,
        LLM_AZURE_DEPLOYMENT: 'gpt4o',
        LLM_MODEL: 'gpt-4o',
      });
      const tokens = createMsalServiceTokenProvider({
        service: 'llm',
        clientId: worker.clientId,
        credential: { clientSecret: worker.clientSecret },
        authority: provider.issuer,
        knownAuthorities: [provider.host],
        protocolMode: 'OIDC',
        scope: config.provider === 'azure' ? config.scope : '',
        networkClient: msalNetworkClientTrusting(provider.ca),
      });
      const chat = (await createChatClient(config, { tokens }))!;
      expect(chat.model).toBe('azure:gpt-4o');
      await chat.chat(question);
      const auth = fake.requests.at(-1)!.headers.authorization!;
      expect(auth).toMatch(/^Bearer /);
      expect(decodeJwt(auth.slice(7))).toMatchObject({
        aud: 'https://cognitiveservices.azure.com',
        azp: worker.clientId,
      });
      expect(fake.requests.at(-1)!.headers['api-key']).toBeUndefined();
    } finally {
      await provider.close();
    }
  });

  it('Azure OpenAI with neither a key nor a service identity is a configuration error naming both ways', async () => {
    const config = loadLlmConfig({
      LLM_PROVIDER: 'azure',
      LLM_ENDPOINT: fake.origin,
      LLM_AZURE_DEPLOYMENT: 'd',
    });
    const attempt = createChatClient(config, {
      auth: { entra: undefined, service: undefined } as AuthConfig,
    });
    await expect(attempt).rejects.toBeInstanceOf(ConfigError);
    await expect(attempt).rejects.toThrow(
      /LLM_PROVIDER=azure needs LLM_API_KEY, or an Entra ID service identity/,
    );
  });
});
