import type { matchFilePath } from '../../http/files';
import { fail, type Reply } from '../../http/reply';
import { tooManyRequests } from '../rateLimit';
import type { ProxyWiring } from '../wiring';

/** `GET`/`HEAD {basePath}/files/…`: one of the asking user's kept files, else 404. */
export async function keptFile(
  proxy: ProxyWiring,
  request: Request,
  file: ReturnType<typeof matchFilePath>,
): Promise<Response | Reply> {
  if (!file) return fail(404, 1203, 'Not found.');
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return fail(405, 1202, 'Method not allowed: use GET, HEAD.', { allow: 'GET, HEAD' });
  }
  const userId = await proxy.identify(request);
  if (userId === undefined) return fail(401, 1000, 'Not authorized.');
  // Under the same limit as the vendor routes: each request may read from the store.
  const wait = proxy.limit ? await proxy.limit(request) : 0;
  if (wait) return tooManyRequests(wait);
  return proxy.keeping!.serve(request, userId, file);
}
