/** The chat page: sign in, ask, watch the answer stream in token by token, stop it, start a new conversation.
 * Answers arrive on `chat/{identityId}/response/{rid}` and are reassembled by `seq` (assembler.ts). */

import { StreamAssembler } from "./assembler";
import type { Session } from "./auth";
import { byId, element, formatMs, formatRate, shortId, showLinkState, showWho } from "./dom";
import { PlainError, serviceErrorText } from "./errors";
import { BrokerLink } from "./link";
import { openPage } from "./signin";
import {
  AWS_IOT_MAX_PAYLOAD_BYTES,
  cancelTopic,
  decodeEvent,
  encodeCancel,
  encodePrompt,
  eventText,
  newRid,
  promptTopic,
  responseFilter,
  ridOfTopic,
  type StreamEvent,
  type TerminalEvent,
} from "./wire";

/** How long the broker keeps this page's session (and queues its answer) across a network drop. */
const SESSION_EXPIRY_S = 600;

const seconds = (): number => performance.now() / 1000;

/** One answer in the transcript: its assembler, its element, what the browser measured. */
class Answer {
  readonly assembler: StreamAssembler;
  readonly item = element("li", "turn answer");
  private readonly body = element("div", "text");
  private readonly meta = element("div", "meta", "waiting for the first token…");
  private readonly sentAt = performance.now();
  private firstTextAt: number | null = null;

  constructor(readonly rid: string) {
    this.assembler = new StreamAssembler(rid, undefined, seconds());
    this.item.dataset.rid = rid;
    this.item.dataset.state = "waiting";
    this.item.append(this.body, this.meta);
  }

  get finished(): boolean {
    return this.assembler.done || this.assembler.timedOut !== null;
  }

  /** Render the events the assembler released; true once the stream is over. */
  show(events: StreamEvent[]): boolean {
    for (const event of events) {
      const text = eventText(event);
      if (text) {
        this.firstTextAt ??= performance.now();
        this.body.append(document.createTextNode(text));
        this.item.dataset.state = "streaming";
        this.meta.textContent = "streaming…";
      }
      if (event.type === "end" || event.type === "error") this.finish(event);
    }
    return this.assembler.done;
  }

  private finish(event: TerminalEvent): void {
    const now = performance.now();
    if (event.type === "error") {
      this.fail(serviceErrorText(event.code, event.message), event.code);
      return;
    }
    const tokens = event.usage.output_tokens || event.metrics.tokens || 0;
    const browserTtft = this.firstTextAt === null ? undefined : this.firstTextAt - this.sentAt;
    const streamingS = this.firstTextAt === null ? 0 : (now - this.firstTextAt) / 1000;
    const rate = streamingS > 0 && tokens > 1 ? (tokens - 1) / streamingS : undefined;
    this.item.dataset.state = "done";
    this.item.dataset.stop = event.stop;
    if (browserTtft !== undefined) this.item.dataset.ttftMs = browserTtft.toFixed(1);
    if (rate !== undefined) this.item.dataset.tokensPerS = rate.toFixed(1);
    this.item.dataset.tokens = String(tokens);
    if (event.metrics.ttft_ms !== undefined) this.item.dataset.modelTtftMs = String(event.metrics.ttft_ms);
    const stop = event.stop === "cancelled" ? "stopped" : event.stop === "end_turn" ? "done" : event.stop.replace("_", " ");
    this.meta.textContent =
      `${stop} · ${tokens} tokens · first token ${formatMs(browserTtft)} (model ${formatMs(event.metrics.ttft_ms)})` +
      ` · ${formatRate(rate)} tokens/s · ${event.metrics.messages ?? "?"} messages`;
  }

  /** Show a failure in plain words in place of the status line. */
  fail(text: string, code: string): void {
    this.item.dataset.state = "error";
    this.item.dataset.code = code;
    this.meta.textContent = text;
    this.meta.classList.add("error");
  }
}

class ChatPage {
  private session: Session | null = null;
  private link: BrokerLink | null = null;
  private conversation = `c-${shortId(6)}`;
  private active: Answer | null = null;
  private readonly answers = new Map<string, Answer>();
  private readonly transcript = byId<HTMLOListElement>("transcript");
  private readonly prompt = byId<HTMLTextAreaElement>("prompt");
  private readonly error = byId("chat-error");

