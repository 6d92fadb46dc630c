// Attribute names in one place: OpenTelemetry semantic conventions first (the messaging ones are
// still "incubating" in @opentelemetry/semantic-conventions, so their stable names are spelled out
// here), then `widgetdc.*`.

/** `messaging.system`: which broker carried the message. */
export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
/** `messaging.destination.name`: the stream (topic). */
export const ATTR_MESSAGING_DESTINATION = 'messaging.destination.name';
/** `messaging.message.id`: the event id. */
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
/** `messaging.operation.type`: send, receive, process, settle. */
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
/** `messaging.consumer.group.name`: the consumer group. */
export const ATTR_MESSAGING_CONSUMER_GROUP = 'messaging.consumer.group.name';
/** The tenant an operation ran for. */
export const ATTR_TENANT_ID = 'widgetdc.tenant.id';
/** Delivery attempt of a consumed event, from 1. */
export const ATTR_EVENT_ATTEMPT = 'widgetdc.event.attempt';
/** Outcome of a consumed event: handled, duplicate, or rolled_back (another event of its batch failed). */
export const ATTR_EVENT_OUTCOME = 'widgetdc.event.outcome';
/** How many events shared the transaction that handled this one (consumer batching). */
export const ATTR_EVENT_BATCH_SIZE = 'widgetdc.event.batch_size';
/** Event-bus metric attribute: the stream (topic). */
export const ATTR_STREAM = 'widgetdc.stream';
/** Event-bus metric attribute: the consumer group. */
export const ATTR_GROUP = 'widgetdc.group';
/** `graphql.operation.type`: query, mutation or subscription. */
export const ATTR_GRAPHQL_OPERATION_TYPE = 'graphql.operation.type';
/** `graphql.operation.name`: the operation's name, when it has one. */
export const ATTR_GRAPHQL_OPERATION_NAME = 'graphql.operation.name';
/** How a GraphQL operation arrived at the gateway: http or websocket. */
export const ATTR_GRAPHQL_TRANSPORT = 'widgetdc.graphql.transport';
/** How a search retrieved: hybrid, keyword or vector. */
export const ATTR_SEARCH_MODE = 'widgetdc.search.mode';
/** Hits a retrieval stage found. */
export const ATTR_SEARCH_HITS = 'widgetdc.search.hits';
/** A stage's duration in milliseconds, as the answer's timings report it. */
export const ATTR_STAGE_MS = 'widgetdc.stage.ms';
/** `gen_ai.operation.name`: chat, embeddings, … (OpenTelemetry GenAI conventions, incubating). */
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
/** `gen_ai.provider.name`: openai, azure.ai.openai, … */
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
/** `gen_ai.request.model`: the model (or Azure deployment) asked for. */
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
/** `gen_ai.request.max_tokens`. */
export const ATTR_GEN_AI_REQUEST_MAX_TOKENS = 'gen_ai.request.max_tokens';
/** `gen_ai.request.temperature`. */
export const ATTR_GEN_AI_REQUEST_TEMPERATURE = 'gen_ai.request.temperature';
/** `gen_ai.response.model`: the model that answered. */
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
/** `gen_ai.response.finish_reasons`: why generation stopped, one per choice. */
export const ATTR_GEN_AI_RESPONSE_FINISH_REASONS = 'gen_ai.response.finish_reasons';
/** `gen_ai.usage.input_tokens`: prompt tokens, as the API counted them. */
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
/** `gen_ai.usage.output_tokens`: completion tokens, as the API counted them. */
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
/** `error.type`: for a failed model call, the LlmError kind. */
export const ATTR_ERROR_TYPE = 'error.type';
/** Requests one model call took, retries included. */
export const ATTR_LLM_ATTEMPTS = 'widgetdc.llm.attempts';
/** Milliseconds from the call to the first streamed text. */
export const ATTR_LLM_TIME_TO_FIRST_TOKEN_MS = 'widgetdc.llm.time_to_first_token_ms';
/** `gen_ai.embeddings.dimension.count`: the size of each returned vector. */
export const ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT = 'gen_ai.embeddings.dimension.count';
/** How many texts one embedding call turned into vectors. */
export const ATTR_EMBEDDINGS_INPUT_COUNT = 'widgetdc.embeddings.input_count';
/** `user.id`: the verified caller (the token's object id), on each service's request span and its descendants. */
export const ATTR_USER_ID = 'user.id';
/** `session.id`: the agent task a span works for (Langfuse's session). */
export const ATTR_SESSION_ID = 'session.id';
/** The generation record (observability.generations) of a model call's span (ADR 0037). */
export const ATTR_GENERATION_ID = 'widgetdc.generation.id';
/** Why a model call was made (`answer`, `planner`, `ingest`, `search`, `replay`). */
export const ATTR_GENERATION_PURPOSE = 'widgetdc.generation.purpose';
/** `gen_ai.token.type` of the token usage metric: `input` or `output`. */
export const ATTR_GEN_AI_TOKEN_TYPE = 'gen_ai.token.type';
