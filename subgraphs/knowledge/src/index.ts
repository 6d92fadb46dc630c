import { runSubgraph } from '#kernel/graphql/subgraph.ts';
import { createLogger } from '#kernel/logger.ts';
import { loadKnowledgeConfig } from './config.ts';
import { createEmbedder } from './embeddings/create-embedder.ts';
import { createKnowledgeSubgraph } from './subgraph.ts';

const config = loadKnowledgeConfig();
const embedder = createEmbedder(config.embeddings);
if (config.embeddings.provider === 'use') {
  // The offline model takes about a second to load: loaded now, in the background, so the first
  // search or ask does not wait for it (a remote provider is not called before a user asks).
  embedder
    .embed(['warm-up'])
    .catch((error: unknown) =>
      createLogger('knowledge').warn(`the embedding model could not be loaded yet: ${String(error)}`),
    );
}
await runSubgraph(createKnowledgeSubgraph(config, { embedder }), { port: config.port });
