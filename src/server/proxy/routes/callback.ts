import { fail, succeed, type Reply } from '../../http/reply';
import type { ProxyWiring } from '../wiring';

/** `POST …/callbacks/{token}`: the vendor's callback. No user: the sealed token is the check. */
export async function taskCallback(
  push: NonNullable<ProxyWiring['push']>,
  request: Request,
  token: string,
): Promise<Reply> {
  const answer = await push.callback(request, token);
  if (answer.code !== 0) return fail(answer.status, answer.code, answer.message);
  return succeed(null, undefined, answer.message);
}
