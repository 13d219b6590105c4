import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'
import { decodePayload, toEvent } from './codec.js'
import type { TopicSnapshot } from './feed.js'

// Every script takes the topic's keys as KEYS = { meta, stream, tombstone } (one hash tag: one slot)
// and a fresh candidate epoch as ARGV[1], used only if the topic has none yet.

/** Makes the topic's epoch if it has none. A new incarnation starts empty: a lost one may have left a stream. */
const ENSURE_EPOCH = `
local function ensure_epoch(ttl)
  local epoch = redis.call('HGET', KEYS[1], 'epoch')
  if epoch then return epoch end
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'epoch', ARGV[1], 'head', 0)
  if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
  return ARGV[1]
end
`

/**
 * ARGV: candidate epoch, topic ttl ms (0: none), retention, channel, payload.
 * Returns false when the topic is closed, else { epoch, offset }. The XADD goes first: if it fails,
 * nothing is written, so the head never runs ahead of the stream.
 */
export const PUBLISH = `${ENSURE_EPOCH}
if redis.call('EXISTS', KEYS[3]) == 1 then return false end
local ttl = tonumber(ARGV[2])
local epoch = ensure_epoch(ttl)
local offset = string.format('%d', tonumber(redis.call('HGET', KEYS[1], 'head')) + 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], offset .. '-0', 'p', ARGV[5])
redis.call('HSET', KEYS[1], 'head', offset)
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
redis.call('PUBLISH', ARGV[4], 'e' .. epoch .. ':' .. offset .. ':' .. ARGV[5])
return { epoch, tonumber(offset) }
`

/**
 * ARGV: candidate epoch, topic ttl ms, epoch of the position to read after ('' for none), its offset.
 * Returns { epoch, head, closed (0 or 1), final payload ('' for none), entries after the position }:
 * entries only when the position is in the current epoch, and whatever the stream still holds.
 */
export const READ = `${ENSURE_EPOCH}
local epoch = ensure_epoch(tonumber(ARGV[2]))
local head = tonumber(redis.call('HGET', KEYS[1], 'head'))
local final = redis.call('GET', KEYS[3])
local entries = {}
local after = tonumber(ARGV[4])
if ARGV[3] == epoch and after < head then
  entries = redis.call('XRANGE', KEYS[2], string.format('%d', after + 1), '+')
end
return { epoch, head, final and 1 or 0, final or '', entries }
`

/**
 * ARGV: candidate epoch, tombstone ttl ms (0: none), channel, final payload ('' for none).
 * Returns 0 when the topic was already closed (nobody is told twice), else 1. The history stays, as
 * long as the tombstone: a listener catching up after a reconnect still gets the last events.
 */
export const CLOSE = `${ENSURE_EPOCH}
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local ttl = tonumber(ARGV[2])
ensure_epoch(ttl)
if ttl > 0 then
  redis.call('SET', KEYS[3], ARGV[4], 'PX', ttl)
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
else
  redis.call('SET', KEYS[3], ARGV[4])
end
redis.call('PUBLISH', ARGV[3], 'c' .. ARGV[4])
return 1
`

type ReadReply = [epoch: Buffer, head: number, closed: 0 | 1, final: Buffer, entries: Array<[id: Buffer, fields: Buffer[]]>]

/** READ's reply. An entry's id is `<offset>-0` and its only field `p`, the payload. */
export function toSnapshot (topic: string, reply: unknown): TopicSnapshot {
  const [epochBytes, head, closed, final, entries] = reply as ReadReply
  const epoch = epochBytes.toString()
  const events = entries.map(([id, fields]) =>
    toEvent(topic, epoch, Number(id.toString('latin1', 0, id.indexOf('-'))), decodePayload(fields[1])!))
  return { epoch, head, events, closed: closed === 1, final: decodePayload(final) }
}

/** A Lua script run by EVALSHA, with EVAL once when the server lacks it (after a restart or SCRIPT FLUSH). */
export class LuaScript {
  readonly #sha: string

  constructor (readonly source: string) {
    this.#sha = createHash('sha1').update(source).digest('hex')
  }

  async run (redis: Redis, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await redis.callBuffer('EVALSHA', this.#sha, keys.length, ...keys, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return await redis.callBuffer('EVAL', this.source, keys.length, ...keys, ...args)
    }
  }
}
