import { z } from 'zod';
import { bool, text } from './env.ts';
import type { NodeEnv } from './runtime.ts';

/** Default interface every service listens on (`0.0.0.0` in containers). */
export const DEFAULT_HOST = '127.0.0.1';

/** Where services listen and what their GraphQL endpoints reveal. */
export interface HttpConfig {
  host: string;
  introspection: boolean;
}

/** `HOST`, `GRAPHQL_INTROSPECTION` (on except in production). */
export const httpSchema = (nodeEnv: NodeEnv) =>
  z
    .object({ HOST: text(), GRAPHQL_INTROSPECTION: bool(nodeEnv !== 'production') })
    .transform(
      (env): HttpConfig => ({ host: env.HOST ?? DEFAULT_HOST, introspection: env.GRAPHQL_INTROSPECTION }),
    );
