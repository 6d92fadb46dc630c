import { ForbiddenError, ValidationError } from '#kernel/errors.ts';
import type { ToolDefinition } from './tool.ts';

/** Longest input (JSON text) a tool call may carry. */
export const MAX_TOOL_INPUT_BYTES = 64 * 1024;

/** The tools agents may call, by name. */
export class ToolRegistry {
  readonly #tools = new Map<string, ToolDefinition>();

  constructor(tools: readonly ToolDefinition[] = []) {
    for (const tool of tools) this.register(tool);
  }

  /** Adds a tool; a name is registered once. */
  register(tool: ToolDefinition): this {
    if (this.#tools.has(tool.name)) throw new Error(`tool ${tool.name} is registered twice`);
    this.#tools.set(tool.name, tool);
    return this;
  }

  /** Every registered tool, by name. */
  list(): ToolDefinition[] {
    return [...this.#tools.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** The tool called `name`; BAD_USER_INPUT naming the known tools when there is none. */
  get(name: string): ToolDefinition {
    const tool = this.#tools.get(name);
    if (!tool) {
      throw new ValidationError(
        `unknown tool "${name}"; known tools: ${this.list()
          .map((t) => t.name)
          .join(', ')}`,
        {
          field: 'tool',
        },
      );
    }
    return tool;
  }

  /**
   * The tool and its input, validated: the tool must be classified (FORBIDDEN otherwise: an
   * unclassified tool never runs) and the input must match its schema (BAD_USER_INPUT naming the path).
   */
  check(
    name: string,
    input: unknown,
    field = 'input',
  ): { tool: ToolDefinition; input: Record<string, unknown> } {
    const tool = this.get(name);
    if (!tool.riskLevel) {
      throw new ForbiddenError(`tool ${name} has no risk class, so it cannot run`, { tool: name });
    }
    if (JSON.stringify(input ?? {}).length > MAX_TOOL_INPUT_BYTES) {
      throw new ValidationError(`${field} of ${name} must be at most ${MAX_TOOL_INPUT_BYTES} bytes of JSON`, {
        field,
      });
    }
    const parsed = tool.input.safeParse(input ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const path = [field, ...issue.path.map(String)].join('.');
      throw new ValidationError(`${path}: ${issue.message} (tool ${name})`, { field: path });
    }
    return { tool, input: parsed.data as Record<string, unknown> };
  }
}
