import type { Reply } from '../../http/reply';
import type { UpstreamContext } from '../../vendor/upstream';
import type { ProxyWiring } from '../wiring';

/** `POST …/callbacks/{token}`: the vendor's callback. No user: the sealed token is the check. */
export function taskCallback(
  push: NonNullable<ProxyWiring['push']>,
  request: Request,
  token: string,
  context: UpstreamContext,
): Promise<Reply> {
  // The body is read within the request's budget, like a create's.
  return push.callback(request, token, context.deadline);
}
