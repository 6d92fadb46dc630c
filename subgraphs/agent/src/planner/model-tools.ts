import type { ToolDefinition as ModelTool } from '#llm/chat.ts';
import type { ToolRegistry } from '../tools/registry.ts';
import { inputSchemaOf } from '../tools/tool.ts';

const RISK_NOTE = {
  SAFE: 'SAFE: a read, it runs',
  MEDIUM: 'MEDIUM: a write, it runs and is logged',
  HIGH: "HIGH: each call waits for a human's approval of its exact arguments",
} as const;

/**
 * The model's name of a tool. Chat APIs allow only `[A-Za-z0-9_-]` in function names, and our tool
 * names are dot-separated lowercase words without underscores, so dots become underscores and back
 * without ambiguity (`http.get` ↔ `http_get`).
 */
export const modelToolName = (tool: string): string => tool.replaceAll('.', '_');

/** The registry's classified tools as the model sees them, and the way back from a model's name. */
export function modelTools(registry: ToolRegistry): {
  tools: ModelTool[];
  toolNamed(modelName: string): string | undefined;
} {
  const classified = registry.list().filter((t) => t.riskLevel);
  const byModelName = new Map(classified.map((t) => [modelToolName(t.name), t.name]));
  return {
    tools: classified.map((t) => ({
      name: modelToolName(t.name),
      description: `${t.description} (${RISK_NOTE[t.riskLevel!]})`,
      parameters: inputSchemaOf(t),
    })),
    toolNamed: (modelName) => byModelName.get(modelName),
  };
}
