import docs from "../../docs/clickhouse.sql?raw";

/** The column names of the documented ClickHouse table (docs/clickhouse.sql). */
export function documentedColumnNames(): string[] {
  const body = /\(\s*([\s\S]*?)\)\s*ENGINE/.exec(docs.replace(/--.*$/gm, ""))?.[1] ?? "";
  return body.split(/,\s*\n/).map((line) => line.trim().split(" ")[0]!).filter(Boolean);
}
