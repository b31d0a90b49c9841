import { Readable } from 'node:stream';

/**
 * COPY … TO STDOUT as a readable stream of the rows' bytes, for node-postgres's client.query().
 *
 * What pg-copy-streams' `to()` does, with the rows' bytes taken out differently. It cuts each
 * CopyData message (one per row) out of the socket's bytes as a Buffer of its own, then joins
 * them: on the M benchmark (3.1 million rows on PostgreSQL) that was about 350 MB of short-lived
 * objects, a fifth of everything a backup allocated. Here each socket read's CopyData payloads
 * are copied into one buffer (CopyOutParser): a few objects per 64 KB read, not per row.
 *
 * The connection is taken over the same way: pg's 'data' listener (its protocol parser) is set
 * aside and the socket read directly until CopyDone or an ErrorResponse; what follows is handed
 * back to pg's parser, which then sees CommandComplete and ReadyForQuery (or the error) and
 * calls handleCommandComplete / handleError / handleReadyForQuery as for any query.
 */

const COPY_DATA = 0x64; // 'd'
const ERROR_RESPONSE = 0x45; // 'E'
/** Messages a COPY OUT may carry besides its rows (CopyOutResponse, ParameterStatus, notices). */
const CARRIED = new Set([0x48, COPY_DATA, 0x53, 0x4e, 0x41]);
const HEADER = 5;

export interface ParsedChunk {
  /** The CopyData payloads of the chunk, joined (null when it held none). */
  data: Buffer | null;
  /** Set when the COPY is over (CopyDone read) or failed (an ErrorResponse begins): the bytes after it, pg's to parse. */
  rest: Buffer | null;
  failed: boolean;
}

/**
 * The backend's messages during a COPY OUT, fed as the socket gives them (a message may span
 * any number of reads, its 5-byte header too).
 */
export class CopyOutParser {
  private readonly header = Buffer.alloc(HEADER);
  private headerFilled = 0;
  private code = 0;
  /** Payload bytes of the current message not read yet. */
  private left = 0;

  feed(chunk: Buffer): ParsedChunk {
    let out: Buffer | null = null;
    let filled = 0;
    let at = 0;
    const result = (rest: Buffer | null, failed = false): ParsedChunk => ({ data: out && filled ? out.subarray(0, filled) : null, rest, failed });
    while (at < chunk.length) {
      if (this.headerFilled < HEADER) {
        // An error ends the COPY at a message boundary: pg parses it (and what follows) itself.
        if (this.headerFilled === 0 && chunk[at] === ERROR_RESPONSE) return result(chunk.subarray(at), true);
        const n = Math.min(HEADER - this.headerFilled, chunk.length - at);
        chunk.copy(this.header, this.headerFilled, at, at + n);
        this.headerFilled += n;
        at += n;
        if (this.headerFilled < HEADER) break;
        this.code = this.header[0];
        this.left = this.header.readUInt32BE(1) - 4;
      }
      const n = Math.min(this.left, chunk.length - at);
      if (this.code === COPY_DATA && n > 0) {
        // Sized for the rest of the chunk: payloads never outgrow the bytes they come in.
        out ??= Buffer.allocUnsafe(chunk.length - at);
        chunk.copy(out, filled, at, at + n);
        filled += n;
      }
      at += n;
      this.left -= n;
      if (this.left === 0) {
        this.headerFilled = 0;
        // CopyDone, or anything a COPY OUT does not carry: the COPY is over.
        if (!CARRIED.has(this.code)) return result(chunk.subarray(at));
      }
    }
    return result(null);
  }
}

/** The part of node-postgres's Connection used here. */
interface PgConnection {
  stream: Readable;
  query(text: string): void;
}

export class CopyOut extends Readable {
  rowCount = 0;
  private connection: PgConnection | null = null;
  private pgOnData: ((chunk: Buffer) => void) | null = null;
  private readonly parser = new CopyOutParser();
  /** The consumer wants more (its buffer is below the high-water mark). */
  private wanted = false;
  private forwarding = false;
  private readonly onReadable = () => this.forward();

  constructor(private readonly text: string) {
    super();
  }

  /** Called by node-postgres when the query's turn comes on the connection. */
  submit(connection: PgConnection) {
    this.connection = connection;
    const socket = connection.stream;
    const listeners = socket.listeners('data') as Array<(chunk: Buffer) => void>;
    if (listeners.length !== 1) throw new Error(`COPY TO expects one data listener on the connection, found ${listeners.length}`);
    this.pgOnData = listeners[0];
    socket.removeListener('data', this.pgOnData);
    socket.pause();
    socket.on('readable', this.onReadable);
    connection.query(this.text);
  }

  _read() {
    this.wanted = true;
    this.forward();
  }

  private forward() {
    if (this.forwarding || !this.wanted || !this.connection) return;
    this.forwarding = true;
    let chunk: Buffer | null;
    while (this.wanted && this.connection && (chunk = this.connection.stream.read() as Buffer | null) !== null) {
      const { data, rest, failed } = this.parser.feed(chunk);
      if (data) this.wanted = this.push(data);
      if (rest) {
        this.detach(rest);
        if (!failed) this.push(null);
      }
    }
    this.forwarding = false;
  }

  /** Gives the connection back to pg's parser, with the bytes after the COPY. */
  private detach(rest: Buffer) {
    const connection = this.connection!;
    const socket = connection.stream;
    const onData = this.pgOnData!;
    this.connection = null;
    this.pgOnData = null;
    socket.removeListener('readable', this.onReadable);
    socket.addListener('data', onData);
    onData(rest);
    // Resumed on the next tick, as pg-copy-streams does: pg's own handler may pause the socket.
    process.nextTick(() => socket.resume());
  }

  handleError(error: Error) {
    this.emit('error', error);
  }

  handleCommandComplete(message: { text?: string } | undefined) {
    const match = /COPY (\d+)/.exec(message?.text ?? '');
    if (match) this.rowCount = Number(match[1]);
  }

  handleReadyForQuery() {}
}

export const copyOut = (text: string) => new CopyOut(text);
