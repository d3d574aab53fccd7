/** The few DOM helpers both pages use. Text goes in as text (textContent), never as HTML. */

import type { Session } from "./auth";
import type { LinkState } from "./link";

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no #${id}`);
  return element as T;
}

export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = "",
  text = "",
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text) node.textContent = text;
  return node;
}

/** A short random id (hex) for client ids and conversation ids. */
export function shortId(bytes = 4): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** The first 8 characters of an id's last part: `us-east-1:7f3c…` -> `7f3c1a2b`. */
export function shortName(id: string): string {
  return id.slice(id.lastIndexOf(":") + 1).slice(0, 8);
}

export function formatMs(ms: number | undefined): string {
  return ms === undefined ? "–" : ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

export function formatRate(perSecond: number | undefined): string {
  return perSecond === undefined ? "–" : perSecond.toFixed(1);
}

/** The connection badge in the header (`data-state` for styles and tests). */
export function showLinkState(state: LinkState, detail: string): void {
  const badge = byId("link-state");
  badge.dataset.state = state;
  badge.textContent = state === "reconnecting" ? `reconnecting… (${detail})` : state === "closed" ? "" : state;
}

/** The signed-in user in the header; the identity id (the name the broker knows) on hover. */
export function showWho(session: Session): void {
  const who = byId("who");
  who.textContent = session.username;
  who.title = `identity ${session.identityId} · IoT policy ${session.policyName}`;
  who.dataset.identity = session.identityId;
}
