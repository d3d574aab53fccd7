/** One MQTT 5 connection over a SigV4-presigned WebSocket (MQTT.js), that comes back after a drop.
 *
 * Every attempt presigns a fresh URL (with credentials refreshed when they expire soon) and connects with the same
 * client id. With `sessionExpiry` > 0, Clean Start is off, so the broker keeps the subscriptions and queues QoS 1
 * messages while the page is away (AWS IoT persistent sessions:
 * https://docs.aws.amazon.com/iot/latest/developerguide/mqtt.html#mqtt-persistent-sessions); the page subscribes
 * again anyway. Nothing is assumed delivered once: the stream assembler drops what arrives twice.
 */

import mqtt from "mqtt";
import type { IConnackPacket, MqttClient } from "mqtt";

import type { Session } from "./auth";
import { brokerError, PlainError } from "./errors";
import { presignMqttUrl } from "./sigv4";

export type LinkState = "connecting" | "connected" | "reconnecting" | "closed";

export interface LinkOptions {
  session: Session;
  clientId: string;
  subscriptions: string[];
  /** Seconds the broker keeps the session (subscriptions, queued QoS 1 messages) after a drop; 0 = none. */
  sessionExpiry: number;
  onMessage(topic: string, payload: Uint8Array): void;
  onState(state: LinkState, detail: string): void;
}

const RETRY_DELAYS_MS = [250, 1000, 2000, 5000, 10000];
const CONNECT_TIMEOUT_MS = 10000;

export class BrokerLink {
  private client: MqttClient | null = null;
  private connected = false;
  private closed = false;
  private failures = 0;
  private retry: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly options: LinkOptions) {}

  /** The first connection and its subscriptions; rejects with a plain reason when the broker refuses. */
  async open(): Promise<void> {
    this.options.onState("connecting", "");
    await this.connect();
    this.options.onState("connected", "");
  }

  /** QoS 1 publish; rejects with a plain reason (e.g. a policy denial, MQTT 5 PUBACK 0x87). */
  async publish(topic: string, payload: string): Promise<void> {
    if (!this.client || !this.connected) throw new PlainError("Not connected to the message broker yet: try again in a moment.");
    try {
      await this.client.publishAsync(topic, payload, { qos: 1 });
    } catch (error) {
      throw brokerError(error, `Cannot send on ${topic}`);
    }
  }

  /** Disconnect for good (no reconnect); the broker forgets the session (MQTT 5 DISCONNECT, expiry 0). */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    const client = this.client;
    if (client) await client.endAsync(!this.connected, this.connected ? { properties: { sessionExpiryInterval: 0 } } : {});
    this.options.onState("closed", "");
  }

  private async connect(): Promise<void> {
    const { session, clientId } = this.options;
    await session.refreshIfExpiring();
    const url = presignMqttUrl(session.config.mqttEndpoint, session.credentials, session.config.region);
    const client = mqtt.connect(url, {
      protocolVersion: 5,
      clientId,
      clean: this.options.sessionExpiry === 0,
      properties: { sessionExpiryInterval: this.options.sessionExpiry },
      reconnectPeriod: 0,
      connectTimeout: CONNECT_TIMEOUT_MS,
      keepalive: 30,
      resubscribe: false,
    });
    this.client = client;
    client.on("message", (topic, payload) => this.options.onMessage(topic, payload));
    // MQTT.js emits "error" for refusals and broken packets; a "close" follows, which is what we act on.
    client.on("error", (error) => console.warn(`MQTT ${clientId}:`, error.message));
    try {
      await connected(client);
    } catch (error) {
      client.end(true);
      throw brokerError(error, `The message broker refused the connection of client ${clientId}`);
    }
    const subscriptions = this.options.subscriptions;
    try {
      if (subscriptions.length) await client.subscribeAsync(subscriptions, { qos: 1 });
    } catch (error) {
      client.end(true);
      throw brokerError(error, `Cannot subscribe to ${subscriptions.join(", ")}`);
    }
    this.connected = true;
    client.once("close", () => this.dropped(client));
  }

  private dropped(client: MqttClient): void {
    if (client !== this.client) return;
    this.connected = false;
    if (this.closed) return;
    this.scheduleReconnect("connection lost");
  }

  private scheduleReconnect(reason: string): void {
    const delay = RETRY_DELAYS_MS[Math.min(this.failures, RETRY_DELAYS_MS.length - 1)];
    this.failures += 1;
    this.options.onState("reconnecting", reason);
    this.retry = setTimeout(() => void this.reconnect(), delay);
  }

  private async reconnect(): Promise<void> {
    if (this.closed) return;
    try {
      await this.connect();
      this.failures = 0;
      this.options.onState("connected", "");
    } catch (error) {
      if (!this.closed) this.scheduleReconnect(error instanceof Error ? error.message : String(error));
    }
  }
}

/** Resolves on CONNACK; rejects on a refused CONNACK, a failed WebSocket upgrade (403) or a timeout. */
function connected(client: MqttClient): Promise<IConnackPacket> {
  return new Promise((resolve, reject) => {
    client.once("connect", resolve);
    client.once("error", reject);
    client.once("close", () => reject(new PlainError("the connection closed before the broker accepted it (bad signature, or the broker is unreachable)")));
  });
}
