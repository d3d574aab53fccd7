/** Reassembly of one response stream, with the rules of lambdas/iotstream_lambdas/streaming/assembler.py (docs/protocol.md,
 * "Delivery rules"): AWS IoT does not guarantee order and QoS 1 may deliver a message twice
 * (https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html, "Message ordering"), so events are
 * released strictly in `seq` order, duplicates are dropped, gaps are reported, the stream is complete once the
 * terminal event and everything before it arrived, and it gives up after an idle timeout. No I/O, no clock:
 * the caller passes `now` in seconds. */

import { type StreamEvent, type TerminalEvent, eventText, isTerminal } from "./wire";

export const DEFAULT_IDLE_TIMEOUT_S = 30;

export interface IdleTimeout {
  code: "idle_timeout";
  message: string;
  nextSeq: number;
  missing: number[];
}

export interface AssemblerStats {
  received: number;
  duplicates: number;
  foreign: number;
  afterTerminal: number;
}

export class StreamAssembler {
  readonly stats: AssemblerStats = { received: 0, duplicates: 0, foreign: 0, afterTerminal: 0 };
  private readonly pending = new Map<number, StreamEvent>();
  private readonly pieces: string[] = [];
  private nextSeq = 0;
  private terminalSeq: number | null = null;
  private finished: TerminalEvent | null = null;
  private lastProgress: number;
  private timeout: IdleTimeout | null = null;

  constructor(
    public rid: string | null = null,
    readonly idleTimeout = DEFAULT_IDLE_TIMEOUT_S,
    now = 0,
  ) {
    this.lastProgress = now;
  }

  /** Accept one event in any order; return the events this makes available, in `seq` order. */
  feed(event: StreamEvent, now: number): StreamEvent[] {
    if (this.rid === null) this.rid = event.rid;
    if (event.rid !== this.rid) {
      this.stats.foreign += 1;
      return [];
    }
    if (this.done || this.timeout !== null) {
      this.stats.afterTerminal += 1;
      return [];
    }
    if (event.seq < this.nextSeq || this.pending.has(event.seq)) {
      this.stats.duplicates += 1;
      return [];
    }
    if (this.terminalSeq !== null && event.seq > this.terminalSeq) {
      this.stats.afterTerminal += 1;
      return [];
    }
    this.stats.received += 1;
    this.lastProgress = now;
    this.pending.set(event.seq, event);
    if (isTerminal(event)) {
      this.terminalSeq = event.seq;
      for (const seq of [...this.pending.keys()].filter((s) => s > event.seq)) {
        this.pending.delete(seq);
        this.stats.afterTerminal += 1;
      }
    }
    return this.release();
  }

  private release(): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (let event = this.pending.get(this.nextSeq); event !== undefined; event = this.pending.get(this.nextSeq)) {
      this.pending.delete(this.nextSeq);
      this.nextSeq += 1;
      out.push(event);
      const text = eventText(event);
      if (text) this.pieces.push(text);
      if (isTerminal(event)) this.finished = event;
    }
    return out;
  }

  /** The idle timeout, once `idleTimeout` seconds passed without progress (remembered: reported once). */
  checkIdle(now: number): IdleTimeout | null {
    if (this.done) return null;
    if (this.timeout === null && now - this.lastProgress >= this.idleTimeout) {
      const idle = now - this.lastProgress;
      const missing = this.missing;
      const detail = missing.length ? `; missing seq ${missing.join(", ")}` : "";
      this.timeout = {
        code: "idle_timeout",
        message: `no response event for ${idle.toFixed(1)}s (waiting for seq ${this.nextSeq}${detail})`,
        nextSeq: this.nextSeq,
        missing,
      };
    }
    return this.timeout;
  }

  /** True once the terminal event and every event before it have been released. */
  get done(): boolean {
    return this.finished !== null;
  }

  get timedOut(): IdleTimeout | null {
    return this.timeout;
  }

  /** The answer text released so far. */
  get text(): string {
    return this.pieces.join("");
  }

  /** Seqs not yet seen below the highest one seen (a gap). */
  get missing(): number[] {
    if (this.pending.size === 0) return [];
    const highest = Math.max(...this.pending.keys());
    const gaps: number[] = [];
    for (let seq = this.nextSeq; seq < highest; seq += 1) if (!this.pending.has(seq)) gaps.push(seq);
    return gaps;
  }
}
