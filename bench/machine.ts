import { cpus, release, totalmem } from 'node:os'

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
