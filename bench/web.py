"""What a person sees in the browser against the embedded model: time to first token and tokens/s in Chromium.

    python -m bench.web [--questions 4] [--plot bench/results/web.png] [--json FILE] [--screenshots docs/img]

localcore runs the real stack with `LLM_PROVIDER=local` (SmolLM2-135M, llama.cpp) and serves the pages; a real
Chromium (clients/web/chromium.py) signs up on the chat page and asks each question. Reference, in the same
process: a paho client of the same identity (clients.session, presigned WebSocket), subscribed to the same response
topic, so both see the same stream. Times are epoch milliseconds on one machine (the page's `Date.now()`, Python's
`time.time()`), all from the moment the bench clicks Send:
- ttft: first answer text shown in the page / received by paho; the model's own (prompt received -> first token)
  comes from the `end` event's metrics;
- tokens/s: (tokens - 1) / (end - first text), for the page, for paho, and for the model.
Each question starts a new conversation (no history to prefill). The first one also loads the model (cold
start): it is reported, and left out of the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import expect, sync_playwright

from clients.config import ClientConfig
from clients.local_app import local_config
from clients.session import Session, sign_in, sign_up
from clients.web import serve_pages
from clients.web.chromium import launch_chromium
from iotstream_lambdas.streaming.wire import End, decode_event, event_text, response_filter
from localcore.functions import FunctionSettings
from localcore.testing import RunningLocalcore

PASSWORD = "Passw0rd!-bench"
QUESTIONS = [
    "What is MQTT?",
    "Explain in two sentences why streaming an answer feels faster than waiting for all of it.",
    "Name three uses of a message broker.",
    "What does a WebSocket add to HTTP?",
    "Why do answers arrive in pieces?",
]
TIMEOUT_MS = 240_000
# The page records, per answer, when its first text and its end were shown (epoch ms).
OBSERVER = """() => {
  window.__bench = {};
  new MutationObserver(() => {
    for (const li of document.querySelectorAll("#transcript li.answer")) {
      const seen = (window.__bench[li.dataset.rid] ??= {});
      if (seen.first === undefined && li.querySelector(".text").textContent) seen.first = Date.now();
      if (seen.end === undefined && li.dataset.state === "done") seen.end = Date.now();
    }
  }).observe(document.querySelector("#transcript"), {subtree: true, childList: true, characterData: true,
                                                      attributes: true});
}"""


@dataclass
class Sample:
    question: int
    tokens: int
    page_ttft_ms: float
    paho_ttft_ms: float
    model_ttft_ms: float
    page_tokens_per_s: float
    paho_tokens_per_s: float
    model_tokens_per_s: float


class PahoReference:
    """The same identity's answers through paho (the Python client's transport): first-text and end times."""

    def __init__(self, session: Session) -> None:
        self.lock = threading.Lock()
        self.first: dict[str, float] = {}
        self.ends: dict[str, tuple[float, End]] = {}
        subscribed = threading.Event()
        self.client = session.paho_client(f"bench-{uuid.uuid4().hex[:6]}")
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *args: subscribed.set()
        self.client.on_connect = lambda client, *args: client.subscribe(
            response_filter(session.identity_id), 1
        )
        self.client.connect(session.config.mqtt_host, session.config.mqtt_port)
        self.client.loop_start()
        if not subscribed.wait(20):
            raise RuntimeError("the paho reference did not subscribe")

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        now = time.time() * 1000
        event = decode_event(message.payload)
        with self.lock:
            if event_text(event):
                self.first.setdefault(event.rid, now)
            if isinstance(event, End):
                self.ends[event.rid] = (now, event)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def rate(tokens: int, first_ms: float, end_ms: float) -> float:
    return (tokens - 1) / ((end_ms - first_ms) / 1000) if end_ms > first_ms and tokens > 1 else float("nan")


def open_dashboard(browser: Any, running: RunningLocalcore) -> Any:
    """A dashboard page signed in as a member of the `dashboard` group (added with the admin's credentials)."""
    config = ClientConfig.from_localcore(running.endpoints)
    username = f"dash-{uuid.uuid4().hex[:8]}"
    sign_up(config, username, PASSWORD, f"{username}@example.com")
    running.client("cognito-idp").admin_add_user_to_group(
        UserPoolId=config.user_pool_id, Username=username, GroupName="dashboard"
    )
    page = browser.new_page(viewport={"width": 1100, "height": 560})
    page.goto(running.url + "/dashboard")
    page.fill("#signin-username", username)
    page.fill("#signin-password", PASSWORD)
    page.click("#signin-submit")
    expect(page.locator("#link-state")).to_have_attribute("data-state", "connected", timeout=30_000)
    return page


def run(count: int, screenshots: Path | None = None) -> list[Sample]:
    running = RunningLocalcore(
        local_config(functions=FunctionSettings(environment={"LLM_PROVIDER": "local"}))
    )
    serve_pages(running.core)
    samples: list[Sample] = []
    with running, sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        dashboard = open_dashboard(browser, running) if screenshots else None
        page = browser.new_page(viewport={"width": 1100, "height": 720})
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(running.url + "/")
        username = f"bench-{uuid.uuid4().hex[:8]}"
        page.fill("#signin-username", username)
        page.fill("#signin-password", PASSWORD)
        page.fill("#signin-email", f"{username}@example.com")
        page.click("#signup-submit")
        expect(page.locator("#link-state")).to_have_attribute("data-state", "connected", timeout=30_000)
        reference = PahoReference(sign_in(ClientConfig.from_localcore(running.endpoints), username, PASSWORD))
        page.evaluate(OBSERVER)
        try:
            for index in range(count):
                page.click("#new-conversation")  # no history: every question is prefilled alike
                sent = time.time() * 1000
                page.fill("#prompt", QUESTIONS[index % len(QUESTIONS)])
                page.click("#send")
                answer = page.locator("#transcript li.answer").last
                if dashboard is not None and screenshots is not None and index == count - 1:
                    expect(answer).to_have_attribute("data-state", "streaming", timeout=TIMEOUT_MS)
                    dashboard.screenshot(path=str(screenshots / "web-dashboard.png"))
                expect(answer).to_have_attribute("data-state", "done", timeout=TIMEOUT_MS)
                rid = answer.get_attribute("data-rid") or ""
                shown = page.evaluate(f"window.__bench[{json.dumps(rid)}]")
                with reference.lock:
                    paho_first = reference.first[rid]
                    paho_end, end = reference.ends[rid]
                tokens = int(end.metrics.get("tokens", end.usage.output_tokens))
                model_ttft = float(end.metrics.get("ttft_ms", float("nan")))
                model_duration = float(end.metrics.get("duration_ms", float("nan")))
                samples.append(
                    Sample(
                        question=index + 1,
                        tokens=tokens,
                        page_ttft_ms=shown["first"] - sent,
                        paho_ttft_ms=paho_first - sent,
                        model_ttft_ms=model_ttft,
                        page_tokens_per_s=rate(tokens, shown["first"], shown["end"]),
                        paho_tokens_per_s=rate(tokens, paho_first, paho_end),
                        model_tokens_per_s=rate(tokens, model_ttft, model_duration),
                    )
                )
            if screenshots is not None:
                page.screenshot(path=str(screenshots / "web-chat.png"))
        finally:
            reference.close()
            browser.close()
    return samples


def table(samples: list[Sample]) -> str:
    lines = [
        "Embedded model (SmolLM2-135M, llama.cpp) through localcore; times from clicking Send.",
        "",
        "| # | tokens | page ttft ms | paho ttft ms | model ttft ms | page tok/s | paho tok/s | model tok/s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in samples:
        lines.append(
            f"| {s.question}{' (cold)' if s.question == 1 else ''} | {s.tokens} | {s.page_ttft_ms:.0f} | "
            f"{s.paho_ttft_ms:.0f} | {s.model_ttft_ms:.0f} | {s.page_tokens_per_s:.1f} | "
            f"{s.paho_tokens_per_s:.1f} | {s.model_tokens_per_s:.1f} |"
        )
    warm = samples[1:] or samples

    def median(name: str) -> float:
        return float(statistics.median(getattr(s, name) for s in warm))

    lines += [
        "",
        f"warm medians ({len(warm)} answers): page ttft {median('page_ttft_ms'):.0f} ms "
        f"(x{median('page_ttft_ms') / median('paho_ttft_ms'):.2f} of paho's), page {median('page_tokens_per_s'):.1f} "
        f"tokens/s (x{median('page_tokens_per_s') / median('paho_tokens_per_s'):.2f} of paho's, "
        f"x{median('page_tokens_per_s') / median('model_tokens_per_s'):.2f} of the model's)",
    ]
    return "\n".join(lines)


def plot(samples: list[Sample], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    xs = [s.question for s in samples]
    width = 0.27
    for offset, (name, label) in enumerate(
        (("page", "Chromium page"), ("paho", "paho (Python)"), ("model", "model"))
    ):
        shifted = [x + (offset - 1) * width for x in xs]
        left.bar(shifted, [getattr(s, f"{name}_ttft_ms") for s in samples], width, label=label)
        right.bar(shifted, [getattr(s, f"{name}_tokens_per_s") for s in samples], width, label=label)
    left.set(xlabel="question (1 = cold start)", ylabel="time to first token (ms)", yscale="log")
    right.set(xlabel="question (1 = cold start)", ylabel="tokens/s")
    for axis in (left, right):
        axis.set_xticks(xs)
        axis.legend(fontsize=8)
    figure.suptitle("iotstream: the browser's view of the embedded model")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--questions", type=int, default=4, help="answers to measure (at most 10)")
    parser.add_argument("--plot", type=Path, default=Path(__file__).parent / "results" / "web.png")
    parser.add_argument("--json", type=Path, default=None, help="also write the samples as JSON")
    parser.add_argument(
        "--screenshots", type=Path, default=None, help="save both pages as PNG in this folder"
    )
    args = parser.parse_args(argv)
    samples = run(max(1, min(args.questions, 10)), args.screenshots)
    print(table(samples))
    plot(samples, args.plot)
    print(f"\nplot: {args.plot}")
    if args.json is not None:
        args.json.write_text(json.dumps([asdict(s) for s in samples], indent=2))


if __name__ == "__main__":
    main()
