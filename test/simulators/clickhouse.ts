import { readFileSync } from "node:fs";
import { Hono } from "hono";

/**
 * A ClickHouse HTTP interface as far as Switchyard's export uses it, to test against without a ClickHouse server
 * (Debian ships only an 18.x build, older than the DateTime64 and Map types the table uses). It checks what a
 * real server would refuse: POST only; the query (URL `query` parameter, else the body's first line) must be
 * `INSERT INTO <table> FORMAT JSONEachRow` for the table of docs/clickhouse.sql; the X-ClickHouse-User /
 * X-ClickHouse-Key credentials; every line a JSON object whose fields are columns of that table (unknown ones are
 * error 117, as with input_format_skip_unknown_fields=0) with values its type accepts (error 27). Errors come
 * as ClickHouse sends them: `Code: N. DB::Exception: …` with X-ClickHouse-Exception-Code.
 */

type Column = { name: string; type: string };

/** The columns of the documented table (docs/clickhouse.sql), read from the DDL itself. */
export function documentedColumns(ddlPath = new URL("../../docs/clickhouse.sql", import.meta.url)): { table: string; columns: Column[] } {
  const ddl = readFileSync(ddlPath, "utf8").replace(/--.*$/gm, "");
  const table = /CREATE TABLE IF NOT EXISTS (\w+)/.exec(ddl)?.[1];
  const body = /\(\s*([\s\S]*?)\)\s*ENGINE/.exec(ddl)?.[1];
  if (!table || !body) throw new Error("docs/clickhouse.sql: no CREATE TABLE");
  const columns = body
    .split(/,\s*\n/)
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const at = line.indexOf(" ");
      return { name: line.slice(0, at), type: line.slice(at + 1).trim() };
    });
  return { table, columns };
}

/** Whether a JSONEachRow value parses into a column of this type. */
function accepts(type: string, value: unknown): boolean {
  const nullable = /^Nullable\((.*)\)$/.exec(type);
  if (nullable) return value === null || accepts(nullable[1]!, value);
  const lowCardinality = /^LowCardinality\((.*)\)$/.exec(type);
  if (lowCardinality) return accepts(lowCardinality[1]!, value);
  if (type === "String") return typeof value === "string";
  if (/^UInt(8|16|32|64)$/.test(type)) return typeof value === "number" && Number.isInteger(value) && value >= 0 && value < 2 ** Number(type.slice(4));
  if (type === "Float64") return typeof value === "number";
  if (type.startsWith("DateTime64")) return typeof value === "string" && /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/.test(value);
  if (type === "Map(String, String)") return typeof value === "object" && value !== null && !Array.isArray(value) && Object.values(value).every((v) => typeof v === "string");
  return false;
}

export type ClickHouseInsert = { table: string; user: string | undefined; key: string | undefined; rows: Record<string, unknown>[] };

export class ClickHouseBook {
  readonly inserts: ClickHouseInsert[] = [];
  /** Workspaces whose next insert fails (a 500 as ClickHouse answers under memory pressure), and how often. */
  readonly failures = new Map<string, number>();
}

const exception = (status: number, code: number, message: string) =>
  new Response(`Code: ${code}. DB::Exception: ${message}. (${code === 516 ? "AUTHENTICATION_FAILED" : code === 60 ? "UNKNOWN_TABLE" : code === 117 ? "INCORRECT_DATA" : code === 27 ? "CANNOT_PARSE_INPUT_ASSERTION_FAILED" : "UNKNOWN"})\n`, {
    status,
    headers: { "content-type": "text/plain; charset=UTF-8", "x-clickhouse-exception-code": String(code) },
  });

export function clickhouseSimulator(book: ClickHouseBook, credentials: { user: string; password: string }): Hono {
  const { table, columns } = documentedColumns();
  const types = new Map(columns.map((c) => [c.name, c.type]));
  const app = new Hono();
  app.all("/*", async (c) => {
    if (c.req.method !== "POST") return exception(400, 62, "Syntax error: this simulator only takes POSTed INSERTs");
    let body = await c.req.text();
    let query = c.req.query("query");
    if (query === undefined) {
      const newline = body.indexOf("\n");
      query = newline === -1 ? body : body.slice(0, newline);
      body = newline === -1 ? "" : body.slice(newline + 1);
    }
    const user = c.req.header("x-clickhouse-user");
    const key = c.req.header("x-clickhouse-key");
    if (user !== credentials.user || key !== credentials.password) return exception(403, 516, `${user ?? "default"}: Authentication failed: password is incorrect, or there is no user with such name`);
    const insert = /^INSERT INTO (\w+(?:\.\w+)?) FORMAT JSONEachRow\s*$/i.exec(query.trim());
    if (!insert) return exception(400, 62, `Syntax error: expected INSERT INTO <table> FORMAT JSONEachRow, got: ${query.slice(0, 100)}`);
    if (insert[1]!.split(".").at(-1) !== table) return exception(404, 60, `Table default.${insert[1]} does not exist`);
    const rows: Record<string, unknown>[] = [];
    for (const [index, line] of body.split("\n").entries()) {
      if (line.trim() === "") continue;
      let row: unknown;
      try {
        row = JSON.parse(line);
      } catch {
        return exception(400, 117, `Cannot parse JSON object here: ${line.slice(0, 50)}: (at row ${index + 1})`);
      }
      if (typeof row !== "object" || row === null || Array.isArray(row)) return exception(400, 117, `Cannot parse JSON object at row ${index + 1}`);
      for (const [name, value] of Object.entries(row)) {
        const type = types.get(name);
        if (type === undefined) return exception(400, 117, `Unknown field found while parsing JSONEachRow format: ${name}: (at row ${index + 1})`);
        if (!accepts(type, value)) return exception(400, 27, `Cannot parse input: value ${JSON.stringify(value).slice(0, 40)} of column ${name} is not ${type}: (at row ${index + 1})`);
      }
      rows.push(row as Record<string, unknown>);
    }
    for (const row of rows) {
      const workspace = String(row.workspace_id);
      const left = book.failures.get(workspace) ?? 0;
      if (left > 0) {
        book.failures.set(workspace, left - 1);
        return exception(500, 241, "Memory limit (total) exceeded: simulated failure");
      }
    }
    book.inserts.push({ table: insert[1]!, user, key, rows });
    return c.body(null, 200, { "x-clickhouse-summary": JSON.stringify({ written_rows: String(rows.length) }) });
  });
  return app;
}
