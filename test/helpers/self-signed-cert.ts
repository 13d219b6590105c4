// A throwaway TLS certificate for 127.0.0.1, made by the system's openssl (node:crypto can make keys
// but not certificates), so TLS tests carry no key material in the repository.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const OPENSSL = process.env.OPENSSL_PATH ?? 'openssl'

/** True when `openssl` runs here. */
export function hasOpenssl (): boolean {
  try {
    execFileSync(OPENSSL, ['version'], { stdio: 'ignore', timeout: 10_000 })
    return true
  } catch {
    return false
  }
}

/** A self-signed P-256 certificate valid for one day for 127.0.0.1 and localhost, PEM encoded. */
export function selfSignedCert (): { key: string, cert: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sse-cert-'))
  try {
    const key = join(dir, 'key.pem')
    const cert = join(dir, 'cert.pem')
    execFileSync(OPENSSL, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '-keyout', key, '-out', cert], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 })
    return { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}
