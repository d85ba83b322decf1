/**
 * Semantic-convention attribute names the agent writes itself, spelled out: the
 * `@opentelemetry/semantic-conventions` package is not a dependency, and the messaging
 * names are still in its unstable entry point. Current names only: where an upstream
 * instrumentation still writes old ones, the agent's hooks add these beside them.
 */
export const ATTR_DB_SYSTEM_NAME = 'db.system.name';
export const ATTR_DB_NAMESPACE = 'db.namespace';
export const ATTR_DB_QUERY_TEXT = 'db.query.text';
export const ATTR_DB_OPERATION_NAME = 'db.operation.name';
export const ATTR_DB_RESPONSE_RETURNED_ROWS = 'db.response.returned_rows';
export const ATTR_ERROR_TYPE = 'error.type';

export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
export const ATTR_MESSAGING_BATCH_MESSAGE_COUNT = 'messaging.batch.message_count';
export const ATTR_MESSAGING_RABBITMQ_ROUTING_KEY = 'messaging.rabbitmq.destination.routing_key';

export const MESSAGING_OPERATION_TYPE_SEND = 'send';
export const MESSAGING_OPERATION_TYPE_PROCESS = 'process';

export const ATTR_HTTP_REQUEST_METHOD = 'http.request.method';
export const ATTR_HTTP_REQUEST_METHOD_ORIGINAL = 'http.request.method_original';
export const ATTR_HTTP_RESPONSE_STATUS_CODE = 'http.response.status_code';
export const ATTR_HTTP_ROUTE = 'http.route';
export const ATTR_URL_PATH = 'url.path';
