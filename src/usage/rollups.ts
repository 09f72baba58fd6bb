import { ROLLUP_STATEMENTS } from "./rollup-sql";

/** The event inserts of one transaction, wrapped so the rollups count exactly the rows they insert (./rollup-sql.ts). */
export function withRollups(db: D1Database, inserts: D1PreparedStatement[]): D1PreparedStatement[] {
  const batchId = crypto.randomUUID();
  const { mark, hourly, daily, unmark } = ROLLUP_STATEMENTS;
  return [db.prepare(mark).bind(batchId), ...inserts, db.prepare(hourly).bind(batchId), db.prepare(daily).bind(batchId), db.prepare(unmark).bind(batchId)];
}
