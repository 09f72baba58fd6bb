import { Cron } from "croner";

/**
 * Cron triggers for the self-hosted data plane: Miniflare runs a Worker's `scheduled` handler only when asked,
 * so the data plane asks on the schedules wrangler.toml declares (`[triggers] crons`), in UTC as Cloudflare does.
 * A run that is still going when its next time comes is not started twice (croner's `protect`).
 */
export type CronSchedule = { cron: string; nextRun: () => Date | null; stop: () => void };

export function scheduleCrons(crons: readonly string[], fire: (cron: string, scheduledTime: Date) => Promise<void>): CronSchedule[] {
  return crons.map((expression) => {
    const job = new Cron(expression, { timezone: "UTC", protect: true }, async () => {
      try {
        await fire(expression, new Date());
      } catch (error) {
        console.error(`switchyard: scheduled run "${expression}" failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    });
    return { cron: expression, nextRun: () => job.nextRun(), stop: () => job.stop() };
  });
}
