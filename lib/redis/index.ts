// fastify-sse-actors/redis: the Redis broker, for topics shared by several instances.
export { redisBroker } from './broker.js'
export type { RedisSource } from './connections.js'
export type { RedisBrokerOptions } from './options.js'
