/**
 * The status order, once: how far along each vendor status is. A task's state never goes to a lower
 * rank, and `succeed` and `failed` both end it. Schemas, the stores and the SQL (`statusRankSql`) all
 * read this table. Not part of the public surface: the server and the schemas import it by path.
 */

/**
 * Vendor statuses (`succeed` is the vendor's spelling), plus the proxy's own `queued`: the task waits in
 * the proxy's queue and has not reached the vendor yet. Every status but `succeed`/`failed` is pending.
 */
export type AudioTaskStatus = 'queued' | 'submitted' | 'processing' | 'succeed' | 'failed';

export const STATUS_RANK: Readonly<Record<AudioTaskStatus, number>> = {
  // Before anything the vendor says: a task that waited moves on to `submitted` once it is sent.
  queued: -1,
  submitted: 0,
  processing: 1,
  succeed: 2,
  failed: 2,
};

/** A vendor status as the order knows it: an unknown (future) status counts as processing. */
export const toKnownStatus = (status: string): AudioTaskStatus =>
  Object.hasOwn(STATUS_RANK, status) ? (status as AudioTaskStatus) : 'processing';

/** How far along a status is (an unknown one counts as processing). */
export const statusRankOf = (status: string): number => STATUS_RANK[toKnownStatus(status)];

/** The same rank in SQL, generated from `STATUS_RANK`: a `CASE` over `expression` (a column or `$n`). */
export const statusRankSql = (expression: string): string =>
  `CASE ${expression} ${Object.entries(STATUS_RANK)
    .map(([status, rank]) => `WHEN '${status}' THEN ${rank}`)
    .join(' ')} ELSE ${STATUS_RANK.processing} END`;