  constructor() {
    byId("ask-form").addEventListener("submit", (event) => {
      event.preventDefault();
      void this.ask();
    });
    this.prompt.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        void this.ask();
      }
    });
    byId("stop").addEventListener("click", () => void this.stop());
    byId("new-conversation").addEventListener("click", () => this.newConversation());
    byId("sign-out").addEventListener("click", () => void this.link?.close().finally(() => location.reload()));
    setInterval(() => this.checkIdle(), 1000);
  }

  /** After sign-in: one connection (client id `{identityId}-chat-{tab}`) subscribed to this user's answers. */
  async start(session: Session): Promise<void> {
    const link = new BrokerLink({
      session,
      clientId: session.clientId(`chat-${shortId()}`),
      subscriptions: [responseFilter(session.identityId)],
      sessionExpiry: SESSION_EXPIRY_S,
      onMessage: (topic, payload) => this.received(topic, payload),
      onState: (state, detail) => showLinkState(state, detail),
    });
    await link.open();
    this.session = session;
    this.link = link;
    showWho(session);
    byId("signin").hidden = true;
    byId("chat").hidden = false;
    byId("new-conversation").hidden = false;
    byId("sign-out").hidden = false;
    this.prompt.focus();
  }

  private async ask(): Promise<void> {
    const text = this.prompt.value.trim();
    if (!text || !this.session || !this.link || this.active) return;
    const rid = newRid();
    const payload = encodePrompt(rid, text, this.conversation);
    const size = new TextEncoder().encode(payload).length;
    if (size > AWS_IOT_MAX_PAYLOAD_BYTES) {
      this.error.textContent = `The question is too large to send (${Math.ceil(size / 1024)} KB; AWS IoT's limit is 128 KB).`;
      return;
    }
    this.error.textContent = "";
    const answer = new Answer(rid);
    this.transcript.append(element("li", "turn question", text), answer.item);
    this.answers.set(rid, answer);
    this.setActive(answer);
    try {
      await this.link.publish(promptTopic(this.session.identityId), payload);
      this.prompt.value = "";
    } catch (failure) {
      answer.fail(failure instanceof PlainError ? failure.message : String(failure), "publish_failed");
      this.setActive(null);
    }
  }

  private async stop(): Promise<void> {
    const answer = this.active;
    if (!answer || !this.session || !this.link) return;
    const button = byId<HTMLButtonElement>("stop");
    button.disabled = true;
    button.textContent = "Stopping…";
    try {
      await this.link.publish(cancelTopic(this.session.identityId), encodeCancel(answer.rid));
    } catch (failure) {
      this.error.textContent = failure instanceof PlainError ? failure.message : String(failure);
      button.disabled = false;
      button.textContent = "Stop";
    }
  }

  private received(topic: string, payload: Uint8Array): void {
    const answer = this.answers.get(ridOfTopic(topic));
    if (!answer || answer.finished) return; // another tab's answer, or a late duplicate
    let event: StreamEvent;
    try {
      event = decodeEvent(payload);
    } catch (failure) {
      console.warn("ignoring a message that is not a v1 event", topic, failure);
      return;
    }
    const over = answer.show(answer.assembler.feed(event, seconds()));
    this.scrollToEnd();
    if (over && answer === this.active) this.setActive(null);
  }

  private checkIdle(): void {
    const answer = this.active;
    const timeout = answer?.assembler.checkIdle(seconds());
    if (!answer || !timeout) return;
    const text =
      timeout.nextSeq === 0
        ? `No answer from the service within ${answer.assembler.idleTimeout} s (code idle_timeout).`
        : serviceErrorText(timeout.code, timeout.message);
    answer.fail(text, timeout.code);
    this.setActive(null);
  }

  private newConversation(): void {
    if (this.active) return;
    this.conversation = `c-${shortId(6)}`;
    this.answers.clear();
    this.transcript.replaceChildren();
    this.error.textContent = "";
    this.prompt.focus();
  }

  private setActive(answer: Answer | null): void {
    this.active = answer;
    const stop = byId<HTMLButtonElement>("stop");
    stop.hidden = answer === null;
    stop.disabled = false;
    stop.textContent = "Stop";
    byId<HTMLButtonElement>("send").disabled = answer !== null;
    byId<HTMLButtonElement>("new-conversation").disabled = answer !== null;
  }

  private scrollToEnd(): void {
    this.transcript.lastElementChild?.scrollIntoView({ block: "end" });
  }
}

openPage("Sign in to chat", () => new ChatPage());
