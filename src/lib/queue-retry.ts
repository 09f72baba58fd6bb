/** Delay before a failed Queue message is redelivered: grows with each attempt, capped (seconds). */
export const retryDelaySeconds = (attempts: number): number => Math.min(60, 2 ** Math.max(0, attempts - 1));
