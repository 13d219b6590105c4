// HTTP/2 in a real browser: a page holds 12 EventSources on one origin (HTTP/1.1 would allow six),
// all live at once on one TLS session. Headless Chromium from the system, driven by playwright-core;
// the certificate is made by the test, and only this browser context ignores that it is self-signed.
import { existsSync } from 'node:fs'
import type { Http2ServerRequest, Http2Session } from 'node:http2'
import Fastify from 'fastify'
import { chromium, type Page } from 'playwright-core'
import t from 'tap'
import { Event, ssePlugin } from '../lib/index.js'
import { hasOpenssl, selfSignedCert } from './helpers/self-signed-cert.js'

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const required = process.env.SSE_REQUIRE_BROWSER === '1'
const missing = !existsSync(executablePath) ? `no Chromium at ${executablePath}` : !hasOpenssl() ? 'no openssl to make a certificate' : undefined
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync']
const WAIT = 15_000 // the bound of every wait on the page
const SOURCES = 12

if (missing !== undefined && required) t.fail(`SSE_REQUIRE_BROWSER=1 but ${missing}`)

// Each source writes what it receives into its own <li>: the test reads the page through locators
// (this project compiles without the DOM library).
const PAGE = `<!doctype html><meta charset="utf-8"><title>h2</title><ol id="sources"></ol><script>
for (let i = 0; i < ${SOURCES}; i++) {
  const li = document.createElement('li')
  li.id = 'es-' + i
  li.dataset.state = 'connecting'
  li.dataset.opens = '0'
  document.getElementById('sources').append(li)
  const source = new EventSource('/events/' + i)
  source.onopen = () => { li.dataset.state = 'open'; li.dataset.opens = String(Number(li.dataset.opens) + 1) }
  source.onerror = () => { li.dataset.state = source.readyState === 2 ? 'closed' : 'reconnecting' }
  source.addEventListener('tick', (e) => { li.textContent += (li.textContent ? ' ' : '') + e.data })
}
</script>`

function texts (page: Page): Promise<string[]> {
  return page.locator('#sources li').allTextContents()
}

/** Waits until every source's <li> shows `text`, or the bound runs out. */
async function allShow (page: Page, text: string): Promise<void> {
  for (let i = 0; i < SOURCES; i++) {
    await page.locator(`#es-${i}`, { hasText: new RegExp(`^${text}$`) }).waitFor({ timeout: WAIT })
  }
}

async function waitUntil (condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

t.test(`${SOURCES} EventSources on one origin share one HTTP/2 session in Chromium`, { skip: missing ?? false }, async (t) => {
  const app = Fastify({ http2: true, https: selfSignedCert() })
  const sessions = new Set<Http2Session>()
  app.server.on('session', (session: Http2Session) => sessions.add(session))
  const streamSessions = new Set<Http2Session>()
  const versions = new Set<string>()
  const ids: string[] = []
  // retry: a stream the server ends comes back quickly, so the test does not wait Chromium's default.
  await app.register(ssePlugin, { retry: 100 })
  app.get('/', (_request, reply) => { reply.type('text/html; charset=utf-8').send(PAGE) })
  app.get('/events/:i', {
    chunk: true,
    handler: {
      init (token) {
        const raw = token.request.raw as Http2ServerRequest
        streamSessions.add(raw.stream.session!)
        versions.add(raw.httpVersion)
        ids.push(token.id)
        token.subscribe('h2')
      }
    }
  })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())

  const browser = await chromium.launch({ executablePath, args: ARGS, timeout: 60_000 })
  t.teardown(() => browser.close())
  const context = await browser.newContext({ ignoreHTTPSErrors: true })
  const page = await context.newPage()
  page.setDefaultTimeout(WAIT)
  await page.goto(url)
  t.equal(await page.evaluate('performance.getEntriesByType("navigation")[0].nextHopProtocol'), 'h2', 'the page came over HTTP/2')

  // All of them open at the same time: over HTTP/1.1 the seventh would wait for a free connection.
  await waitUntil(() => app.sse.connections === SOURCES, `${SOURCES} streams are open on the server`)
  await page.locator('#sources li[data-state=open]').nth(SOURCES - 1).waitFor({ state: 'attached', timeout: WAIT })
  t.same([...versions], ['2.0'], 'every stream is an HTTP/2 stream')
  t.equal(streamSessions.size, 1, 'every stream is on one HTTP/2 session')
  t.equal(sessions.size, 1, 'the browser opened one session to the server')

  for (const n of [1, 2, 3]) await app.sse.publish('h2', new Event({ event: 'tick', data: String(n) }))
  await allShow(page, '1 2 3')
  t.same(await texts(page), Array(SOURCES).fill('1 2 3'), 'every source got every event, once, in order')

  // The server ends one stream: that HTTP/2 stream closes, the session and the other 11 stay.
  t.equal(app.sse.close(ids[0]), true)
  await page.locator('#sources li[data-opens="2"]').waitFor({ state: 'attached', timeout: WAIT })
  await waitUntil(() => app.sse.connections === SOURCES, 'the ended stream is back')
  await app.sse.publish('h2', new Event({ event: 'tick', data: '4' }))
  await allShow(page, '1 2 3 4')
  t.same(await texts(page), Array(SOURCES).fill('1 2 3 4'), 'the reconnect resumed with no gap or duplicate')
  t.equal(await page.locator('#sources li[data-opens="1"]').count(), SOURCES - 1, 'the other streams never dropped')
  t.equal(streamSessions.size, 1, 'the reconnect came over the same session')
  t.equal(sessions.size, 1, 'still one session')
  t.equal([...sessions][0].closed, false)

  // The page goes away: its session and every stream on it end on the server.
  await context.close()
  await waitUntil(() => app.sse.connections === 0, 'the streams of the closed page ended')
  t.pass('the streams ended with the page')
})
