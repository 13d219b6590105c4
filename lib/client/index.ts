// fastify-sse-actors/client: an event stream parser, a reconnecting async iterable, and a client
// driven by a handler. Independent of the server side.

export { createParser, DEFAULT_MAX_EVENT_SIZE } from './parser.js'
export type { Parser, ParserOptions, ParserCallbacks, ParsedEvent } from './parser.js'
export { connect } from './connect.js'
export type { ConnectOptions } from './connect.js'
export { SseClient } from './sse-client.js'
export type {
  SseClientHandler, SseClientOptions, SseClientStopped, SseClientStatus,
  Next, ConnectNext, StopNext, NoReply, ConnectRequest, DisconnectReason
} from './sse-client.js'
export type { RestartPolicy } from './restart.js'
export { DEFAULT_MAX_RESTARTS, DEFAULT_RESTART_WINDOW } from './restart.js'
export type { StreamRequest, StreamResponse } from './resumable-stream.js'
export { ClientStatusError, ClientContentTypeError, ClientEventTooLargeError, ClientRedirectError, ClientInvalidOptionError, ClientRestartLimitError } from './errors.js'
export { DEFAULT_RETRY, MIN_RETRY, MAX_BACKOFF, MAX_RETRY_AFTER } from './backoff.js'
export { MAX_REDIRECTS } from './redirect.js'
