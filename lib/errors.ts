import createError from '@fastify/error'

// Every error the plugin raises has a stable `SSE_ERR_*` code, so callers can branch on it.

export const InvalidFieldError = createError<[field: string, reason: string]>(
  'SSE_ERR_INVALID_FIELD', 'Invalid SSE field "%s": %s', 500, TypeError)

export const InvalidChunkError = createError<[what: string]>(
  'SSE_ERR_INVALID_CHUNK', 'Invalid chunk: %s. A chunk is a string, a Uint8Array or an Event imported from fastify-sse-actors', 500, TypeError)

export const ReplySentError = createError(
  'SSE_ERR_REPLY_SENT', 'The reply was already sent: a stream cannot be opened on it', 500)

export const IdReservedError = createError(
  'SSE_ERR_ID_RESERVED', 'This stream has topics: the plugin owns the "id:" field, an Event may not set one', 500, TypeError)

export const PublishFailedError = createError<[topic: string, reason: string, options?: { cause: unknown }]>(
  'SSE_ERR_PUBLISH_FAILED', 'Publishing to topic "%s" failed: %s', 503)

export const TopicClosedError = createError<[topic: string]>(
  'SSE_ERR_TOPIC_CLOSED', 'Topic "%s" is closed', 410)

export const InvalidOptionError = createError<[option: string, reason: string]>(
  'SSE_ERR_INVALID_OPTION', 'Invalid option "%s": %s', 500, TypeError)

export const InvalidHandlerError = createError<[reason: string]>(
  'SSE_ERR_INVALID_HANDLER', 'Invalid chunked handler: %s', 500, TypeError)

export const UpstreamError = createError<[status: number | string, options?: { cause: unknown }]>(
  'SSE_ERR_UPSTREAM', 'The upstream stream failed: %s', 502)

export const BrokerClosedError = createError(
  'SSE_ERR_BROKER_CLOSED', 'The broker is closed', 503)

export const RedisKeyPrefixError = createError(
  'SSE_ERR_REDIS_KEY_PREFIX', 'The ioredis client has a keyPrefix: it prefixes keys but not Pub/Sub channels. Use the broker\'s own `prefix` option instead', 500, TypeError)

export const BrokerUnavailableError = createError<[reason: string]>(
  'SSE_ERR_BROKER_UNAVAILABLE', 'The broker cannot reach its backend: %s', 503)

export const InvalidTopicError = createError<[reason: string]>(
  'SSE_ERR_INVALID_TOPIC', 'Invalid topic: %s', 500, TypeError)

// A RangeError: the value is well formed, it is past a limit (`maxTopicsPerStream`).
export const TooManyTopicsError = createError<[topic: string, limit: number]>(
  'SSE_ERR_TOO_MANY_TOPICS', 'Cannot subscribe to topic "%s": a stream may subscribe to at most %d topics (maxTopicsPerStream), so that its cursor fits in a Last-Event-ID', 500, RangeError)

export const NotWebSocketRouteError = createError(
  'SSE_ERR_NOT_WEBSOCKET', 'This route does not accept a WebSocket upgrade (chunk: { websocket: true } does)', 400)
