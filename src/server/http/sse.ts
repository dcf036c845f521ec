/** Server-Sent Events: the `text/event-stream` encoding. */

/** One event in the `text/event-stream` format: `event`, `id`, then one `data:` line per line. */
export function encodeServerSentEvent({
  event,
  id,
  data,
  retry,
}: {
  event?: string;
  id?: string;
  data: string;
  retry?: number;
}): string {
  let text = event ? `event: ${event}\n` : '';
  // An id with a line break would end the field early and be read as something else.
  if (id !== undefined) text += `id: ${id.replace(/[\r\n\0]/g, '')}\n`;
  if (retry !== undefined) text += `retry: ${retry}\n`;
  for (const line of data.split(/\r\n|\r|\n/)) text += `data: ${line}\n`;
  return `${text}\n`;
}

/** A comment: keeps proxies and load balancers from closing an idle stream, and tells the client it lives. */
export const HEARTBEAT = ': heartbeat\n\n';
