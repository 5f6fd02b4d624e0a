import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// The e-mail the server sent during the run. end2end/run.sh points the server at an SMTP
// sink on loopback (scripts/smtp-sink.py), which keeps each message as
// $SHIPGATE_E2E_MAILDIR/<seq>.json: {mail_from, rcpt_tos, data (the raw message), received_at}.
// The raw message is read here: headers, multipart (alternative, mixed, related), the
// quoted-printable and base64 transfer encodings, charsets, RFC 2047 encoded words.

export type Mail = {
  /** The decoded Subject header. */
  subject: string;
  /** The text/plain part, decoded ('' when there is none). */
  text: string;
  /** The text/html part, decoded ('' when there is none). */
  html: string;
  /** Every http(s) URL in the text part (in the HTML's hrefs when there is no text part). */
  links: string[];
  /** The envelope: who sent it and to whom. */
  from: string;
  to: string[];
  /** The decoded header values, by lower-case name (the last of repeated ones). */
  headers: Record<string, string>;
  /** The sink's file name and when it arrived (ms since the epoch). */
  file: string;
  receivedAt: number;
};

/** The folder the sink writes to; the tests that read mail need it. */
export function maildir(): string {
  const dir = process.env.SHIPGATE_E2E_MAILDIR;
  if (!dir) throw new Error('SHIPGATE_E2E_MAILDIR is not set: run the browser tests with end2end/run.sh');
  return dir;
}

/** Every message received so far, oldest first. */
export function readMails(): Mail[] {
  const dir = maildir();
  const files = readdirSync(dir).filter((f) => /^\d+\.json$/.test(f)).sort();
  const mails: Mail[] = [];
  for (const file of files) {
    let stored: { mail_from: string; rcpt_tos: string[]; data: string; received_at: number };
    try {
      stored = JSON.parse(readFileSync(join(dir, file), 'utf-8'));
    } catch {
      continue; // written whole (tmp, then renamed), so this is not expected; skip it anyway
    }
    mails.push({
      ...parseMessage(stored.data),
      from: stored.mail_from,
      to: stored.rcpt_tos,
      file,
      receivedAt: stored.received_at * 1000,
    });
  }
  return mails;
}

/**
 * Waits for the first message to `to` (an envelope recipient or an address in To/Cc, any
 * case) whose subject contains `subjectIncludes` ('' takes any) and, if given, that
 * `match` accepts. Polls every 200 ms; throws after `timeoutMs`, listing what came.
 */
