/**
 * Anything with `query(text, params)` answering `{ rows }`: a PGlite database, a `pg` Pool or Client. The one
 * SQL driver type every PostgreSQL store takes: structural, so neither `pg` nor PGlite is imported.
 */
export interface SqlDatabase {
  // `any`: PGlite and pg type their rows differently, and each row is read through `fromRow` anyway.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  query(text: string, params?: any[]): Promise<{ rows: any[] }>;
}

const TABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,47}$/;

/**
 * A table name the PostgreSQL stores accept: letters, digits and `_`, at most 48 (room for the `_files`
 * and `_migrations` tables beside it within PostgreSQL's 63). Throws a `TypeError` naming `who` otherwise.
 */
export function checkTableName(table: string, who: string): string {
  if (!TABLE_NAME.test(table)) {
    throw new TypeError(`${who}: \`table\` must be letters, digits and _ (at most 48).`);
  }
  return table;
}
