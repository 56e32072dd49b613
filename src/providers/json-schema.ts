/** The schema without its `$schema` dialect line, which Gemini's and Anthropic's schema fields do not accept. */
export function withoutDialect(schema: Record<string, unknown>): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}
