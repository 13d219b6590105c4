// The demo's server without a browser: the page and its policy, message validation, the cut.
import t from 'tap'
import { buildDemo } from '../example/demo/server.js'

t.test('the page is served with a policy that runs only its own inline script', async (t) => {
  const app = await buildDemo()
  t.teardown(() => app.close())
  const response = await app.inject('/')
  t.equal(response.statusCode, 200)
  t.match(response.headers['content-type'], /^text\/html/)
  const csp = String(response.headers['content-security-policy'])
  t.match(csp, /default-src 'none'/)
  t.match(csp, /script-src 'sha256-[A-Za-z0-9+/]+=*'(;|$)/, 'one script, allowed by its hash, no unsafe-inline')
  t.match(response.body, /new EventSource\('\/chat'\)/)
})

// Fastify's defaults drop unknown properties and coerce scalars to strings rather than refusing them.
t.test('POST /messages takes a bounded user and text', async (t) => {
  const app = await buildDemo()
  t.teardown(() => app.close())
  const post = (payload: unknown) => app.inject({ method: 'POST', url: '/messages', payload: payload as object })
  const refused = [
    {},
    { user: 'ann' },
    { user: '', text: 'hi' },
    { user: '   ', text: 'hi' },
    { user: 'a'.repeat(33), text: 'hi' },
    { user: 'ann', text: 'x'.repeat(501) },
    { user: 'ann', text: { value: 'hi' } }
  ]
  for (const payload of refused) t.equal((await post(payload)).statusCode, 400, JSON.stringify(payload).slice(0, 60))
  const accepted = await post({ user: 'ann', text: 'x'.repeat(500) })
  t.equal(accepted.statusCode, 201)
  t.type(accepted.json().position, 'string')
})

t.test('POST /admin/cut ends the open chat streams and leaves the server up', async (t) => {
  const app = await buildDemo()
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(() => app.close())
  const response = await fetch(`${url}/chat`)
  const reader = response.body!.getReader()
  t.teardown(() => reader.cancel().catch(() => {}))
  t.match(new TextDecoder().decode((await reader.read()).value), /retry: 1000/, 'the stream is open')
  t.same((await app.inject({ method: 'POST', url: '/admin/cut' })).json(), { cut: 1 })
  // Read to the end: a cut stream ends, it does not hang.
  let done = false
  while (!done) done = (await reader.read()).done
  t.pass('the stream ended')
  t.same((await app.inject({ method: 'POST', url: '/admin/cut' })).json(), { cut: 0 }, 'a stream that ended is forgotten')
  t.equal((await app.inject('/')).statusCode, 200)
})
