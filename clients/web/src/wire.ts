/** Wire protocol v1 as the browser speaks it (docs/protocol.md; the Python twin is lambdas/iotstream_lambdas/streaming/wire.py):
 * topics, the prompt and cancel payloads, and strict decoding of response events. */

export const PROTOCOL_VERSION = 1;
/** AWS IoT Core refuses larger publishes (AWS IoT Core quotas, "Message broker"). */
export const AWS_IOT_MAX_PAYLOAD_BYTES = 128 * 1024;

export const promptTopic = (identityId: string): string => `chat/${identityId}/prompt`;
export const cancelTopic = (identityId: string): string => `chat/${identityId}/cancel`;
export const responseFilter = (identityId: string): string => `chat/${identityId}/response/+`;
/** The dashboard feed's shard topic (docs/protocol.md, "Dashboard feed"). */
export const dashboardTopic = (shard: number): string => `dashboard/streams/${shard}`;

/** The last level of `chat/{id}/response/{rid}`. */
export function ridOfTopic(topic: string): string {
  return topic.slice(topic.lastIndexOf("/") + 1);
}

export interface Usage {
  input_tokens: number;
  output_tokens: number;
}

export type StreamEvent =
  | { type: "start"; rid: string; seq: number; model: string; ts: number; text: string }
  | { type: "delta"; rid: string; seq: number; text: string }
  | {
      type: "end";
      rid: string;
      seq: number;
      stop: string;
      usage: Usage;
      metrics: Record<string, number>;
      text: string;
    }
  | { type: "error"; rid: string; seq: number; code: string; message: string };

export type TerminalEvent = Extract<StreamEvent, { type: "end" | "error" }>;

export const isTerminal = (event: StreamEvent): event is TerminalEvent =>
  event.type === "end" || event.type === "error";

/** The answer text an event carries (`delta`, and `start`/`end` when the service folded text into them). */
export const eventText = (event: StreamEvent): string => (event.type === "error" ? "" : event.text);

/** A random UUID v4 (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function newRid(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6]! & 0x0f) | 0x40;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function encodePrompt(rid: string, text: string, conversation: string | null): string {
  const body: Record<string, unknown> = { v: PROTOCOL_VERSION, rid, text };
  if (conversation) body.conversation = conversation;
  return JSON.stringify(body);
}

export const encodeCancel = (rid: string): string => JSON.stringify({ v: PROTOCOL_VERSION, rid });

export class ProtocolError extends Error {
  override name = "ProtocolError";
}

function field<T>(body: Record<string, unknown>, name: string, kind: "string" | "number"): T {
  const value = body[name];
  if (typeof value !== kind || (kind === "number" && !Number.isFinite(value))) {
    throw new ProtocolError(`event field ${name} is missing or not a ${kind}`);
  }
  return value as T;
}

function optionalText(body: Record<string, unknown>): string {
  const text = body.text ?? "";
  if (typeof text !== "string") throw new ProtocolError("event field text must be a string");
  return text;
}

function numbers(value: unknown, name: string): Record<string, number> {
  if (value === undefined || value === null) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new ProtocolError(`event field ${name} must be an object`);
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, number] => typeof entry[1] === "number"));
}

/** Parse a response event; anything that is not a v1 event is a `ProtocolError`. */
export function decodeEvent(payload: Uint8Array | string): StreamEvent {
  let body: unknown;
  try {
    body = JSON.parse(typeof payload === "string" ? payload : new TextDecoder("utf-8", { fatal: true }).decode(payload));
  } catch {
    throw new ProtocolError("event is not UTF-8 JSON");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new ProtocolError("event is not an object");
  const fields = body as Record<string, unknown>;
  if (fields.v !== PROTOCOL_VERSION) throw new ProtocolError(`unsupported event version ${String(fields.v)}`);
  const rid = field<string>(fields, "rid", "string");
  const seq = field<number>(fields, "seq", "number");
  if (!Number.isInteger(seq) || seq < 0) throw new ProtocolError("event field seq must be an integer >= 0");
  switch (fields.type) {
    case "start":
      return { type: "start", rid, seq, model: field(fields, "model", "string"), ts: field(fields, "ts", "number"), text: optionalText(fields) };
    case "delta":
      return { type: "delta", rid, seq, text: field(fields, "text", "string") };
    case "end": {
      const usage = numbers(fields.usage, "usage");
      return {
        type: "end",
        rid,
        seq,
        stop: field(fields, "stop", "string"),
        usage: { input_tokens: usage.input_tokens ?? 0, output_tokens: usage.output_tokens ?? 0 },
        metrics: numbers(fields.metrics, "metrics"),
        text: optionalText(fields),
      };
    }
    case "error":
      return { type: "error", rid, seq, code: field(fields, "code", "string"), message: field(fields, "message", "string") };
    default:
      throw new ProtocolError(`unknown event type ${String(fields.type)}`);
  }
}
