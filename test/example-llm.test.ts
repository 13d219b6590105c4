import t, { type Test } from 'tap'
import { request } from 'undici'
import { buildLlmApp, startFakeModel } from '../example/llm.js'
import { cannedTokens, type FakeModel, type FakeModelOptions } from '../example/llm/fake-model.js'
import { connect } from '../lib/client/index.js'
import type { Broker } from '../lib/index.js'
import { redisAvailable, redisCluster } from './helpers/redis.js'
import { eventually, openStream, type ReceivedEvent } from './helpers/stream.js'

// Issue 11, item 5: example/llm.ts, a generation that survives its readers: late readers start at
// token 1, a reader that leaves resumes elsewhere exactly once, a finished generation answers 204.

const TOKENS = 50
const numbered = (_prompt: string, n: number): string[] => Array.from({ length: n }, (_, i) => `t${i + 1} `)
const EXPECTED = numbered('', TOKENS)

async function model (t: Test, options: FakeModelOptions = {}): Promise<FakeModel> {
  const fake = await startFakeModel({ delayMs: 10, tokens: numbered, ...options })
  t.teardown(() => fake.close())
  return fake
}

async function instance (t: Test, upstream: string, broker?: Broker): Promise<Awaited<ReturnType<typeof buildLlmApp>> & { url: string }> {
  const built = await buildLlmApp({ upstream, broker, heartbeat: false })
  const url = await built.app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => built.app.close())
  return { ...built, url }
}

async function startGeneration (t: Test, base: string, maxTokens = TOKENS): Promise<string> {
  const response = await request(`${base}/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'count', maxTokens }) })
  t.equal(response.statusCode, 202)
  const { id, stream } = await response.body.json() as { id: string, stream: string }
  t.equal(stream, `/generations/${id}`)
  return id
}

const lastId = (events: ReceivedEvent[]): string => events.findLast((event) => event.id !== undefined)!.id!
const tokensOf = (events: ReceivedEvent[]): string[] => events.filter((event) => event.event === 'token').map((event) => event.data)

/**
 * Starts a generation on `producer`, opens its stream late on `first`, cuts it after some tokens,
 * resumes on `second` with the last id; then a reconnect with the last id gets 204 on both.
 */
async function readCutResume (t: Test, fake: FakeModel, producer: string, first: string, second: string): Promise<void> {
  const id = await startGeneration(t, producer)
  await eventually(() => fake.written() >= 10) // the generation has begun: this reader is late
  const late = await openStream(`${first}/generations/${id}`)
  t.equal(late.status, 200)
  await late.waitFor(20)
  late.close() // the browser leaves; the generation goes on
  const before = late.events.slice()
  t.equal(before[0].data, 't1 ', 'the late reader starts at the first token')

  const rest = await openStream(`${second}/generations/${id}`, { headers: { 'last-event-id': lastId(before) } })
  t.equal(rest.status, 200)
  await rest.ended // the topic was closed: the stream ends after the last token and `done`
  t.same([...tokensOf(before), ...tokensOf(rest.events)], EXPECTED, 'the union is every token, in order, once')
  t.match(rest.events.at(-1), { event: 'done', data: JSON.stringify({ tokens: TOKENS }) })

  for (const base of [first, second]) {
    const again = await openStream(`${base}/generations/${id}`, { headers: { 'last-event-id': lastId(rest.events) } })
    t.equal(again.status, 204, 'a reconnect after the end is told to stop')
    again.close()
  }
  const fresh = await openStream(`${second}/generations/${id}`)
  await fresh.ended
  t.same(tokensOf(fresh.events), EXPECTED, 'a reader with no id after the end gets the whole answer (from: start)')
  t.equal(fresh.events.at(-1)?.event, 'done')
  t.equal(fake.requests(), 1, 'one model request, however many readers')
}

t.test('memory broker, one instance: late reader from token 1, cut and resume exactly once, then 204', { timeout: 30_000 }, async (t) => {
  const fake = await model(t)
  const { url } = await instance(t, fake.url)
  await readCutResume(t, fake, url, url, url)
})

t.test('connect() reads a generation to its end and stops by itself at the 204', { timeout: 30_000 }, async (t) => {
  const fake = await model(t, { tokens: cannedTokens })
  const { url } = await instance(t, fake.url)
  const id = await startGeneration(t, url)
  const seen: Array<[string, string]> = []
  for await (const event of connect(`${url}/generations/${id}`, { retry: 250 })) seen.push([event.type, event.data])
  t.same(seen, [...cannedTokens('', TOKENS).map((text) => ['token', text]), ['done', JSON.stringify({ tokens: TOKENS })]])
})

t.test('a model that refuses or cannot be reached: the POST is a 502 that names no host, port or upstream text', { timeout: 30_000 }, async (t) => {
  const refusing = await model(t, { refuse: 429 })
  for (const upstream of [refusing.url, 'http://127.0.0.1:1/v1/chat/completions']) {
    const { url } = await instance(t, upstream)
    const response = await request(`${url}/generations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"hi"}' })
    t.equal(response.statusCode, 502)
    const text = await response.body.text()
    t.notMatch(text, /127\.0\.0\.1|:1\b|ECONNREFUSED|429|fake model/)
    t.match(JSON.parse(text), { message: 'the model did not accept the request' })
  }
})

t.test('a model that fails mid-answer: the readers get event: error, then a reconnect gets 204', { timeout: 30_000 }, async (t) => {
  const fake = await model(t, { failAfter: 7 })
  const { url } = await instance(t, fake.url)
  const id = await startGeneration(t, url)
  const stream = await openStream(`${url}/generations/${id}`)
  await stream.ended
  t.same(tokensOf(stream.events), EXPECTED.slice(0, 7))
  t.match(stream.events.at(-1), { event: 'error', data: JSON.stringify({ tokens: 7, reason: 'model failed' }) })
  const again = await openStream(`${url}/generations/${id}`, { headers: { 'last-event-id': lastId(stream.events) } })
  t.equal(again.status, 204)
})

if (await redisAvailable(t)) {
  t.test('Redis, two instances: a late reader on one, resumed on the other exactly once, then 204 on both', { timeout: 30_000 }, async (t) => {
    const fake = await model(t)
    const broker = redisCluster(t, { retention: 4096 })
    const [a, b] = [await instance(t, fake.url, broker()), await instance(t, fake.url, broker())]
    await readCutResume(t, fake, a.url, a.url, b.url)
  })

  t.test('Redis: the producing instance shuts down mid-generation; a reader on the other gets event: error, then 204', { timeout: 30_000 }, async (t) => {
    const fake = await model(t, { delayMs: 20 })
    const broker = redisCluster(t, { retention: 4096 })
    const [a, b] = [await instance(t, fake.url, broker()), await instance(t, fake.url, broker())]
    const id = await startGeneration(t, a.url, 1000)
    const stream = await openStream(`${b.url}/generations/${id}`)
    await stream.waitFor(5)
    await a.app.close()
    await stream.ended
    const tokens = tokensOf(stream.events)
    t.ok(tokens.length >= 5 && tokens.length < 1000, 'cut mid-answer')
    t.same(tokens, numbered('', tokens.length), 'what came is a prefix, in order, once')
    t.match(stream.events.at(-1), { event: 'error', data: JSON.stringify({ tokens: tokens.length, reason: 'interrupted' }) })
    const again = await openStream(`${b.url}/generations/${id}`, { headers: { 'last-event-id': lastId(stream.events) } })
    t.equal(again.status, 204)
    t.equal(a.generations.running, 0, 'nothing left running on the closed instance')
  })
}
