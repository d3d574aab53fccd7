/** The dashboard page: one MQTT connection per feed shard (client id `{identityId}-dash{k}-{tab}`, topic
 * `dashboard/streams/{k}`), so no connection exceeds AWS IoT's 100 publishes/s per connection
 * (https://docs.aws.amazon.com/general/latest/gr/iot-core.html#message-broker-limits), and a live table. */

import type { Session } from "./auth";
import { byId, element, formatMs, formatRate, shortId, shortName, showLinkState, showWho } from "./dom";
import { BrokerError, NOT_AUTHORIZED, PlainError } from "./errors";
import { FeedTable, parseStatus, type StreamStatus } from "./feed";
import { BrokerLink, type LinkState } from "./link";
import { openPage } from "./signin";
import { dashboardTopic } from "./wire";

const SHOWN_ROWS = 200;
const KEEP_FINISHED_MS = 10 * 60 * 1000;

class DashboardPage {
  private readonly feed = new FeedTable();
  private readonly links: BrokerLink[] = [];
  private readonly states: LinkState[] = [];
  private dirty = true;

  async start(session: Session): Promise<void> {
    const tab = shortId();
    const shards = session.config.dashboardShards;
    for (let shard = 0; shard < shards; shard += 1) {
      this.states.push("connecting");
      this.links.push(
        new BrokerLink({
          session,
          clientId: session.clientId(`dash${shard}-${tab}`),
          subscriptions: [dashboardTopic(shard)],
          sessionExpiry: 0, // every update carries the whole state: nothing to queue while away
          onMessage: (_topic, payload) => this.received(payload),
          onState: (state, detail) => this.linkState(shard, state, detail),
        }),
      );
    }
    try {
      await Promise.all(this.links.map((link) => link.open()));
    } catch (failure) {
      await Promise.allSettled(this.links.map((link) => link.close()));
      this.links.length = 0;
      this.states.length = 0;
      if (failure instanceof BrokerError && failure.code === NOT_AUTHORIZED) {
        throw new PlainError(`${failure.message} Only members of the user pool's "dashboard" group may open the dashboard.`);
      }
      throw failure;
    }
    showWho(session);
    byId("signin").hidden = true;
    byId("dashboard").hidden = false;
    byId("sign-out").hidden = false;
    byId("sign-out").addEventListener("click", () => {
      void Promise.allSettled(this.links.map((link) => link.close())).finally(() => location.reload());
    });
    setInterval(() => this.render(true), 1000);
    this.render(true);
  }

  private received(payload: Uint8Array): void {
    const status = parseStatus(payload);
    if (status && this.feed.apply(status) && !this.dirty) {
      this.dirty = true;
      requestAnimationFrame(() => this.render(false));
    }
  }

  private linkState(shard: number, state: LinkState, detail: string): void {
    this.states[shard] = state;
    const worst = (["reconnecting", "connecting", "connected", "closed"] as const).find((s) => this.states.includes(s));
    showLinkState(worst ?? state, detail);
  }

  /** Redraw the table (every second for the ages, and on the next frame after an update). */
  private render(tick: boolean): void {
    if (!this.dirty && !tick) return;
    this.dirty = false;
    const now = Date.now();
    this.feed.prune(now, KEEP_FINISHED_MS);
    const rows = this.feed.rows();
    byId("stream-rows").replaceChildren(...rows.slice(0, SHOWN_ROWS).map((status) => row(status, now)));
    byId("empty").hidden = rows.length > 0;
    const totals = this.feed.totals();
    const items: [string, string][] = [
      ["live", String(totals.live)],
      ["finished", String(totals.ended)],
      ["errors", String(totals.errors)],
      ["tokens", String(totals.tokens)],
      ["mean tokens/s", formatRate(totals.tokensPerS)],
      ["mean first token", formatMs(totals.ttftMs)],
      ["feed updates", String(totals.updates)],
      ["shards", String(this.links.length)],
    ];
    byId("totals").replaceChildren(
      ...items.map(([name, value]) => {
        const pair = element("div");
        const detail = element("dd", "", value);
        detail.dataset.total = name;
        pair.append(element("dt", "", name), detail);
        return pair;
      }),
    );
  }
}

function row(status: StreamStatus, now: number): HTMLTableRowElement {
  const tr = element("tr", `state-${status.state}`);
  tr.dataset.rid = status.rid;
  tr.dataset.state = status.state;
  tr.dataset.tokens = String(status.tokens);
  const state = status.state === "end" ? (status.stop ?? "end") : status.state === "error" ? `error: ${status.code ?? "?"}` : status.state;
  const cells: [string, string][] = [
    [shortName(status.identity), ""],
    [shortName(status.rid), ""],
    [state, ""],
    [String(status.tokens), "num"],
    [formatRate(status.tokens_per_s), "num"],
    [formatMs(status.ttft_ms), "num"],
    [formatMs(Math.max(0, now - status.started)), "num"],
  ];
  tr.append(...cells.map(([text, className]) => element("td", className, text)));
  tr.title = `${status.identity}\n${status.rid}\n${status.model}`;
  return tr;
}

openPage("Sign in to the dashboard", () => new DashboardPage());
