import { ssePlugin } from './plugin.js'

export { ssePlugin }
export default ssePlugin
export { Event, Event as SseEvent, type EventInit } from './protocol/event.js'
export { stop, noContent, shutdown } from './results.js'
export { topics } from './topics/topics-handler.js'
export { isPublished, Published } from './topics/published.js'
export { chunked } from './route.js'
export { ClientMessage, isClientMessage } from './websocket/client-message.js'
export { forward, type ForwardOptions, type SseForwardOptions, type RawForwardOptions, type UpstreamEvent } from './forward.js'
export { memoryBroker, type MemoryBrokerOptions } from './broker/memory.js'
export * from './errors.js'
export type { Broker, BrokerEvent, EventPayload, ReadResult, TopicListener, TopicPosition } from './broker/types.js'
export type {
  ChunkedHandler, Token, Chunk, CloseReason, SsePluginOptions, ChunkOptions, ReplyChunkOptions, MailboxOptions,
  SseDecorator, SseStats, SubscribeOptions, GeneratorHandler, SourceHandler, StreamHandler, InitResult, HandleResult, Format
} from './types.js'
export type { ChunkRouteShorthandOptions } from './fastify-types.js'
