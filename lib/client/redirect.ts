import { Agent, Dispatcher, getGlobalDispatcher, request } from 'undici'
import { ClientRedirectError } from './errors.js'

// Redirects followed as fetch (and so EventSource) follows them, by our own loop over undici's
// `request`: undici's redirect interceptor keeps every header but Authorization, Cookie and
// Proxy-Authorization on a cross-origin hop, and composing it on the global dispatcher breaks when
// that dispatcher comes from another undici (Node 22's bundled undici 6).

let ownAgent: Agent | undefined

/**
 * The dispatcher a request goes through when the caller names none: undici's global one, unless it
 * is another undici's (Node 22 installs its bundled undici 6 there, whose agent keeps a stray
 * connection open to a server after an aborted request, holding that server's close for a minute):
 * then an agent of this undici's own. An app's own global dispatcher (a proxy, a mock) is kept.
 */
function defaultDispatcher (): Dispatcher {
  const global = getGlobalDispatcher()
  return global instanceof Dispatcher ? global : (ownAgent ??= new Agent())
}

/** How many redirects in a row are followed before the attempt fails: fetch's limit. */
export const MAX_REDIRECTS = 20

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])

// The headers fetch removes with the body when a redirect turns a request into a GET.
const BODY_HEADERS = new Set(['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'])

/** One request of a chain of redirects. */
export interface Hop {
  url: URL
  method: string
  /** Lowercase names. */
  headers: Record<string, string>
  body?: string | Uint8Array
}

export interface FollowOptions {
  /** Sent instead of the hop's headers from the first redirect that leaves the current origin on. */
  crossOriginHeaders: Record<string, string>
  /** Aborting it ends the request, whichever hop it is on. */
  signal: AbortSignal
  /** Default: undici's global dispatcher. */
  dispatcher: Dispatcher | undefined
  /** How long to wait for each response's headers, in ms. */
  headersTimeout: number
}

/**
 * Sends `first`, then follows each 301, 302, 303, 307 or 308 that has a `Location`, up to
 * MAX_REDIRECTS; resolves with the first other response (its body unread, without a body timeout:
 * a quiet stream is a normal stream). Rejects with a ClientRedirectError past the limit or for a
 * `Location` that is not an http(s) URL, else with what `request` rejects with.
 */
export async function requestFollowing (first: Hop, options: FollowOptions): Promise<Dispatcher.ResponseData> {
  let hop = first
  for (let redirects = 0; ; redirects++) {
    const response = await request(hop.url, {
      method: hop.method as Dispatcher.HttpMethod,
      headers: hop.headers,
      body: hop.body,
      signal: options.signal,
      dispatcher: options.dispatcher ?? defaultDispatcher(),
      headersTimeout: options.headersTimeout,
      bodyTimeout: 0
    })
    const { statusCode: status, headers: { location } } = response
    // A redirect status without a Location is the response itself, as in fetch.
    if (!REDIRECT_STATUSES.has(status) || typeof location !== 'string') return response
    discard(response.body)
    if (redirects === MAX_REDIRECTS) throw new ClientRedirectError(status, `more than ${MAX_REDIRECTS} redirects in a row`)
    hop = redirected(hop, status, location, options.crossOriginHeaders)
  }
}

// The next request, as fetch's "HTTP-redirect fetch" makes it.
function redirected (hop: Hop, status: number, location: string, crossOriginHeaders: Record<string, string>): Hop {
  const url = parseUrl(location, hop.url)
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new ClientRedirectError(status, `Location ${JSON.stringify(location)} is not an http(s) URL`)
  }
  // Credentials in any header and the Last-Event-ID are for the origin they were given for only.
  let headers = url.origin === hop.url.origin ? hop.headers : crossOriginHeaders
  let { method, body } = hop
  const upper = method.toUpperCase()
  if ((status === 303 && upper !== 'GET' && upper !== 'HEAD') || ((status === 301 || status === 302) && upper === 'POST')) {
    method = 'GET'
    body = undefined
    headers = Object.fromEntries(Object.entries(headers).filter(([name]) => !BODY_HEADERS.has(name)))
  }
  return { url, method, headers, body }
}

/** Ends a response whose body is not wanted, without the abort error it then emits becoming uncaught. */
export function discard (body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {}).destroy()
}

// URL.parse is Node 22 only.
function parseUrl (location: string, base: URL): URL | undefined {
  try {
    return new URL(location, base)
  } catch {
    return undefined
  }
}
