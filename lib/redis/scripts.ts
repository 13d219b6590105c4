import { createHash } from 'node:crypto'
import type { Cluster, Redis } from 'ioredis'
import { NO_EPOCH } from '../broker/epoch.js'
import { warn } from '../broker/report.js'
import type { BrokerEvent } from '../broker/types.js'
import { decodeEntry, decodeFinal } from './codec.js'
import type { TopicSnapshot } from './feed.js'

// Every script takes the topic's keys as KEYS = { meta, stream, tombstone } (one hash tag: one slot).
// Only PUBLISH writes the meta hash: reading or closing a topic never published creates no epoch.
// The channel shares the hash tag too, so on a cluster the scripts publish with SPUBLISH: the message
// goes to the subscribers of the topic's shard only, where PUBLISH would go to every node.

/** How the scripts publish: PUBLISH on a single Redis (any version), SPUBLISH on a cluster (Redis >= 7). */
export type PublishCommand = 'PUBLISH' | 'SPUBLISH'

/**
 * ARGV: candidate epoch (used if the topic has none yet), topic ttl ms (0: none), retention, channel,
 * payload. Returns false when the topic is closed, else { epoch, offset }. A new incarnation starts
 * empty: a lost one may have left a stream. The XADD goes first: if it fails, nothing is written, so
 * the head never runs ahead of the stream.
 */
const publishSource = (publish: PublishCommand): string => `
if redis.call('EXISTS', KEYS[3]) == 1 then return false end
local ttl = tonumber(ARGV[2])
local epoch = redis.call('HGET', KEYS[1], 'epoch')
local head = tonumber(redis.call('HGET', KEYS[1], 'head'))
if not epoch then
  redis.call('DEL', KEYS[2])
  epoch = ARGV[1]
  head = 0
end
local offset = string.format('%d', head + 1)
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], offset .. '-0', 'p', ARGV[5])
redis.call('HSET', KEYS[1], 'epoch', epoch, 'head', offset)
if ttl > 0 then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
end
redis.call('${publish}', ARGV[4], 'e' .. epoch .. ':' .. offset .. ':' .. ARGV[5])
return { epoch, tonumber(offset) }
`

/**
 * ARGV: epoch of the position to read after ('' for none), its offset, the most entries to return
 * (0: no cap). Returns { epoch (NO_EPOCH when none), head, closed (0 or 1), final payload ('' for
 * none), entries after the position up to the head }: entries only when the position is in the
 * current epoch or is the start ({ NO_EPOCH, 0 }), and whatever the stream still holds.
 */
const READ = `
local epoch = redis.call('HGET', KEYS[1], 'epoch') or '${NO_EPOCH}'
local head = tonumber(redis.call('HGET', KEYS[1], 'head') or 0)
local final = redis.call('GET', KEYS[3])
local entries = {}
local after = tonumber(ARGV[2])
local limit = tonumber(ARGV[3])
if (ARGV[1] == epoch or (ARGV[1] == '${NO_EPOCH}' and after == 0)) and after < head then
  local from, to = string.format('%d', after + 1), string.format('%d', head)
  if limit > 0 then
    entries = redis.call('XRANGE', KEYS[2], from, to, 'COUNT', limit)
  else
    entries = redis.call('XRANGE', KEYS[2], from, to)
  end
end
return { epoch, head, final and 1 or 0, final or '', entries }
`

/**
 * ARGV: tombstone ttl ms (0: none), channel, final payload ('' for none).
 * Returns 0 when the topic was already closed (nobody is told twice), else 1. The history stays, as
 * long as the tombstone: a listener catching up after a reconnect still gets the last events.
 */
const closeSource = (publish: PublishCommand): string => `
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
local ttl = tonumber(ARGV[1])
if ttl > 0 then
  redis.call('SET', KEYS[3], ARGV[3], 'PX', ttl)
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
else
  redis.call('SET', KEYS[3], ARGV[3])
end
redis.call('${publish}', ARGV[2], 'c' .. ARGV[3])
return 1
`

type ReadReply = [epoch: Buffer, head: number, closed: 0 | 1, final: Buffer, entries: Array<[id: Buffer, fields: Buffer[]]>]

/** READ's reply. An entry or a final payload that does not decode is dropped and reported. */
export function toSnapshot (topic: string, reply: unknown): TopicSnapshot {
  const [epochBytes, head, closed, finalBytes, entries] = reply as ReadReply
  const epoch = epochBytes.toString()
  const events: BrokerEvent[] = []
  for (const [id, fields] of entries) {
    const event = decodeOrDrop(topic, `history entry ${id.toString('latin1')}`, () => decodeEntry(topic, epoch, id, fields))
    if (event !== undefined) events.push(event)
  }
  const final = decodeOrDrop(topic, 'final payload', () => decodeFinal(finalBytes))
  return { epoch, head, events, closed: closed === 1, final }
}

function decodeOrDrop<T> (topic: string, what: string, decode: () => T): T | undefined {
  try {
    return decode()
  } catch (error) {
    warn('SSE_WARN_MALFORMED', `Dropped the ${what} of topic ${JSON.stringify(topic)}: ${(error as Error).message}`, error)
    return undefined
  }
}

/** A Lua script run by EVALSHA, with EVAL once when the server lacks it (after a restart or SCRIPT FLUSH). */
export class LuaScript {
  readonly #sha: string

  constructor (readonly source: string) {
    this.#sha = createHash('sha1').update(source).digest('hex')
  }

  async run (redis: Redis | Cluster, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await redis.callBuffer('EVALSHA', this.#sha, keys.length, ...keys, ...args)
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return await redis.callBuffer('EVAL', this.source, keys.length, ...keys, ...args)
    }
  }
}

export interface Scripts {
  publish: LuaScript
  read: LuaScript
  close: LuaScript
}

const read = new LuaScript(READ)
const SCRIPTS: Record<PublishCommand, Scripts> = {
  PUBLISH: { publish: new LuaScript(publishSource('PUBLISH')), read, close: new LuaScript(closeSource('PUBLISH')) },
  SPUBLISH: { publish: new LuaScript(publishSource('SPUBLISH')), read, close: new LuaScript(closeSource('SPUBLISH')) }
}

export function scriptsFor (publish: PublishCommand): Scripts {
  return SCRIPTS[publish]
}
