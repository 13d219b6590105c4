import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import type { Test } from 'tap'
import { freePort } from './free-port.js'

// A real Redis Cluster for one test file: redis-server children on free ports, joined with
// `redis-cli --cluster create`, killed and their directory removed when the file's tests end.

const run = promisify(execFile)

interface ClusterNode {
  port: number
  /** The cluster bus port (`cluster-port`), chosen free too rather than assumed at port + 10000. */
  busPort: number
  process: ChildProcess
}

export interface LocalCluster {
  nodes: ClusterNode[]
  /** `{ host, port }` of every node: what `redisBroker({ cluster })` and `new Cluster()` take. */
  startupNodes: Array<{ host: string, port: number }>
  /** A plain connection to one node, one per port (closed at teardown). */
  admin (port: number): Redis
  /** The port of the master that owns `key`'s slot. */
  ownerOf (key: string): Promise<number>
  /** `kill -9` of a node, then the same command again: it comes back with its config file, its data gone. */
  restart (port: number): Promise<void>
  /** Moves one slot (and its keys) to another master with MIGRATING / IMPORTING / MIGRATE / SETSLOT NODE. */
  moveSlot (slot: number, to: number): Promise<void>
  /** Adds a new node as a replica of the master on `master`, in sync when this resolves: its port. */
  addReplica (master: number): Promise<number>
  /** `CLUSTER FAILOVER` on a replica: its master hands over, no write lost; resolves once every node says so. */
  failover (replica: number): Promise<void>
}

/** Whether `redis-server` (>= 7, for sharded Pub/Sub) and `redis-cli` can be run here. */
function clusterSupported (): boolean {
  const server = spawnSync('redis-server', ['--version'], { encoding: 'utf8' })
  const cli = spawnSync('redis-cli', ['--version'], { encoding: 'utf8' })
  const major = Number(/v=(\d+)\./.exec(server.stdout ?? '')?.[1] ?? 0)
  return server.status === 0 && cli.status === 0 && major >= 7
}

/**
 * Runs `tests` with a cluster of `masters` masters when redis-server is there; skips them otherwise,
 * unless SSE_REQUIRE_REDIS=1 asks to fail.
 */
export async function whenCluster (t: Test, tests: (cluster: LocalCluster) => void | Promise<void>, masters = 3): Promise<void> {
  if (!clusterSupported()) {
    if (process.env.SSE_REQUIRE_REDIS === '1') t.fail('redis-server >= 7 and redis-cli are required (SSE_REQUIRE_REDIS=1)')
    else t.plan(0, 'redis-server >= 7 is not installed (set SSE_REQUIRE_REDIS=1 to fail instead)')
    return
  }
  await tests(await startCluster(t, masters))
}

