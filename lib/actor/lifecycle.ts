// A stream's lifecycle. Each phase lists the phases it may move to; anything else is a bug in the
// plugin, caught at once rather than left to corrupt a stream.

export type Phase = 'opening' | 'open' | 'closing' | 'closed'

const allowed: Record<Phase, readonly Phase[]> = {
  opening: ['open', 'closing'],
  open: ['closing'],
  closing: ['closed'],
  closed: []
}

export class IllegalTransitionError extends Error {
  readonly code = 'SSE_ERR_ILLEGAL_TRANSITION'
  constructor (from: Phase, to: Phase) {
    super(`A stream cannot go from ${from} to ${to}`)
  }
}

export function nextPhase (from: Phase, to: Phase): Phase {
  if (!allowed[from].includes(to)) throw new IllegalTransitionError(from, to)
  return to
}
