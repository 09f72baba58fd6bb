/**
 * The operator's lists of names in `[vars]` (PROVIDER_SECRETS, WORKSPACE_ENV_SECRETS, ALLOW_PRIVATE_UPSTREAMS):
 * names separated by commas or white space, each an exact name, a prefix ending in `*`, or `*` alone for all.
 */
export type NamePattern = { exact: string } | { prefix: string };

export function namePatterns(list: string): NamePattern[] {
  return list
    .split(/[\s,]+/)
    .filter((token) => token !== "")
    .map((token) => (token.endsWith("*") ? { prefix: token.slice(0, -1) } : { exact: token }));
}

export const matchesPattern = (pattern: NamePattern, name: string): boolean => ("exact" in pattern ? name === pattern.exact : name.startsWith(pattern.prefix));

export const matchesAny = (patterns: readonly NamePattern[], name: string): boolean => patterns.some((pattern) => matchesPattern(pattern, name));
