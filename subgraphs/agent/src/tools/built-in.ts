import type { AgentConfig } from '../config.ts';
import { emailSendTool, type Mailer } from './email-send.ts';
import { httpGetTool } from './http-get.ts';
import { notesTools } from './notes.ts';
import { ToolRegistry } from './registry.ts';

/** The registry of the built-in tools under `config`; `mailer` absent: mail is sent offline. */
export function builtInTools(
  config: AgentConfig,
  options: { mailer?: Mailer; fetch?: typeof fetch } = {},
): ToolRegistry {
  return new ToolRegistry([
    httpGetTool({ ...config.http, ...(options.fetch ? { fetch: options.fetch } : {}) }),
    emailSendTool(options.mailer),
    ...notesTools(),
  ]);
}
