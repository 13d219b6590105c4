/** Why a stream ended; `terminate` receives it exactly once. */
export type CloseReason = 'client-closed' | 'stopped' | 'shutdown' | 'error' | 'overflow' | 'topic-closed' | 'upstream-closed'
