import { InvalidOptionError } from './errors.js'

/**
 * Refuses a key that `allowed` does not name, so a misspelt or misplaced option is an
 * `SSE_ERR_INVALID_OPTION` instead of being silently ignored. `where` names the object in the message.
 */
export function refuseUnknownKeys (options: object | undefined, allowed: readonly string[], where: string): void {
  if (options === undefined || options === null) return
  if (typeof options !== 'object') throw new InvalidOptionError(where, `must be an object, got ${typeof options}`)
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw new InvalidOptionError(`${where}.${key}`, `unknown option (known: ${allowed.join(', ')})`)
  }
}
