// The demo's single page, read once, with a Content-Security-Policy that allows its own inline
// script (by hash) and nothing from elsewhere: a message that slipped into the page as HTML
// could still not run a script.
import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'

export interface Page {
  html: string
  csp: string
}

function scriptHashes (html: string): string[] {
  const scripts = html.matchAll(/<script>([\s\S]*?)<\/script>/g)
  return [...scripts].map(([, body]) => `'sha256-${createHash('sha256').update(body).digest('base64')}'`)
}

export async function loadPage (): Promise<Page> {
  const html = await readFile(new URL('./page.html', import.meta.url), 'utf8')
  const csp = [
    "default-src 'none'",
    `script-src ${scriptHashes(html).join(' ')}`,
    "style-src 'unsafe-inline'",
    "connect-src 'self'",
    "img-src 'self'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'"
  ].join('; ')
  return { html, csp }
}
