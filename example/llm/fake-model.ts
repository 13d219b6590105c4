// A stand-in for an OpenAI-style chat completions API, so the example and its test run with no
// network: POST /v1/chat/completions with `{ stream: true, max_tokens, messages }` answers
// `data: {"choices":[{"delta":{"content":"..."}}]}` events, one token every `delayMs`, then
// `data: [DONE]`. It stops writing when the caller hangs up, as a real API does.
import http from 'node:http'
import type { AddressInfo } from 'node:net'

export interface FakeModelOptions {
  /** ms between two tokens; 0 writes the whole answer at once. Default 20 (about 50 tokens/s). */
  delayMs?: number
  /** The answer's tokens for a prompt; default: the words of a canned sentence, up to maxTokens. */
  tokens?: (prompt: string, maxTokens: number) => string[]
  /** Ends the response without `[DONE]` after this many tokens (a model that fails mid-answer). */
  failAfter?: number
  /** Answers every request with this status and a JSON error (a 429, say): a model that refuses. */
  refuse?: number
}

export interface FakeModel {
  /** http://127.0.0.1:<port>/v1/chat/completions */
  readonly url: string
  /** Tokens written so far, over every request (a test polls it to open a stream "late"). */
  readonly written: () => number
  /** Requests answered so far. */
  readonly requests: () => number
  close (): Promise<void>
}

const SENTENCE = 'Server-Sent Events carry a model\'s tokens to the browser, one event each, and a reconnect resumes where it left off.'.split(' ')

export function cannedTokens (_prompt: string, maxTokens: number): string[] {
  return Array.from({ length: maxTokens }, (_, i) => `${SENTENCE[i % SENTENCE.length]} `)
}

const chunk = (delta: Record<string, string>): string => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta }] })}\n\n`

export async function startFakeModel (options: FakeModelOptions = {}, port = 0): Promise<FakeModel> {
  const { delayMs = 20, tokens = cannedTokens, failAfter, refuse } = options
  let written = 0
  let requests = 0
  const server = http.createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (text: string) => { body += text })
    req.on('end', () => {
      let parsed: { max_tokens?: number, messages?: Array<{ content?: string }> } | undefined
      try {
        parsed = JSON.parse(body)
      } catch {}
      if (parsed === undefined || refuse !== undefined) {
        res.writeHead(refuse ?? 400, { 'content-type': 'application/json' }).end('{"error":{"message":"refused by the fake model at 127.0.0.1"}}')
        return
      }
      requests++
      const answer = tokens(parsed.messages?.at(-1)?.content ?? '', parsed.max_tokens ?? 16)
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
      res.write(chunk({ role: 'assistant' })) // a role-only chunk first, as the real API sends
      let next = 0
      let timer: NodeJS.Timeout | undefined
      // With no delay, 64 tokens a turn: a burst that still lets the event loop breathe.
      const perTurn = delayMs === 0 ? 64 : 1
      const step = (): void => {
        for (let i = 0; i < perTurn; i++) {
          if (res.destroyed) return
          if (failAfter !== undefined && next >= failAfter) { res.destroy(); return }
          if (next >= answer.length) { res.end('data: [DONE]\n\n'); return }
          res.write(chunk({ content: answer[next++] }))
          written++
        }
        timer = setTimeout(step, delayMs)
      }
      res.on('close', () => clearTimeout(timer))
      step()
    })
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const address = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${address.port}/v1/chat/completions`,
    written: () => written,
    requests: () => requests,
    close: () => new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const model = await startFakeModel({}, Number(process.env.PORT ?? 4001))
  console.log(`Fake model at ${model.url}`)
}
