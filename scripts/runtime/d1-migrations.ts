import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Miniflare } from "miniflare";
import { unstable_splitSqlQuery } from "wrangler";

export type D1DatabaseConfig = { binding: string; migrations_dir?: string; migrations_table?: string };

/**
 * Applies the pending `.sql` migrations of every D1 database, in file-name order, recording each in the
 * same table `wrangler d1 migrations apply --local` uses (`d1_migrations` unless the config names another), so
 * either tool can pick up where the other left off on the same data directory.
 */
export async function applyD1Migrations(mf: Miniflare, databases: readonly D1DatabaseConfig[], projectRoot: string): Promise<string[]> {
  const applied: string[] = [];
  for (const database of databases) {
    const dir = resolve(projectRoot, database.migrations_dir ?? "migrations");
    if (!existsSync(dir)) continue;
    const table = database.migrations_table ?? "d1_migrations";
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(table)) throw new Error(`D1 ${database.binding}: invalid migrations_table "${table}"`);
    const db = await mf.getD1Database(database.binding);
    await db
      .prepare(`CREATE TABLE IF NOT EXISTS ${table} (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)`)
      .run();
    const rows = (await db.prepare(`SELECT name FROM ${table}`).all()).results as { name: string }[];
    const done = new Set(rows.map((row) => row.name));
    const files = readdirSync(dir).filter((name) => name.endsWith(".sql")).sort();
    for (const name of files) {
      if (done.has(name)) continue;
      const statements = unstable_splitSqlQuery(readFileSync(join(dir, name), "utf8")).filter((sql) => sql.trim() !== "");
      // One batch per file: a migration applies completely or not at all.
      await db.batch([...statements.map((sql) => db.prepare(sql)), db.prepare(`INSERT INTO ${table} (name) VALUES (?)`).bind(name)]);
      applied.push(`${database.binding}/${name}`);
    }
  }
  return applied;
}
