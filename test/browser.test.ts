// The demo in a real browser: headless Chromium from the system (no browser download), driven by
// playwright-core. Two pages chat; the server cuts their streams; EventSource reconnects with
// Last-Event-ID and the messages published meanwhile appear on both pages, once each, in order.
// Then Chromium's WebSocket on a `chunk: { websocket: true }` route (example/pastelli.ts).
import { existsSync } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import { type Browser, chromium, type Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { buildDemo } from '../example/demo/server.js'
import { buildPastelliApp } from '../example/pastelli.js'

const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const required = process.env.SSE_REQUIRE_BROWSER === '1'
const available = existsSync(executablePath)
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync']
const WAIT = 15_000 // the bound of every wait on the page; a failure says what was awaited

if (!available && required) t.fail(`SSE_REQUIRE_BROWSER=1 but no Chromium at ${executablePath}`)

/**
 * Holds the chat reconnects (requests that carry Last-Event-ID) until released, and records their
 * ids: so the test can publish while every stream is surely down, and see what the browser resent.
 */
function resumeGate (app: FastifyInstance) {
  const ids: string[] = []
  let release!: () => void
  const open = new Promise<void>((resolve) => { release = resolve })
  app.addHook('onRequest', async (request) => {
    const id = request.headers['last-event-id']
    if (request.url !== '/chat' || typeof id !== 'string') return
    ids.push(id)
    await open
  })
  return { ids, release }
}

async function startDemo (t: Test) {
  const app = await buildDemo()
  const gate = resumeGate(app)
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => {
    gate.release() // a held request would keep close() waiting
    await app.close()
  })
  return { app, url, gate }
}

async function launch (t: Test): Promise<Browser> {
  const browser = await chromium.launch({ executablePath, args: ARGS, timeout: 60_000 })
  t.teardown(() => browser.close())
  return browser
}

/** A page in its own browser context: two separate windows, each with its own connections. */
async function openPage (browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 900, height: 760 } })
  const page = await context.newPage()
  page.setDefaultTimeout(WAIT)
  await page.goto(url)
  return page
}

// Locators rather than functions run in the page: this project compiles without the DOM library.
function waitForState (page: Page, state: string): Promise<void> {
  return page.locator('#state', { hasText: new RegExp(`^${state}$`) }).waitFor({ timeout: WAIT })
}

function waitForMessages (page: Page, count: number): Promise<void> {
  return page.locator('#messages li').nth(count - 1).waitFor({ timeout: WAIT })
}

function messageTexts (page: Page): Promise<string[]> {
  return page.locator('#messages li .text').allTextContents()
}

async function send (page: Page, user: string, text: string): Promise<void> {
  await page.fill('#user', user)
  await page.fill('#text', text)
  await page.click('#send button[type=submit]')
}

async function post (app: FastifyInstance, text: string): Promise<void> {
  const response = await app.inject({ method: 'POST', url: '/messages', payload: { user: 'server', text } })
  if (response.statusCode !== 201) throw new Error(`POST /messages: ${response.statusCode} ${response.body}`)
}

t.test('two pages chat, the streams are cut and resume with Last-Event-ID', { skip: available ? false : `no Chromium at ${executablePath}` }, async (t) => {
  const { app, url, gate } = await startDemo(t)
  const browser = await launch(t)
  const pages = [await openPage(browser, url), await openPage(browser, url)]
  const [a, b] = pages
  for (const page of pages) await waitForState(page, 'connected')

  // The clock ticks: the ping stream's time changes.
  await a.locator('#clock[datetime]').waitFor({ timeout: WAIT })
  const before = await a.getAttribute('#clock', 'datetime')
  await a.locator(`#clock:not([datetime="${before}"])`).waitFor({ timeout: WAIT })
  t.pass('the clock ticks')

  // A message from page A's form reaches B, and A; markup in a message stays text.
  await send(a, 'alice', 'hello from A')
  await send(b, 'bob', '<img src=x onerror="document.title=\'xss\'"><b>bold?</b>')
  for (const page of pages) {
    await waitForMessages(page, 2)
    t.same(await messageTexts(page), ['hello from A', '<img src=x onerror="document.title=\'xss\'"><b>bold?</b>'])
    t.equal(await page.locator('#messages img, #messages b').count(), 0, 'user text is never parsed as HTML')
  }
  t.not(await a.title(), 'xss')
  const lastIds = await Promise.all(pages.map((page) => page.textContent('#last-id')))

  // The server cuts the chat streams; the server and the clock stay up.
  const cut = await app.inject({ method: 'POST', url: '/admin/cut' })
  t.same(cut.json(), { cut: 2 })
  for (const page of pages) await waitForState(page, 'reconnecting')

  // Published while both chat streams are down: the reconnects are held until this is done.
  const missed = ['missed 1', 'missed 2', 'missed 3']
  for (const text of missed) await post(app, text)
  await waitUntil(() => gate.ids.length === 2, 'both pages reconnect with Last-Event-ID')
  t.same([...gate.ids].sort(), [...lastIds].sort(), 'each page resent the id of the last event it had seen')
  gate.release()

  for (const page of pages) await waitForState(page, 'connected')
  // One more, live: once it is shown, a duplicate replayed before it would be shown too.
  await post(app, 'live after resume')
  const expected = ['hello from A', '<img src=x onerror="document.title=\'xss\'"><b>bold?</b>', ...missed, 'live after resume']
  for (const page of pages) {
    await waitForMessages(page, expected.length)
    t.same(await messageTexts(page), expected, 'every message once, in order')
    t.equal(await page.textContent('#count'), String(expected.length))
    t.equal(await page.textContent('#reconnects'), '1')
    t.equal(await page.isHidden('#notice'), true, 'no reset notice: the stream resumed')
  }
  t.equal(app.sse.stats().resets, 0)

  await b.screenshot({ path: '/tmp/demo.png' })
})

