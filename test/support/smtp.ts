/**
 * A real SMTP server on 127.0.0.1 (the smtp-server package) that keeps what it receives, so tests
 * read the email the app sent as a person's mail server would have got it.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedEmail {
  /** The envelope's recipients. */
  to: string[];
  from: string;
  subject: string;
  headers: Record<string, string>;
  /** The plain-text body, transfer encoding undone. */
  text: string;
}

export interface SmtpSink {
  url: string;
  messages: ReceivedEmail[];
  /** Waits until a message matching `match` has arrived (the app may hand it over after answering). */
  waitFor(match: (message: ReceivedEmail) => boolean, what?: string): Promise<ReceivedEmail>;
  close(): Promise<void>;
}

function decodeQuotedPrintable(text: string): string {
  const joined = text.replace(/=\r?\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < joined.length; i++) {
    const hex = joined[i] === '=' ? joined.slice(i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(joined[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** RFC 2047 encoded words in headers: =?UTF-8?Q?…?= and =?UTF-8?B?…?=. */
function decodeHeader(value: string): string {
  return value
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_all, _charset: string, encoding: string, data: string) =>
      encoding.toUpperCase() === 'B'
        ? Buffer.from(data, 'base64').toString('utf8')
        : decodeQuotedPrintable(data.replace(/_/g, ' ')),
    );
}

/** A single-part plain-text message, as nodemailer sends one: headers, a blank line, the body. */
export function parseMessage(raw: string, envelope: { to: string[]; from: string }): ReceivedEmail {
  const split = raw.search(/\r?\n\r?\n/);
  const head = raw.slice(0, split).replace(/\r?\n[ \t]+/g, ' ');
  const body = raw.slice(split).replace(/^\r?\n\r?\n/, '');
  const headers: Record<string, string> = {};
  for (const line of head.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const encoding = (headers['content-transfer-encoding'] ?? '7bit').toLowerCase();
  const text =
    encoding === 'quoted-printable'
      ? decodeQuotedPrintable(body)
      : encoding === 'base64'
        ? Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8')
        : body;
  return {
    ...envelope,
    subject: decodeHeader(headers.subject ?? ''),
    headers,
    text: text.replace(/\r\n/g, '\n'),
  };
}

export async function startSmtpSink(
  options: { refuse?: (address: string) => boolean } = {},
): Promise<SmtpSink> {
  const messages: ReceivedEmail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (options.refuse?.(address.address)) {
        const error = Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 });
        return callback(error);
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        messages.push(
          parseMessage(Buffer.concat(chunks).toString('utf8'), {
            to: session.envelope.rcptTo.map((r) => r.address),
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          }),
        );
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    async waitFor(match, what = 'the expected email') {
      for (let i = 0; i < 500; i++) {
        const found = messages.find(match);
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`The SMTP server did not receive ${what}`);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The first link in a message's text that goes to `path` (e.g. "/invitations/"). */
export function linkIn(message: ReceivedEmail, path: string): URL {
  const match = new RegExp(`https?://\\S+${path.replace(/\//g, '\\/')}[\\w-]+`).exec(message.text);
  if (!match) throw new Error(`No ${path} link in:\n${message.text}`);
  return new URL(match[0]);
}
