// Server-sent events as the chat-completions protocol uses them: `data: <json>` lines, events
// separated by a blank line, `data: [DONE]` at the end. The parser is the kernel's (the gateway
// reads GraphQL over SSE with it too).
export { sseData } from '#kernel/http/sse.ts';
