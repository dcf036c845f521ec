import type { UpstreamContext } from '../vendor/upstream';
import type { RecordForward, RecordOperations } from '../records/records';

/** One request as a route handler gets it, once the dispatcher has let it through. */
export interface RouteRequest {
  request: Request;
  url: URL;
  /** The request's upstream budget and signal. */
  context: UpstreamContext;
  /** Whom `authorize` named (`SHARED_SPACE` for `true`). */
  userId: string;
  /** A real user: only their own records, never the account-wide answers. */
  scoped: boolean;
  /** The record operations, unless the proxy keeps no records (`store: false`). */
  records: RecordOperations | undefined;
  /** The request's vendor calls, for the record operations. */
  forward: RecordForward;
}
