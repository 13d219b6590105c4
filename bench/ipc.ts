// A small request/response layer over the IPC channel of a forked child: the runner drives the
// servers and the load generator with it, and every call is bounded by a timeout.

import { fork, type ChildProcess } from 'node:child_process'

// Handlers take one argument and return a value or a promise of one (both structured-cloneable).
export type Api = Record<string, (args: any) => unknown>

interface Request { id: number, cmd: string, args: unknown }
interface Reply { id: number, ok: boolean, value?: unknown, error?: string }

/** In the child: answers the runner's calls with `handlers`. */
export function serve (handlers: Api): void {
  process.on('message', (message: Request) => {
    const handler = handlers[message.cmd]
    const answer = (reply: Reply): void => { process.send?.(reply) }
    if (handler === undefined) {
      answer({ id: message.id, ok: false, error: `unknown command ${message.cmd}` })
      return
    }
    Promise.resolve()
      .then(() => handler(message.args))
      .then(
        (value) => answer({ id: message.id, ok: true, value }),
        (error: unknown) => answer({ id: message.id, ok: false, error: error instanceof Error ? error.stack ?? error.message : String(error) })
      )
  })
}

/** In the runner: one forked child, called by command name. */
export class Child<A extends Api> {
  readonly #process: ChildProcess
  readonly #pending = new Map<number, { resolve: (value: unknown) => void, reject: (error: Error) => void, timer: NodeJS.Timeout }>()
  #nextId = 1
  #exit: string | undefined
  readonly #ready: Promise<void>

  constructor (readonly name: string, entry: string, args: string[], execArgv: string[]) {
    this.#process = fork(entry, args, { execArgv: ['--import', 'tsx', ...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    let ready: () => void = () => {}
    this.#ready = new Promise((resolve) => { ready = resolve })
    this.#process.on('message', (reply: Reply | { ready: true }) => {
      if ('ready' in reply) {
        ready()
        return
      }
      const pending = this.#pending.get(reply.id)
      if (pending === undefined) return
      this.#pending.delete(reply.id)
      clearTimeout(pending.timer)
      if (reply.ok) pending.resolve(reply.value)
      else pending.reject(new Error(`${this.name}: ${reply.error ?? 'failed'}`))
    })
    this.#process.on('exit', (code, signal) => {
      this.#exit = `${this.name} exited (${signal ?? code})`
      for (const pending of this.#pending.values()) {
        clearTimeout(pending.timer)
        pending.reject(new Error(this.#exit))
      }
      this.#pending.clear()
    })
  }

  get pid (): number | undefined {
    return this.#process.pid
  }

  /** Resolves once the child says it serves calls; bounded by `timeoutMs`. */
  ready (timeoutMs = 30_000): Promise<void> {
    let timer: NodeJS.Timeout | undefined
    const exited = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(this.#exit ?? `${this.name} not ready after ${timeoutMs} ms`)), timeoutMs)
      this.#process.once('exit', () => reject(new Error(this.#exit ?? `${this.name} exited`)))
    })
    return Promise.race([this.#ready, exited]).finally(() => clearTimeout(timer))
  }

  call<K extends keyof A & string> (cmd: K, args: Parameters<A[K]>[0], timeoutMs = 30_000): Promise<Awaited<ReturnType<A[K]>>> {
    if (this.#exit !== undefined) return Promise.reject(new Error(this.#exit))
    const id = this.#nextId++
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new Error(`${this.name}: ${cmd} timed out after ${timeoutMs} ms`))
      }, timeoutMs)
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer })
      this.#process.send({ id, cmd, args } satisfies Request)
    })
  }

  /** Stops the child if it is still there; resolves once it has exited. */
  stop (): Promise<void> {
    if (this.#exit !== undefined) return Promise.resolve()
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.#process.kill('SIGKILL'), 5_000)
      this.#process.once('exit', () => { clearTimeout(timer); resolve() })
      this.#process.kill('SIGTERM')
    })
  }
}
