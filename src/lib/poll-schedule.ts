/**
 * How work driven from Durable Object alarms (batches, fine-tuning jobs) is paced: each step says what comes next,
 * and polls of a provider's long-running job back off.
 */

/** What a driver does after a step: run the next one after `afterMs`, or stop (the work is final). */
export type DriverStep = { next: "poll"; afterMs: number } | { next: "done" };

/** First status check shortly after submitting; then every poll waits longer, up to POLL_MAX_MS. */
export const POLL_FIRST_MS = 10_000;
export const POLL_MAX_MS = 5 * 60_000;
const POLL_GROWTH = 1.5;

/** The poll after `polls` earlier ones: 10 s, 15 s, 22.5 s, … at most 5 min. */
export const nextPoll = (polls: number): DriverStep => ({ next: "poll", afterMs: Math.min(POLL_MAX_MS, POLL_FIRST_MS * POLL_GROWTH ** polls) });
