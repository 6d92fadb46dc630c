import { z } from 'zod';
import { oneOf } from './env.ts';

/** The kinds of deployment `NODE_ENV` names. */
export const NODE_ENVS = ['development', 'production', 'test'] as const;

/** A deployment kind; `production` turns introspection off, logs JSON and refuses the dev issuer. */
export type NodeEnv = (typeof NODE_ENVS)[number];

/** `NODE_ENV` (default `development`): the setting other concerns' defaults depend on. */
export const runtimeSchema = z.object({ NODE_ENV: oneOf(NODE_ENVS, 'development') }).transform((env) => ({
  nodeEnv: env.NODE_ENV,
}));
