import { execFileSync } from 'node:child_process'
import { cpus, loadavg, release, totalmem } from 'node:os'

/** The commit measured, and whether lib/ had uncommitted changes (others edit the tree meanwhile). */
export function revision (): string {
  try {
    const run = (args: string[]): string => execFileSync('git', args, { encoding: 'utf8', timeout: 5_000 }).trim()
    return run(['rev-parse', '--short', 'HEAD']) + (run(['status', '--porcelain', 'lib']) === '' ? '' : ' + uncommitted lib/ changes')
  } catch {
    return 'unknown'
  }
}

/** The 1-minute load average: other work on the machine shows here, and in the spread of the rounds. */
export function load (): number {
  return Math.round(loadavg()[0] * 100) / 100
}

export function machine (): Record<string, string | number> {
  const cores = cpus()
  return {
    cpus: cores.length,
    model: cores[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30 * 10) / 10,
    node: process.version,
    kernel: release()
  }
}
