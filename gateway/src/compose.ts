import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { parse as parseYaml } from 'yaml';

/** The repository root. */
export const ROOT_DIR = resolve(import.meta.dirname, '..', '..');
/** rover-format composition config. */
export const SUPERGRAPH_CONFIG = resolve(ROOT_DIR, 'supergraph.yaml');
/** The composed, checked-in supergraph the gateway serves. */
export const SUPERGRAPH_FILE = resolve(ROOT_DIR, 'schema', 'supergraph.graphql');

/**
 * The gateway's own subgraph: the Subscription fields it serves over WebSocket, composed with the
 * others so that clients see one schema (HTTP introspection included). It is resolved in the gateway's
 * process and has no network address; the URL only names it (ADR 0021).
 */
export const LIVE_SUBGRAPH = {
  name: 'live',
  url: 'internal://gateway/live',
  file: resolve(ROOT_DIR, 'gateway', 'schema', 'subscriptions.graphql'),
} as const;

interface SupergraphYaml {
  federation_version?: string | number;
  subgraphs?: Record<string, { routing_url?: string; schema?: { file?: string } }>;
}

/** Outcome of composing: the supergraph SDL, or every composition error. */
export type Composition =
  | { ok: true; supergraphSdl: string; hints: string[] }
  | { ok: false; errors: string[] };

/** Composes the subgraphs listed in supergraph.yaml (and, for the platform's own, the gateway's {@link LIVE_SUBGRAPH}) with @apollo/composition, no servers needed. */
export async function composeSupergraph(configPath = SUPERGRAPH_CONFIG): Promise<Composition> {
  const config = parseYaml(await readFile(configPath, 'utf8')) as SupergraphYaml;
  const entries = Object.entries(config.subgraphs ?? {});
  if (entries.length === 0) return { ok: false, errors: [`${configPath} lists no subgraphs`] };
  const services = [];
  for (const [name, subgraph] of entries) {
    const file = subgraph.schema?.file;
    if (!subgraph.routing_url || !file) {
      return { ok: false, errors: [`subgraph ${name} needs routing_url and schema.file in ${configPath}`] };
    }
    const sdl = await readFile(resolve(dirname(configPath), file), 'utf8');
    services.push({ name, url: subgraph.routing_url, typeDefs: parse(sdl) });
  }
  if (configPath === SUPERGRAPH_CONFIG) {
    const sdl = await readFile(LIVE_SUBGRAPH.file, 'utf8');
    services.push({ name: LIVE_SUBGRAPH.name, url: LIVE_SUBGRAPH.url, typeDefs: parse(sdl) });
  }
  const result = composeServices(services);
  if (result.errors) return { ok: false, errors: result.errors.map((e) => e.message) };
  return {
    ok: true,
    supergraphSdl: `${result.supergraphSdl.trimEnd()}\n`,
    hints: result.hints.map((h) => h.toString()),
  };
}
