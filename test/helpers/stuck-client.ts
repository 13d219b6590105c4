import { spawn, type ChildProcess } from 'node:child_process'

// A client that sends its request and never reads, with a tiny receive buffer (Node cannot set
// SO_RCVBUF on a TCP socket, Python can): the server's socket fills after a few KB instead of the
// megabytes the kernel would otherwise buffer for it. It exits by itself after `lifetimeSeconds`.
const script = `
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(("GET " + sys.argv[2] + " HTTP/1.1\\r\\nHost: 127.0.0.1\\r\\nAccept: text/event-stream\\r\\n\\r\\n").encode())
print("sent", flush=True)
time.sleep(float(sys.argv[3]))
`

export async function stuckClient (url: string, path: string, lifetimeSeconds = 60): Promise<ChildProcess> {
  const child = spawn('python3', ['-c', script, new URL(url).port, path, String(lifetimeSeconds)], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise<void>((resolve, reject) => {
    child.once('error', reject)
    child.stdout!.once('data', () => resolve())
  })
  return child
}
