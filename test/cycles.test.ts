import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

// No module of lib/ imports itself back through others, types included: a cycle is a rule that lives
// in two places, and at run time an import that may see a module half loaded.

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../lib')

function sources (dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    return statSync(path).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : []
  })
}

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+'(\.[^']+)'/gm

function importsOf (file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(IMPORT)].map((match) => resolve(dirname(file), match[1].replace(/\.js$/, '.ts')))
}

/** Every cycle, each once, as the list of files from its first module back to it. */
function cycles (files: string[]): string[][] {
  const graph = new Map(files.map((file) => [file, importsOf(file)]))
  const found = new Map<string, string[]>()
  const visit = (file: string, path: string[]): void => {
    const at = path.indexOf(file)
    if (at !== -1) {
      const cycle = path.slice(at)
      found.set([...cycle].sort().join(' '), cycle)
      return
    }
    for (const next of graph.get(file) ?? []) visit(next, [...path, file])
  }
  for (const file of files) visit(file, [])
  return [...found.values()]
}

t.test('lib/ has no import cycle', async (t) => {
  const found = cycles(sources(root)).map((cycle) => cycle.map((file) => relative(root, file)).join(' -> '))
  t.same(found, [], found.join('\n'))
})
