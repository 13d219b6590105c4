import { readdirSync, statSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The package's source folder. */
export const libRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../lib')

/** Every .ts file under `dir` (lib/ by default), depth first. */
export function libSources (dir = libRoot): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? libSources(path) : path.endsWith('.ts') ? [path] : []
  })
}
