/**
 * The real PostgreSQL server for database tests: its URL comes from RKA_TEST_POSTGRES_URL, which
 * `scripts/with-postgres.sh` (and so `.ci/run`) sets. Locally without it the suites skip with a message;
 * in CI its absence is an error, so the database tests can never pass by not running.
 */
export const postgresUrl = process.env.RKA_TEST_POSTGRES_URL;

if (!postgresUrl) {
  if (process.env.CI) {
    throw new Error(
      'RKA_TEST_POSTGRES_URL is not set: CI must run the tests through scripts/with-postgres.sh',
    );
  }
  console.warn(
    'PostgreSQL tests skipped: RKA_TEST_POSTGRES_URL is not set (run `bash scripts/with-postgres.sh npm test`).',
  );
}
