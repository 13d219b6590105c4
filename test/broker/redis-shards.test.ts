import { EventEmitter } from 'node:events'
import t from 'tap'
import type { Cluster, Redis } from 'ioredis'
import type { TopicFeed } from '../../lib/redis/feed.js'
import { slotOf } from '../../lib/redis/keys.js'
import { ShardedSubscribers } from '../../lib/redis/shards.js'

// The routing of shard subscriptions alone, on fakes: the orders of events that a real cluster only
// produces by chance (a push while a command waits, a stale map) are played at will here.

const CHANNEL = 'sse:{room}:events'
const SLOT = slotOf(CHANNEL)
const queueError = (reply: string): Error => new Error(`Command queue state error. If you can reproduce this, please report it. Last reply: ${reply}`)

class FakeRedis extends EventEmitter {
  status = 'ready'
  readonly subscribed: string[] = []
  readonly unsubscribed: string[] = []
  readonly disconnects: boolean[] = []
  failNext: Error | undefined
  constructor (readonly node: string) { super() }
  async ssubscribe (channel: string): Promise<number> {
    const failure = this.failNext
    this.failNext = undefined
    if (failure !== undefined) throw failure
    this.subscribed.push(channel)
    return 1
  }

  async sunsubscribe (channel: string): Promise<number> {
    this.unsubscribed.push(channel)
    return 0
  }

  async quit (): Promise<string> {
    this.status = 'end'
    return 'OK'
  }

  disconnect (reconnect = false): void { this.disconnects.push(reconnect) }
}

class FakeCluster extends EventEmitter {
  slots: string[][] = Array.from({ length: 16384 }, () => ['a:1'])
  refreshes = 0
  readonly probes: string[] = []
  /** What a refresh or a probe learns (a MOVED, a new map). */
  learn: () => void = () => {}
  refreshSlotsCache (callback?: (error?: Error) => void): void {
    this.refreshes++
    this.learn()
    this.emit('refresh')
    callback?.()
  }

  async exists (key: string): Promise<number> {
    this.probes.push(key)
    this.learn()
    return 0
  }
}

function setup (): { cluster: FakeCluster, opened: Map<string, FakeRedis>, shards: ShardedSubscribers, feed: TopicFeed & { syncs: number } } {
  const cluster = new FakeCluster()
  const opened = new Map<string, FakeRedis>()
  const open = (node: string): Redis => {
    const redis = new FakeRedis(node)
    opened.set(node, redis)
    return redis as unknown as Redis
  }
  const shards = new ShardedSubscribers(cluster as unknown as Cluster, { open, heartbeatInterval: 0, retryDelay: 5 })
  const feed = { channel: CHANNEL, syncs: 0, async sync () { feed.syncs++ }, receive () {} }
  return { cluster, opened, shards, feed: feed as unknown as TopicFeed & { syncs: number } }
}

const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 20))

t.test('shards: a channel is subscribed on the master of its slot; a refresh that moves the slot moves it, then syncs', async (t) => {
  const { cluster, opened, shards, feed } = setup()
  cluster.slots[SLOT] = ['b:2']
  await shards.add(feed)
  t.same([...opened.keys()], ['b:2'], 'one connection, to the owner only')
  t.same(opened.get('b:2')!.subscribed, [CHANNEL])

  cluster.slots[SLOT] = ['c:3']
  cluster.slots.fill(['c:3'])
  cluster.emit('refresh')
  await settle()
  t.same(opened.get('c:3')!.subscribed, [CHANNEL], 'subscribed on the new master')
  t.same(opened.get('b:2')!.unsubscribed, [CHANNEL], 'and left on the old one')
  t.equal(feed.syncs, 1, 'then synced from the stream')
  t.equal(opened.get('b:2')!.status, 'end', 'a node that is no master any more, without topics, is closed')
  await shards.close()
  t.equal(opened.get('c:3')!.status, 'end')
})

t.test('shards: the old owner\'s sunsubscribe: a probe on the slot, then the channel moves (or is subscribed again in place)', async (t) => {
  const { cluster, opened, shards, feed } = setup()
  await shards.add(feed)
  const first = opened.get('a:1')!
  cluster.learn = () => { cluster.slots[SLOT] = ['b:2'] }
  first.emit('error', queueError(`sunsubscribe,${CHANNEL},0`))
  await settle()
  t.same(cluster.probes, [CHANNEL], 'a keyed command on the channel\'s slot corrects the map')
  t.same(opened.get('b:2')?.subscribed, [CHANNEL], 'the channel moved')
  t.equal(feed.syncs, 1)

  // The channel dropped without the slot moving: subscribed again where it is.
  cluster.learn = () => {}
  opened.get('b:2')!.emit('error', queueError(`sunsubscribe,${CHANNEL},3`))
  await settle()
  t.same(opened.get('b:2')!.subscribed, [CHANNEL, CHANNEL])
  t.equal(feed.syncs, 2)
  t.same(first.disconnects, [], 'no connection started over')
  await shards.close()
})

t.test('shards: another stray reply starts the connection over; other errors are its own business', async (t) => {
  const { opened, shards, feed } = setup()
  await shards.add(feed)
  const redis = opened.get('a:1')!
  redis.emit('error', new Error('connect ECONNREFUSED 127.0.0.1:1'))
  redis.emit('error', queueError('sunsubscribe,sse:{someone-else}:events,0'))
  t.same(redis.disconnects, [], 'a connection error, or a channel it does not carry: nothing to do')
  redis.emit('error', queueError('pong,'))
  t.same(redis.disconnects, [true], 'replies out of step with commands: reconnect, then a full catch-up')
  await shards.close()
})

t.test('shards: a listen on a stale map is tried once more on the master the refreshed map names', async (t) => {
  const { cluster, opened, shards, feed } = setup()
  const stale = new Error('Command timed out')
  cluster.learn = () => { opened.get('a:1')!.failNext = undefined; cluster.slots[SLOT] = ['b:2'] }
  const adding = shards.add(feed)
  opened.get('a:1')!.failNext = stale
  await adding.catch((error: unknown) => t.fail(String(error)))
  t.ok(opened.get('b:2')?.subscribed.includes(CHANNEL), 'subscribed where the slot is now')

  const other = setup()
  other.cluster.learn = () => {}
  const failing = other.shards.add(other.feed)
  other.opened.get('a:1')!.failNext = stale
  await t.rejects(failing, stale, 'the map did not change: the error stands')
  other.shards.remove(other.feed)
  other.shards.remove(other.feed)
  await Promise.all([shards.close(), other.shards.close()])
})

t.test('shards: a sync the feed started failed: its connection catches up again (refreshing the map first)', async (t) => {
  const { cluster, opened, shards, feed } = setup()
  await shards.add(feed)
  const redis = opened.get('a:1')!
  redis.emit('ready')
  await settle()
  const refreshes = cluster.refreshes
  shards.syncFailed(feed)
  await settle()
  t.ok(cluster.refreshes > refreshes, 'the slot map was refreshed')
  t.ok(redis.subscribed.length >= 2, 'the channel subscribed again')
  t.ok(feed.syncs >= 1, 'and the feed synced')
  await shards.close()
  shards.syncFailed(feed)
})
