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
/** `gen_ai.operation.name`: embeddings, chat, … (OpenTelemetry GenAI semantic conventions). */
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
/** `gen_ai.provider.name`: openai, azure.ai.openai, or the offline provider's own name. */
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
/** `gen_ai.request.model`: the model asked for. */
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
/** `gen_ai.embeddings.dimension.count`: the size of each returned vector. */
export const ATTR_GEN_AI_EMBEDDINGS_DIMENSION_COUNT = 'gen_ai.embeddings.dimension.count';
/** `error.type`: the class of a failure. */
export const ATTR_ERROR_TYPE = 'error.type';
/** How many texts one embedding call turned into vectors. */
export const ATTR_EMBEDDINGS_INPUT_COUNT = 'widgetdc.embeddings.input_count';
