import type * as z from "zod";

/**
 * A record type stored as one D1 row: which column holds each field, which fields are JSON, and the schema every
 * row read back is checked against. Shared by the tables whose records are read and written whole (batches,
 * fine-tuning jobs), so the column mapping of a record lives in one place.
 */
export class D1RecordTable<S extends z.ZodObject> {
  readonly #table: string;
  readonly #columns: Record<keyof z.infer<S>, string>;
  readonly #json: ReadonlySet<keyof z.infer<S>>;
  readonly #booleans: ReadonlySet<keyof z.infer<S>>;
  readonly #schema: S;

  constructor(init: { table: string; schema: S; columns: Record<keyof z.infer<S>, string>; json?: (keyof z.infer<S>)[]; booleans?: (keyof z.infer<S>)[] }) {
    this.#table = init.table;
    this.#schema = init.schema;
    this.#columns = init.columns;
    this.#json = new Set(init.json ?? []);
    this.#booleans = new Set(init.booleans ?? []);
  }

  column(field: keyof z.infer<S>): string {
    return this.#columns[field];
  }

  /** A field's value as its column stores it. */
  value(field: keyof z.infer<S>, value: unknown): unknown {
    if (this.#json.has(field)) return value === null || value === undefined ? null : JSON.stringify(value);
    if (this.#booleans.has(field)) return value ? 1 : 0;
    return value ?? null;
  }

  /** A row read back, as the record (checked against the schema). */
  recordOf(row: Record<string, unknown>): z.infer<S> {
    const out: Record<string, unknown> = {};
    for (const [field, column] of Object.entries(this.#columns) as [keyof z.infer<S> & string, string][]) {
      const value = row[column] ?? null;
      out[field] = this.#json.has(field) && typeof value === "string" ? JSON.parse(value) : this.#booleans.has(field) ? value === 1 : value;
    }
    return this.#schema.parse(out);
  }

  insert(db: D1Database, record: z.infer<S>): D1PreparedStatement {
    const fields = Object.keys(this.#columns) as (keyof z.infer<S>)[];
    return db
      .prepare(`INSERT INTO ${this.#table} (${fields.map((f) => this.#columns[f]).join(", ")}) VALUES (${fields.map(() => "?").join(", ")})`)
      .bind(...fields.map((f) => this.value(f, record[f])));
  }

  /** `col = ?, …` and its values for a partial record. */
  assignments(patch: Partial<z.infer<S>>): { sql: string[]; values: unknown[] } {
    const entries = Object.entries(patch) as [keyof z.infer<S>, unknown][];
    return { sql: entries.map(([field]) => `${this.#columns[field]} = ?`), values: entries.map(([field, value]) => this.value(field, value)) };
  }
}
