import type { EntityManager } from '@mikro-orm/postgresql';
import { z } from 'zod';
import type { RiskLevel } from '#contracts/enums.ts';

/** Who a tool call acts for: the user who owns the task. */
export interface ToolPrincipal {
  id: string;
  name: string;
}

/** What a tool gets besides its validated input. */
export interface ToolContext {
  /** The step's tenant transaction: a tool's database effect commits with the step's result. */
  readonly em: EntityManager;
  readonly tenantId: string;
  readonly taskId: string;
  /** Unique per step: an effect recorded under it is never performed twice. */
  readonly idempotencyKey: string;
  readonly owner: ToolPrincipal;
  /** Aborted when the kill switch is engaged or the step times out. */
  readonly signal: AbortSignal;
}

/** A tool's result: a JSON object stored as the step's output. */
export type ToolOutput = Record<string, unknown>;

/** A registered tool. `riskLevel` absent means unclassified: such a tool cannot run. */
export interface ToolDefinition<I = Record<string, unknown>> {
  readonly name: string;
  readonly description: string;
  readonly riskLevel?: RiskLevel;
  /** Validates and normalises the input; its JSON Schema is what clients see. */
  readonly input: z.ZodType<I>;
  run(input: I, ctx: ToolContext): Promise<ToolOutput>;
}

/** Declares a tool with its input type inferred from its schema. */
export function defineTool<S extends z.ZodType<Record<string, unknown>>>(
  tool: Omit<ToolDefinition<z.infer<S>>, 'input'> & { input: S },
): ToolDefinition {
  if (!/^[a-z][a-z0-9]*(\.[a-z][a-z0-9]*)*$/.test(tool.name)) {
    throw new Error(`tool name "${tool.name}" must be dot-separated lowercase words, e.g. http.get`);
  }
  return tool as unknown as ToolDefinition;
}

/** The JSON Schema of a tool's input, as clients see it. */
export function inputSchemaOf(tool: ToolDefinition): Record<string, unknown> {
  const schema = z.toJSONSchema(tool.input, { unrepresentable: 'any', io: 'input' }) as Record<
    string,
    unknown
  >;
  delete schema.$schema;
  return schema;
}
