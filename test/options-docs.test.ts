import { readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import t from 'tap'
import { libRoot, libSources } from './helpers/lib-sources.js'
import ts from 'typescript'

// Every property of every exported `*Options` interface in lib/ carries a JSDoc comment, so an
// editor shows what the option does, its unit and its default where the user types it.

const isExported = (node: ts.Node): boolean =>
  ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)

/** `file: Interface.property` for each property without a JSDoc comment, and the interfaces seen. */
function undocumented (file: string, text = readFileSync(file, 'utf8')): { missing: string[], interfaces: string[] } {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true)
  const missing: string[] = []
  const interfaces: string[] = []
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || !node.name.text.endsWith('Options') || !isExported(node)) return
    interfaces.push(node.name.text)
    for (const member of node.members) {
      if (!ts.isPropertySignature(member) && !ts.isMethodSignature(member)) continue
      const docs = ts.getJSDocCommentsAndTags(member)
      if (docs.length === 0) missing.push(`${relative(libRoot, file)}: ${node.name.text}.${member.name.getText(source)}`)
    }
  })
  return { missing, interfaces }
}

t.test('every property of an exported *Options interface has a JSDoc comment', async (t) => {
  const results = libSources().map((file) => undocumented(file))
  const interfaces = results.flatMap((r) => r.interfaces)
  const missing = results.flatMap((r) => r.missing)
  t.ok(interfaces.length >= 5, `the check saw the Options interfaces: ${interfaces.join(', ')}`)
  t.same(missing, [], `undocumented:\n${missing.join('\n')}`)
})

t.test('the check itself: an undocumented property is found, an unexported interface is not checked', async (t) => {
  const text = 'export interface ProbeOptions {\n  /** ms. Default 1. */\n  a?: number\n  b?: number\n}\ninterface HiddenOptions { c?: number }\n'
  t.same(undocumented(join(libRoot, 'probe.ts'), text), { missing: ['probe.ts: ProbeOptions.b'], interfaces: ['ProbeOptions'] })
})
