// replayGeneration (ADR 0038): thin; the work is in observability/generation-replay.ts. Audited by
// the kernel's mutation guard like every mutation (its arguments: id, promptVersion, model).
import type { RequestContext } from '#kernel/graphql/context.ts';
import { GenerationRecorder } from '#llm/generations/generation-recorder.ts';
import {
  type ReplayDependencies,
  type ReplayRequest,
  replayGeneration,
} from '../observability/generation-replay.ts';

/** Mutation fields of replays; without dependencies the service has no chat model (offline). */
export const replayMutationResolvers = (deps: ReplayDependencies | null) => {
  const replay = deps ?? { llm: { provider: 'offline' as const }, recorder: new GenerationRecorder() };
  return {
    replayGeneration(_: unknown, args: ReplayRequest, ctx: RequestContext) {
      return replayGeneration(ctx.db, ctx.identity, replay, args);
    },
  };
};
