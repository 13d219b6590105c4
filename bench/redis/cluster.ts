// The instances of one broker setup, each its own process: three (by default) sharing one Redis, or
// one on the memory broker. Instance 0 is "A", where events are published.

import { fileURLToPath } from 'node:url'
import { Child } from '../ipc.js'
import type { InstanceApi } from './instance.js'
import type { SetupKind } from './results.js'

const entry = fileURLToPath(new URL('instance.ts', import.meta.url))

type Instance = Child<InstanceApi>

export interface Cluster {
  kind: SetupKind
  instances: Instance[]
  ports: number[]
  stop (): Promise<void>
}

export async function startCluster (kind: SetupKind, count: number, redis: { url: string, prefix: string }): Promise<Cluster> {
  const args = kind === 'memory' ? ['memory'] : ['redis', redis.url, redis.prefix]
  const instances = Array.from({ length: count }, (_, i) => new Child<InstanceApi>(`${kind}-${i}`, entry, args, []))
  // Stops whatever started, also when one failed to.
  const stop = async (): Promise<void> => {
    await Promise.all(instances.map((instance) => instance.call('close', undefined, 10_000).catch(() => {})))
    await Promise.all(instances.map((instance) => instance.stop()))
  }
  try {
    await Promise.all(instances.map((instance) => instance.ready()))
    const ports = await Promise.all(instances.map(async (instance) => (await instance.call('info', undefined)).port))
    return { kind, instances, ports, stop }
  } catch (error) {
    await stop()
    throw error
  }
}
