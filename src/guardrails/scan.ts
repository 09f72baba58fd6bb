import type { ScanBudget } from "./deny";
import type { CompiledRule } from "./compile";

/**
 * Finding the matches of a list of rules in one text. Detectors without a digit to look at are skipped after
 * one test for a digit; each detector's own prefilter (an `@`, a key prefix) skips the rest.
 */

export type Hit = { start: number; end: number; rule: CompiledRule; placeholder: string };

const DIGIT = /\d/;

/** Every rule's matches in `text`; where matches overlap, the most severe rule's (then the longest) is kept. */
export function findHits(text: string, rules: readonly CompiledRule[], budget: ScanBudget): Hit[] {
  let hasDigit: boolean | undefined;
  const hits: Hit[] = [];
  for (const rule of rules) {
    for (const { matcher, placeholder, needsDigit, costPerChar } of rule.matchers) {
      if (needsDigit && !(hasDigit ??= DIGIT.test(text))) continue;
      if (costPerChar > 0) budget.spend(rule.name, costPerChar * text.length);
      for (const span of matcher.find(text)) hits.push({ start: span.start, end: span.end, rule, placeholder });
    }
  }
  return hits.length < 2 ? hits : withoutOverlaps(hits);
}

function withoutOverlaps(hits: Hit[]): Hit[] {
  const ranked = [...hits].sort((a, b) => b.rule.severity - a.rule.severity || b.end - b.start - (a.end - a.start) || a.start - b.start);
  const kept: Hit[] = [];
  for (const hit of ranked) if (!kept.some((k) => hit.start < k.end && k.start < hit.end)) kept.push(hit);
  return kept.sort((a, b) => a.start - b.start);
}