t.test('a page whose id cannot be resumed shows the reset notice', { skip: available ? false : `no Chromium at ${executablePath}` }, async (t) => {
  const { url, gate } = await startDemo(t)
  gate.release() // this test holds nothing
  const browser = await launch(t)
  const context = await browser.newContext()
  const page = await context.newPage()
  page.setDefaultTimeout(WAIT)
  // As if the page had seen an event of a server that has since restarted.
  await page.route('**/chat', (route) => route.continue({ headers: { ...route.request().headers(), 'last-event-id': 'chat=unknown.7' } }))
  await page.goto(url)
  await waitForState(page, 'connected')
  await page.waitForSelector('#notice:not([hidden])', { timeout: WAIT })
  t.match(await page.textContent('#notice'), /could not be resumed/)
})

// Chromium's own WebSocket on a `chunk: { websocket: true }` route (example/pastelli.ts), beside an
// EventSource on the same route. Page code is given as strings: this project compiles without the DOM.
t.test('Chromium\'s WebSocket and EventSource on one chunk: { websocket: true } route: messages in and out, a push, the close', { skip: available ? false : `no Chromium at ${executablePath}` }, async (t) => {
  const app = await buildPastelliApp({ heartbeat: false })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const browser = await launch(t)
  const page = await (await browser.newContext()).newPage()
  page.setDefaultTimeout(WAIT)
  await page.goto(`${url}/connections`) // any page of the origin
  await page.evaluate(`new Promise((resolve, reject) => {
    window.received = []
    window.closeCode = null
    window.sse = []
    const ws = window.ws = new WebSocket(location.origin.replace(/^http/, 'ws') + '/connections/deck')
    ws.binaryType = 'arraybuffer'
    ws.onmessage = (e) => received.push(typeof e.data === 'string' ? e.data : Array.from(new Uint8Array(e.data)))
    ws.onclose = (e) => { window.closeCode = e.code }
    ws.onopen = () => resolve(true)
    ws.onerror = () => reject(new Error('the WebSocket failed'))
    const es = window.es = new EventSource('/connections/viewer')
    es.addEventListener('handshake', (e) => sse.push(e.data))
  })`)
  const received = async (count: number): Promise<unknown[]> => {
    await page.waitForFunction(`window.received.length >= ${count}`, undefined, { timeout: WAIT })
    return page.evaluate('window.received') as Promise<unknown[]>
  }
  t.same(JSON.parse(String((await received(1))[0])), { data: { text: 'hallo!' }, event: 'handshake', id: '1234' }, 'the handshake as JSON')
  await page.waitForFunction('window.sse.length === 1', undefined, { timeout: WAIT })
  t.same(await page.evaluate('window.sse'), [JSON.stringify({ text: 'hallo!' })], 'the EventSource got the same handshake over SSE')
  t.same((await app.inject('/connections')).json().open.sort((a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name)), [
    { name: 'deck', transport: 'websocket' },
    { name: 'viewer', transport: 'sse' }
  ])

  await page.evaluate('ws.send(\'next slide\'); ws.send(new Uint8Array([1, 2, 3]))')
  const [, echo, bytes] = await received(3)
  t.same(JSON.parse(String(echo)), { data: 'next slide', event: 'echo' }, 'text in, through the mailbox, an Event out')
  t.same(bytes, [1, 2, 3], 'bytes in, a binary message out')

  const pushed = await app.inject({ method: 'POST', url: '/connections/deck/events', payload: { data: { slide: 3 }, event: 'goto' } })
  t.equal(pushed.statusCode, 202)
  t.same(JSON.parse(String((await received(4))[3])), { data: { slide: 3 }, event: 'goto' }, 'app.sse.send from a route')

  t.equal((await app.inject({ method: 'DELETE', url: '/connections/deck' })).statusCode, 204)
  await page.waitForFunction('window.closeCode !== null', undefined, { timeout: WAIT })
  t.equal(await page.evaluate('window.closeCode'), 1000, 'app.sse.close: a normal close')
  t.same(JSON.parse(String((await received(5))[4])), { data: 'closed by the server', event: 'closed' }, 'the final message before the close')
  await page.evaluate('es.close()')
  await waitUntil(() => app.sse.connections === 0, 'both streams end')
})

/** Polls a condition of the server side, bounded like the page waits. */
async function waitUntil (condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + WAIT
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
