// Each example run as its README line runs it (its `import.meta.url` main), as a process of its own
// on a free port: it starts, says where it listens, and answers. The behaviour of each is tested in
// test/example-*.test.ts; this checks that `npx tsx example/<file>.ts` works at all.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import t, { type Test } from 'tap'
import { request } from 'undici'
import { childEnv } from './helpers/child-env.js'

// Each start compiles its example (about 3 s): run them side by side.
t.jobs = 4

interface Started { child: ChildProcess, url: string, output: () => string }

/** Starts `node --import tsx <file>` with PORT=0 and resolves with the first URL it prints. */
async function run (t: Test, file: string, env: Record<string, string> = {}): Promise<Started> {
  const child = spawn(process.execPath, ['--import', 'tsx', file], { env: childEnv({ PORT: '0', ...env }), stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return
    const exited = once(child, 'exit')
    child.kill('SIGTERM')
    await exited
  })
  let text = ''
  child.stderr!.on('data', (chunk: Buffer) => { text += chunk.toString() })
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString()
      const found = /http:\/\/127\.0\.0\.1:\d+/.exec(text)
      if (found !== null) resolve(found[0])
    })
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}: ${text}`)))
  })
  return { child, url, output: () => text }
}

async function waitFor (condition: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (condition()) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`timed out waiting for ${what}`)
}

t.test('example/ping.ts', async (t) => {
  const { url } = await run(t, 'example/ping.ts')
  const response = await request(`${url}/ping`)
  t.equal(response.headers['content-type'], 'text/event-stream; charset=utf-8')
  const [chunk] = await response.body[Symbol.asyncIterator]().next().then((next) => [next.value as Buffer])
  t.match(chunk.toString(), /event: ping\ndata: \{"time":/)
  response.body.destroy()
})

t.test('example/lasse.ts', async (t) => {
  const { url } = await run(t, 'example/lasse.ts')
  const response = await request(`${url}/events?user=ann&once=1`)
  t.match(await response.body.text(), /event: snapshot\n/)
})

t.test('example/pastelli.ts', async (t) => {
  const { url } = await run(t, 'example/pastelli.ts')
  t.same(await (await request(`${url}/connections`)).body.json(), { open: [], left: [] })
})

t.test('example/auto-connect.ts, against its own flaky server', async (t) => {
  const { output } = await run(t, 'example/auto-connect.ts')
  await waitFor(() => /I just got a new event: 1 \{"n":1\}/.test(output()), 'the first event')
  t.pass('the client got its first event')
})

t.test('example/ten-chunks.ts', async (t) => {
  const { url } = await run(t, 'example/ten-chunks.ts', { CHUNK_INTERVAL: '5' })
  const text = await (await request(`${url}/api/stream.txt`)).body.text()
  t.equal(text.split('\n').length, 11)
})

t.test('example/stream-wrapper.ts', async (t) => {
  const { url } = await run(t, 'example/stream-wrapper.ts', { CHUNK_INTERVAL: '5' })
  const text = await (await request(`${url}/api/stream-wrapper`)).body.text()
  t.match(text, /data: 分片数据 10\nid: 10\n/)
})

t.test('example/pubsub.ts', async (t) => {
  const { url } = await run(t, 'example/pubsub.ts', { CHUNK_INTERVAL: '5' })
  const response = await request(`${url}/api/reopen`, { method: 'POST' })
  t.equal(response.statusCode, 204)
  await response.body.dump()
})

t.test('example/demo/server.ts', async (t) => {
  const { url } = await run(t, 'example/demo/server.ts')
  const response = await request(url)
  t.equal(response.statusCode, 200)
  await response.body.dump()
})