export async function startCluster (t: Test, masters: number): Promise<LocalCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'sse-cluster-'))
  const nodes: ClusterNode[] = []
  const admins = new Map<number, Redis>()
  // Should the file end without its teardown (an uncaught error), the servers go with it anyway.
  const orphans = (): void => { for (const node of nodes) node.process.kill('SIGKILL') }
  process.once('exit', orphans)
  t.teardown(async () => {
    process.off('exit', orphans)
    for (const admin of admins.values()) admin.disconnect()
    await Promise.all(nodes.map((node) => stop(node.process)))
    await rm(dir, { recursive: true, force: true })
  })
  const launch = (port: number, busPort: number): ChildProcess => {
    const child = spawn('redis-server', [
      '--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1',
      '--cluster-enabled', 'yes', '--cluster-config-file', join(dir, `nodes-${port}.conf`),
      '--cluster-node-timeout', '5000', '--dir', dir, '--save', '', '--appendonly', 'no', '--daemonize', 'no',
      // A replica added later syncs at once, not after the default 5 s wait for others.
      '--repl-diskless-sync-delay', '0'
    ], { stdio: 'ignore' })
    child.on('error', () => {})
    return child
  }
  for (let i = 0; i < masters; i++) nodes.push(await launchOnFreePorts(launch))
  await run('redis-cli', ['--cluster', 'create', ...nodes.map((node) => `127.0.0.1:${node.port}`), '--cluster-replicas', '0', '--cluster-yes'])
  await Promise.all(nodes.map((node) => untilClusterOk(node.port)))

  const admin = (port: number): Redis => {
    let redis = admins.get(port)
    if (redis === undefined) {
      redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 })
      redis.on('error', () => {})
      admins.set(port, redis)
    }
    return redis
  }
  const any = admin(nodes[0].port)
  const ownerOfSlot = async (slot: number): Promise<number> => {
    const ranges = await any.cluster('SLOTS') as unknown as Array<[number, number, [string, number]]>
    const range = ranges.find(([from, to]) => slot >= from && slot <= to)
    if (range === undefined) throw new Error(`slot ${slot} has no owner`)
    return range[2][1]
  }
  return {
    nodes,
    startupNodes: nodes.map((node) => ({ host: '127.0.0.1', port: node.port })),
    admin,
    async ownerOf (key) {
      return ownerOfSlot(await any.cluster('KEYSLOT', key) as number)
    },
    async restart (port) {
      const node = nodes.find((candidate) => candidate.port === port)!
      await stop(node.process, 'SIGKILL')
      node.process = launch(node.port, node.busPort)
      await untilUp(port)
      await Promise.all(nodes.map((each) => untilClusterOk(each.port)))
    },
    async addReplica (master) {
      const node = await launchOnFreePorts(launch)
      nodes.push(node)
      const id = await admin(master).cluster('MYID') as string
      // What `redis-cli --cluster add-node --cluster-slave` does, without its one-second sleeps.
      const busPort = nodes.find((each) => each.port === master)!.busPort
      await admin(node.port).call('CLUSTER', 'MEET', '127.0.0.1', master, busPort)
      await until(`the new node ${node.port} to know its master`, async () => (await admin(node.port).cluster('NODES') as string).includes(id))
      await admin(node.port).cluster('REPLICATE', id)
      await until(`the replica on ${node.port} in sync`, async () => (await admin(node.port).info('replication')).includes('master_link_status:up'))
      // Every master must know it as a replica of `master`, or none votes for it in a failover.
      const known = async (port: number): Promise<boolean> =>
        (await admin(port).cluster('NODES') as string).split('\n').some((line) => line.includes(`:${node.port}@`) && line.includes(`slave ${id}`))
      await until(`every node to know the replica on ${node.port}`, async () => (await Promise.all(nodes.map(({ port }) => known(port)))).every(Boolean))
      await Promise.all(nodes.map((each) => untilClusterOk(each.port)))
      return node.port
    },
    async failover (replica) {
      await admin(replica).cluster('FAILOVER')
      const owns = async (port: number): Promise<boolean> => {
        const ranges = await admin(port).cluster('SLOTS') as unknown as Array<[number, number, [string, number]]>
        return ranges.some((range) => range[2][1] === replica)
      }
      await until(`every node to see ${replica} as a master`, async () => (await Promise.all(nodes.map(({ port }) => owns(port)))).every(Boolean))
    },
    async moveSlot (slot, to) {
      const from = await ownerOfSlot(slot)
      if (from === to) return
      const [source, target] = [admin(from), admin(to)]
      const idOf = async (redis: Redis): Promise<string> => await redis.cluster('MYID') as string
      const [sourceId, targetId] = await Promise.all([idOf(source), idOf(target)])
      await target.cluster('SETSLOT', slot, 'IMPORTING', sourceId)
      await source.cluster('SETSLOT', slot, 'MIGRATING', targetId)
      for (;;) {
        const keys = await source.cluster('GETKEYSINSLOT', slot, 100) as string[]
        if (keys.length === 0) break
        await source.migrate('127.0.0.1', to, '', 0, 5000, 'KEYS', ...keys)
      }
      // The new owner first, then the old one (which then drops its shard channels of the slot), then the rest.
      await target.cluster('SETSLOT', slot, 'NODE', targetId)
      await source.cluster('SETSLOT', slot, 'NODE', targetId)
      for (const node of nodes) {
        if (node.port !== from && node.port !== to) await admin(node.port).cluster('SETSLOT', slot, 'NODE', targetId)
      }
    }
  }
}

/** A port found free may be taken again before redis-server binds it (by any outgoing connection): then new ports. */
async function launchOnFreePorts (launch: (port: number, busPort: number) => ChildProcess): Promise<ClusterNode> {
  for (let attempt = 1; ; attempt++) {
    const [port, busPort] = [await freePort(), await freePort()]
    const child = launch(port, busPort)
    const exited = new Promise<boolean>((resolve) => child.once('exit', () => resolve(false)))
    if (await Promise.race([untilUp(port).then(() => true, () => false), exited])) return { port, busPort, process: child }
    await stop(child, 'SIGKILL')
    if (attempt === 5) throw new Error('redis-server would not start')
  }
}

async function untilUp (port: number): Promise<void> {
  await until(`redis-server on ${port}`, async () => (await run('redis-cli', ['-p', String(port), 'PING'])).stdout.trim() === 'PONG')
}

async function untilClusterOk (port: number): Promise<void> {
  await until(`cluster_state:ok on ${port}`, async () => (await run('redis-cli', ['-p', String(port), 'CLUSTER', 'INFO'])).stdout.includes('cluster_state:ok'))
}

async function until (what: string, check: () => Promise<boolean>, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!await check().catch(() => false)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

async function stop (child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill(signal)
  await exited
}
