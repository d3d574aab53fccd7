/** The dashboard feed's state (docs/protocol.md, "Dashboard feed"): status updates arrive on
 * `dashboard/streams/{shard}`, each carrying a stream's whole current state; per rid the update with the highest
 * `n` wins and `end`/`error` are final, so a lost update is healed by the next one. No DOM here. */

export type StreamState = "started" | "streaming" | "end" | "error";
const STATES: ReadonlySet<string> = new Set(["started", "streaming", "end", "error"]);
const FINAL: ReadonlySet<StreamState> = new Set(["end", "error"]);

export interface StreamStatus {
  rid: string;
  identity: string;
  n: number;
  state: StreamState;
  model: string;
  /** Epoch milliseconds (server clock). */
  started: number;
  ts: number;
  tokens: number;
  messages: number;
  ttft_ms?: number;
  tokens_per_s?: number;
  stop?: string;
  code?: string;
}

const isNumber = (value: unknown): value is number => typeof value === "number" && Number.isFinite(value);

/** A v1 status message, or null for anything else (the feed is read, never trusted blindly). */
export function parseStatus(payload: Uint8Array | string): StreamStatus | null {
  let body: unknown;
  try {
    body = JSON.parse(typeof payload === "string" ? payload : new TextDecoder().decode(payload));
  } catch {
    return null;
  }
  if (typeof body !== "object" || body === null) return null;
  const m = body as Record<string, unknown>;
  if (m.v !== 1 || m.type !== "status" || typeof m.rid !== "string" || typeof m.identity !== "string") return null;
  if (typeof m.state !== "string" || !STATES.has(m.state)) return null;
  if (![m.n, m.started, m.ts, m.tokens, m.messages].every(isNumber)) return null;
  const status: StreamStatus = {
    rid: m.rid,
    identity: m.identity,
    n: m.n as number,
    state: m.state as StreamState,
    model: typeof m.model === "string" ? m.model : "",
    started: m.started as number,
    ts: m.ts as number,
    tokens: m.tokens as number,
    messages: m.messages as number,
  };
  if (isNumber(m.ttft_ms)) status.ttft_ms = m.ttft_ms;
  if (isNumber(m.tokens_per_s)) status.tokens_per_s = m.tokens_per_s;
  if (typeof m.stop === "string") status.stop = m.stop;
  if (typeof m.code === "string") status.code = m.code;
  return status;
}

export interface FeedTotals {
  live: number;
  ended: number;
  errors: number;
  tokens: number;
  /** Mean over streams that report it. */
  tokensPerS?: number;
  ttftMs?: number;
  updates: number;
}

const mean = (values: number[]): number | undefined =>
  values.length ? values.reduce((a, b) => a + b, 0) / values.length : undefined;

export class FeedTable {
  private readonly streams = new Map<string, StreamStatus>();
  private updates = 0;

  /** Apply one update; true when it changed what the table shows. */
  apply(status: StreamStatus): boolean {
    this.updates += 1;
    const known = this.streams.get(status.rid);
    if (known && (FINAL.has(known.state) || known.n >= status.n)) return false;
    this.streams.set(status.rid, status);
    return true;
  }

  /** Live streams first (newest first), then finished ones (most recently finished first). */
  rows(): StreamStatus[] {
    const live = (s: StreamStatus): boolean => !FINAL.has(s.state);
    return [...this.streams.values()].sort((a, b) =>
      live(a) !== live(b) ? (live(a) ? -1 : 1) : live(a) ? b.started - a.started : b.ts - a.ts,
    );
  }

  totals(): FeedTotals {
    const all = [...this.streams.values()];
    const totals: FeedTotals = {
      live: all.filter((s) => !FINAL.has(s.state)).length,
      ended: all.filter((s) => s.state === "end").length,
      errors: all.filter((s) => s.state === "error").length,
      tokens: all.reduce((sum, s) => sum + s.tokens, 0),
      updates: this.updates,
    };
    const rate = mean(all.flatMap((s) => (s.tokens_per_s === undefined ? [] : [s.tokens_per_s])));
    const ttft = mean(all.flatMap((s) => (s.ttft_ms === undefined ? [] : [s.ttft_ms])));
    if (rate !== undefined) totals.tokensPerS = rate;
    if (ttft !== undefined) totals.ttftMs = ttft;
    return totals;
  }

  /** Forget finished streams whose last update is older than `keepMs` (bounded memory on a long-open page). */
  prune(nowMs: number, keepMs: number): void {
    for (const [rid, status] of this.streams) {
      if (FINAL.has(status.state) && nowMs - status.ts > keepMs) this.streams.delete(rid);
    }
  }
}
