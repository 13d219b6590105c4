// Where the CPU went during a measured step: the instances (process.cpuUsage in each), the client
// processes (their own count), Redis (INFO cpu) and the whole machine (os.cpus). What the machine
// spent beyond ours is other work: a step that had it is disturbed, whatever its numbers say.

import { cpus } from 'node:os'
import { Redis } from 'ioredis'
import { now } from '../clock.js'
import type { Cluster } from './cluster.js'

export interface CpuSnapshot { at: number, instancesUs: number, redisUs: number, machineMs: number }

/** CPU time in ms over a step; `cores` is ours (instances + clients + Redis) per ms of the window. */
export interface CpuUse {
  instancesMs: number
  loadgensMs: number
  redisMs: number
  /** Every core's busy time (10 ms ticks on Linux: rough on short steps), and what was not ours. */
  machineMs: number
  othersMs: number
  windowMs: number
  cores: number
}

/** Redis's CPU (user + system) in µs, read on a connection of its own. */
export class RedisCpu {
  readonly #redis: Redis

  constructor (url: string) {
    this.#redis = new Redis(url, { maxRetriesPerRequest: 0, commandTimeout: 5_000 })
    this.#redis.on('error', () => {}) // a failed read is NaN, not a crash
  }

  async read (): Promise<number> {
    try {
      const info = await this.#redis.info('cpu')
      const seconds = (name: string): number => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? NaN)
      return (seconds('used_cpu_user') + seconds('used_cpu_sys')) * 1e6
    } catch {
      return NaN
    }
  }

  close (): void {
    this.#redis.disconnect()
  }
}

function machineBusyMs (): number {
  return cpus().reduce((total, { times }) => total + times.user + times.nice + times.sys + times.irq, 0)
}

export async function cpuSnapshot (cluster: Cluster, redis: RedisCpu): Promise<CpuSnapshot> {
  const [instances, redisUs] = await Promise.all([
    Promise.all(cluster.instances.map((instance) => instance.call('cpu', undefined))),
    redis.read()
  ])
  return { at: now(), instancesUs: instances.reduce((total, us) => total + us, 0), redisUs, machineMs: machineBusyMs() }
}

/** The CPU between two snapshots, with the client processes' own count over the same step. */
export function cpuUse (before: CpuSnapshot, after: CpuSnapshot, loadgensUs: number): CpuUse {
  const instancesMs = (after.instancesUs - before.instancesUs) / 1000
  const loadgensMs = loadgensUs / 1000
  const redisMs = (after.redisUs - before.redisUs) / 1000
  const machineMs = after.machineMs - before.machineMs
  const windowMs = after.at - before.at
  const ours = instancesMs + loadgensMs + redisMs
  return { instancesMs, loadgensMs, redisMs, machineMs, othersMs: machineMs - ours, windowMs, cores: ours / windowMs }
}
