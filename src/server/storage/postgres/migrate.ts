/**
 * The one migration runner of the PostgreSQL stores (tasks, kept files, events): numbered steps, applied
 * in order, each once, recorded in `{table}_migrations`. A step is never edited once released: a change
 * is a new step appended at the end.
 */
import type { SqlDatabase } from '../../core/sql';

/** One step: PL/pgSQL statements (each ending in `;`), given the table name. */
export type MigrationStep = (table: string) => string;

/** The steps still due, as one statement: run under a lock, so two instances starting at once take turns. */
export function migrationScript(table: string, steps: readonly MigrationStep[]): string {
  const due = steps
    .map(
      (step, index) => `
    IF NOT EXISTS (SELECT 1 FROM ${table}_migrations WHERE version = ${index + 1}) THEN
      ${step(table)}
      INSERT INTO ${table}_migrations (version, applied_at) VALUES (${index + 1}, now());
    END IF;`,
    )
    .join('');
  // One DO block is one statement, so one transaction on whichever connection of a pool runs it; the
  // transaction-scoped advisory lock ends with it.
  return `DO $migrate$ BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('react-kling-audio:${table}'));
    CREATE TABLE IF NOT EXISTS ${table}_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL);
    ${due}
  END $migrate$;`;
}

/**
 * `ready()`: resolves once `steps` have run on `db` for `table`. The first call migrates; a failed run is
 * tried again by the next call (the database may have been starting up).
 */
export function createMigrator(
  db: SqlDatabase,
  table: string,
  steps: readonly MigrationStep[],
): () => Promise<void> {
  let migrated: Promise<void> | undefined;
  return () =>
    (migrated ??= db.query(migrationScript(table, steps)).then(
      () => {},
      (error: unknown) => {
        migrated = undefined;
        throw error;
      },
    ));
}