export async function waitForMail(
  to: string,
  subjectIncludes: string,
  timeoutMs = 30_000,
  match?: (m: Mail) => boolean,
): Promise<Mail> {
  const deadline = Date.now() + timeoutMs;
  const want = to.trim().toLowerCase();
  for (;;) {
    const mails = readMails();
    const found = mails.find(
      (m) => addressedTo(m, want) && m.subject.includes(subjectIncludes) && (!match || match(m)),
    );
    if (found) return found;
    if (Date.now() >= deadline) {
      const seen = mails.map((m) => `  ${m.file} to ${m.to.join(', ')}: ${JSON.stringify(m.subject)} ${m.links.join(' ')}`);
      throw new Error(
        `no e-mail to ${to} with a subject containing ${JSON.stringify(subjectIncludes)}` +
          `${match ? ' (and the test\'s condition)' : ''} within ${timeoutMs} ms; ` +
          `${mails.length} received:\n${seen.join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function addressedTo(m: Mail, want: string): boolean {
  if (m.to.some((r) => r.trim().toLowerCase() === want)) return true;
  const listed = `${m.headers['to'] ?? ''},${m.headers['cc'] ?? ''}`.toLowerCase();
  return addresses(listed).includes(want);
}

/** The bare addresses in an address list (`Name <a@b>, c@d`). */
function addresses(list: string): string[] {
  return [...list.matchAll(/<([^<>\s]+@[^<>\s]+)>|([^\s<>,;:"]+@[^\s<>,;:"]+)/g)].map((x) => (x[1] ?? x[2]).trim());
}

// ---- parsing ----------------------------------------------------------------------------

type Part = { headers: Record<string, string>; body: string };

/** Subject, text, HTML and links of a raw RFC 5322 message. */
export function parseMessage(raw: string): Omit<Mail, 'from' | 'to' | 'file' | 'receivedAt'> {
  const top = splitPart(raw.replace(/\r\n/g, '\n'));
  const leaves: Part[] = [];
  collect(top, leaves, 0);
  const isAttachment = (p: Part) => /^\s*attachment/i.test(p.headers['content-disposition'] ?? '');
  const ofType = (t: string) => leaves.find((p) => contentType(p).type === t && !isAttachment(p));
  const textPart = ofType('text/plain');
  const htmlPart = ofType('text/html');
  const text = textPart ? decodeBody(textPart) : '';
  const html = htmlPart ? decodeBody(htmlPart) : '';
  const links = textPart ? urlsIn(text) : urlsIn(hrefsIn(html).join('\n'));
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(top.headers)) headers[k] = decodeWords(v);
  return { subject: headers['subject'] ?? '', text, html, links, headers };
}

function splitPart(s: string): Part {
  // Headers end at the first empty line; a part without headers starts with it.
  const end = s.startsWith('\n') ? 0 : s.indexOf('\n\n');
  const head = end < 0 ? s : s.slice(0, end);
  const body = end < 0 ? '' : s.slice(end === 0 ? 1 : end + 2);
  const headers: Record<string, string> = {};
  // Unfold: a line starting with white space continues the one before.
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body };
}

function contentType(p: Part): { type: string; params: Record<string, string> } {
  const value = p.headers['content-type'] ?? 'text/plain; charset=us-ascii';
  const [type, ...rest] = splitParams(value);
  const params: Record<string, string> = {};
  for (const kv of rest) {
    const eq = kv.indexOf('=');
    if (eq < 0) continue;
    let v = kv.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    params[kv.slice(0, eq).trim().toLowerCase()] = v;
  }
  return { type: type.trim().toLowerCase(), params };
}

/** Splits at semicolons outside quotes. */
function splitParams(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '\\' && quoted) { cur += c + (value[i + 1] ?? ''); i++; continue; }
    if (c === '"') quoted = !quoted;
    if (c === ';' && !quoted) { out.push(cur); cur = ''; continue; }
    cur += c;
  }
  out.push(cur);
  return out;
}

function collect(p: Part, leaves: Part[], depth: number) {
  const { type, params } = contentType(p);
  if (!type.startsWith('multipart/') || !params.boundary || depth > 10) {
    leaves.push(p);
    return;
  }
  const delimiter = `--${params.boundary}`;
  const lines = p.body.split('\n');
  let current: string[] | null = null;
  for (const line of lines) {
    const trimmed = line.replace(/[ \t]+$/, '');
    if (trimmed === `${delimiter}--`) break;
    if (trimmed === delimiter) {
      if (current) collect(splitPart(current.join('\n')), leaves, depth + 1);
      current = [];
      continue;
    }
    if (current) current.push(line); // before the first delimiter: the preamble
  }
  if (current) collect(splitPart(current.join('\n')), leaves, depth + 1);
}

/** The part's text, with `\n` line ends whatever the encoding carried. */
function decodeBody(p: Part): string {
  return decodeTransfer(p).replace(/\r\n?/g, '\n');
}

function decodeTransfer(p: Part): string {
  const cte = (p.headers['content-transfer-encoding'] ?? '7bit').trim().toLowerCase();
  const charset = contentType(p).params.charset ?? 'utf-8';
  if (cte === 'base64') return decodeBytes(Buffer.from(p.body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64'), charset);
  if (cte === 'quoted-printable') return decodeBytes(quotedPrintable(p.body), charset);
  // 7bit / 8bit / binary: the sink stored the bytes as UTF-8 text already.
  return p.body;
}

function quotedPrintable(s: string): Buffer {
  const noSoftBreaks = s.replace(/[ \t]+$/gm, '').replace(/=\n/g, '');
  const bytes: number[] = [];
  for (let i = 0; i < noSoftBreaks.length; i++) {
    const c = noSoftBreaks[i];
    const hex = noSoftBreaks.slice(i + 1, i + 3);
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, 'utf-8'));
    }
  }
  return Buffer.from(bytes);
}

function decodeBytes(b: Buffer, charset: string): string {
  try {
    return new TextDecoder(charset.toLowerCase()).decode(b);
  } catch {
    return new TextDecoder('utf-8').decode(b);
  }
}

/** RFC 2047 encoded words (`=?utf-8?B?…?=`, `=?UTF-8?Q?…?=`); the space between two goes. */
export function decodeWords(value: string): string {
  const word = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;
  return value
    .replace(/(=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)\s+(?==\?[^?\s]+\?[BbQq]\?[^?\s]*\?=)/g, '$1')
    .replace(word, (_, charset: string, enc: string, data: string) => {
      const cs = charset.split('*')[0]; // RFC 2231 language tag
      if (enc.toUpperCase() === 'B') return decodeBytes(Buffer.from(data, 'base64'), cs);
      return decodeBytes(quotedPrintable(data.replace(/_/g, ' ')), cs);
    });
}

function urlsIn(text: string): string[] {
  const found = [...text.matchAll(/https?:\/\/[^\s<>"'`]+/g)].map((m) => m[0].replace(/[.,;:!?)\]}]+$/, ''));
  return [...new Set(found)];
}

function hrefsIn(html: string): string[] {
  return [...html.matchAll(/href\s*=\s*("([^"]*)"|'([^']*)')/gi)].map((m) =>
    (m[2] ?? m[3]).replace(/&amp;/g, '&'),
  );
}
