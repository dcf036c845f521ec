/**
 * HTTP/1.1 spoken byte for byte over TCP on loopback, so no client normalises the method, the target or
 * the Host first, and a test can stall, trickle or drop a connection for real.
 */
import { connect, type Socket } from 'node:net';

export interface RawAnswer {
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: string;
}

/** Parses one answer (the first) from what a server wrote; `undefined` while its head is incomplete. */
export function parseAnswer(data: string): RawAnswer | undefined {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = data.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const rest = data.slice(end + 4);
  const length = Number(headers['content-length']);
  return {
    status: Number(statusLine.split(' ')[1]),
    headers,
    body: Number.isFinite(length) ? Buffer.from(rest).subarray(0, length).toString('utf8') : rest,
  };
}

/** An open connection: what the server wrote so far, and whether it has closed. */
export interface RawConnection {
  socket: Socket;
  data: () => string;
  closed: Promise<void>;
  isClosed: () => boolean;
}

export function open(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let isClosed = false;
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (data += chunk));
    const closed = new Promise<void>((done) =>
      socket.on('close', () => {
        isClosed = true;
        done();
      }),
    );
    socket.on('error', () => {});
    socket.once('connect', () =>
      resolve({
        socket,
        data: () => Buffer.from(data, 'latin1').toString('utf8'),
        closed,
        isClosed: () => isClosed,
      }),
    );
    socket.once('error', reject);
  });
}

/** Sends `text` on a new connection and waits until the server closes it (send `Connection: close`). */
export async function exchange(port: number, text: string | Buffer): Promise<RawAnswer> {
  const connection = await open(port);
  connection.socket.write(text);
  await connection.closed;
  const answer = parseAnswer(connection.data());
  if (!answer) throw new Error(`no answer: ${JSON.stringify(connection.data().slice(0, 200))}`);
  return answer;
}
