import type { Socket } from 'node:net'

// Writes made in the same tick to one socket leave in one syscall: the first write of a tick corks
// the socket and one shared nextTick uncorks every socket corked meanwhile.
let corked: Socket[] = []

function uncorkAll (): void {
  const sockets = corked
  corked = []
  for (const socket of sockets) socket.uncork()
}

export function corkForThisTick (socket: Socket): void {
  if (corked.length === 0) process.nextTick(uncorkAll)
  socket.cork()
  corked.push(socket)
}
