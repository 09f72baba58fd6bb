/** Gemini's function parameters and response schemas take an OpenAPI subset of JSON Schema. */

const SCHEMA_KEYS = new Set(["type", "format", "title", "description", "nullable", "enum", "maxItems", "minItems", "properties", "required", "minProperties", "maxProperties", "minLength", "maxLength", "pattern", "example", "anyOf", "propertyOrdering", "default", "items", "minimum", "maximum"]);

/**
 * JSON Schema → Gemini's Schema (an OpenAPI subset): keywords it rejects (`additionalProperties`, `$schema`,
 * `strict`…) are dropped, `const` becomes a one-value enum and `["string", "null"]` becomes `nullable`.
 */
export function toGeminiSchema(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(toGeminiSchema);
  if (typeof schema !== "object" || schema === null) return schema;
  const out: Record<string, unknown> = {};
  const entries: [string, unknown][] = Object.entries(schema);
  for (const [key, value] of entries) {
    if (key === "const") out.enum = [value];
    else if (key === "type" && Array.isArray(value)) {
      const types = value.filter((t) => t !== "null");
      if (types.length < value.length) out.nullable = true;
      if (types[0] !== undefined) out.type = types[0];
    } else if (key === "properties" && typeof value === "object" && value !== null) {
      const properties: [string, unknown][] = Object.entries(value);
      out.properties = Object.fromEntries(properties.map(([name, definition]) => [name, toGeminiSchema(definition)]));
    } else if (SCHEMA_KEYS.has(key)) out[key] = key === "items" || key === "anyOf" ? toGeminiSchema(value) : value;
  }
  return out;
}

export const hasProperties = (schema: Record<string, unknown>) => typeof schema.properties === "object" && schema.properties !== null && Object.keys(schema.properties).length > 0;
