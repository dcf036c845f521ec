/**
 * Anything with `query(text, params)` answering `{ rows }`: a PGlite database, a `pg` Pool or Client. The one
 * SQL driver type every PostgreSQL store takes: structural, so neither `pg` nor PGlite is imported.
 */
export interface SqlDatabase {
  // `any`: PGlite and pg type their rows differently, and each row is read through `fromRow` anyway.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query(text: string, params?: any[]): Promise<{ rows: any[] }>;
}
