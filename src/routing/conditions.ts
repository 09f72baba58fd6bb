import type { Condition, Rule } from "./schema";

/** The request facts a conditional route may look at. */
export type RoutingFacts = {
  /** The model string the client sent. */
  model: string;
  /** A request header by lower-case name. */
  header: (name: string) => string | undefined;
  metadata: Record<string, string>;
  promptTokens: number;
};

function valueOf(field: string, facts: RoutingFacts): string | number | undefined {
  if (field === "model") return facts.model;
  if (field === "promptTokens") return facts.promptTokens;
  if (field.startsWith("header.")) return facts.header(field.slice(7).toLowerCase());
  if (field.startsWith("metadata.")) return facts.metadata[field.slice(9)];
  return undefined;
}

const same = (value: string | number, expected: string | number | boolean) => String(value) === String(expected);

/** Numeric comparisons read numeric strings too (headers and metadata are strings). */
const numeric = (value: string | number): number | undefined => {
  const n = typeof value === "number" ? value : value.trim() === "" ? Number.NaN : Number(value);
  return Number.isFinite(n) ? n : undefined;
};

/** Every operator present in the condition must hold; a missing field only satisfies `exists: false`. */
export function conditionHolds(condition: Condition, facts: RoutingFacts): boolean {
  const value = valueOf(condition.field, facts);
  if (condition.exists !== undefined && condition.exists !== (value !== undefined)) return false;
  if (value === undefined) return condition.exists === false;
  if (condition.equals !== undefined && !same(value, condition.equals)) return false;
  if (condition.notEquals !== undefined && same(value, condition.notEquals)) return false;
  if (condition.in !== undefined && !condition.in.some((candidate) => same(value, candidate))) return false;
  if (condition.matches !== undefined && !new RegExp(condition.matches).test(String(value))) return false;
  const bounds: [number | undefined, (n: number, bound: number) => boolean][] = [
    [condition.gt, (n, b) => n > b],
    [condition.gte, (n, b) => n >= b],
    [condition.lt, (n, b) => n < b],
    [condition.lte, (n, b) => n <= b],
  ];
  for (const [bound, test] of bounds) {
    if (bound === undefined) continue;
    const n = numeric(value);
    if (n === undefined || !test(n, bound)) return false;
  }
  return true;
}

export function ruleMatches(rule: Rule, facts: RoutingFacts): boolean {
  const conditions = Array.isArray(rule.when) ? rule.when : [rule.when];
  return conditions.every((condition) => conditionHolds(condition, facts));
}
