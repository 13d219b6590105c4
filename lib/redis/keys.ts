import { validateTopic } from '../broker/validate.js'

/** The Redis names of one topic, in the order the Lua scripts take them as KEYS. */
export interface TopicKeys {
  /** meta (hash: epoch, head), stream (the history), tombstone (string: the final payload) */
  keys: [meta: string, stream: string, tombstone: string]
  /** The Pub/Sub channel of its live events and its close. */
  channel: string
}

/**
 * `<prefix>{<topic, URI-encoded>}:<part>`. Encoding keeps `{`, `}` and `:` of a topic out of the hash
 * tag and the layout, so every key of a topic lands in one Redis Cluster slot and no two topics share
 * a key. The prefix may not hold braces (checked with the options): the tag must be the topic's.
 */
export function topicKeys (prefix: string, topic: string): TopicKeys {
  validateTopic(topic)
  const base = `${prefix}{${encodeURIComponent(topic)}}`
  return { keys: [`${base}:meta`, `${base}:stream`, `${base}:closed`], channel: `${base}:events` }
}

/** The Redis Cluster slot of a key or shard channel: CRC16 (XMODEM) of its hash tag, or of all of it. */
export function slotOf (key: string): number {
  const bytes = Buffer.from(key)
  const open = bytes.indexOf(0x7b) // '{'
  const close = open === -1 ? -1 : bytes.indexOf(0x7d, open + 1) // '}'
  const tagged = close > open + 1 ? bytes.subarray(open + 1, close) : bytes
  let crc = 0
  for (const byte of tagged) {
    crc ^= byte << 8
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  }
  return crc % 16384
}
