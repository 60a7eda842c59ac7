"""A "recorded OpenRouter": a local server that answers the conform plan with real captures.

Every answer comes from a file in ``recorded/`` holding a body (and headers) captured from the
real API in 2026, with its source. It stands in for the real API where there is no key and no
network: ``orwidgets conform`` against it says what today's emulator lacks compared with
OpenRouter's answers of 2026-10, as recorded (not a live run).

Run it to print that report (the README's findings come from it)::

    .venv/bin/python tests/conform/recorded_openrouter.py [--policy 2025-07] [--json]

Under ``current`` it finds only the differences listed in :data:`DELIBERATE`.
"""

from __future__ import annotations

import json
import pathlib
import sys
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

CAPTURES = pathlib.Path(__file__).resolve().parent / "recorded"
#: Any key is accepted: the captures are of one account.
RECORDED_KEY = "sk-or-v1-" + "0f" * 32
#: What the comparison runs: the whole plan and ``GET /credits``, against today's policy.
RECORDED_ARGS = ("--policy", "current", "--credits", "--max-calls", "7")

#: Every difference the recorded comparison finds, and why the emulator keeps it: (probe id,
#: kind, path) -> the reason. The README's findings list them; ``test_conform_recorded`` fails
#: when the comparison finds one more (a gap reopened) or one fewer (update this and the README).
DELIBERATE: dict[tuple[str, str, str | None], str] = {
    ("credits", "status", None): (
        "GET /credits with an ordinary key answered 200 on 2026-10-02; the emulator answers 403 "
        "from 2025-07 on, as the OpenAPI spec says (observations disagree with each other: "
        "openrouter-facts.md section 4, conflict 4)"
    ),
}


def capture(name: str) -> dict[str, Any]:
    return json.loads((CAPTURES / f"{name}.json").read_text(encoding="utf-8"))


def _answer(name: str, **replace: str) -> Response:
    data = capture(name)
    text = json.dumps(data["body"], separators=(",", ":"), ensure_ascii=False)
    for old, new in replace.items():
        text = text.replace(json.dumps(old)[1:-1], json.dumps(new)[1:-1])
    return Response(text, status_code=data["status"], headers=data["headers"],
                    media_type="application/json")


def create_recorded_app() -> Starlette:
    """The app: ``/api/v1/models``, ``/key``, ``/credits``, ``/chat/completions``."""
    models = {m["id"] for m in capture("models")["body"]["data"]}

    def authorized(request: Request) -> bool:
        return request.headers.get("authorization", "").startswith("Bearer ")

    async def list_models(request: Request) -> Response:
        return _answer("models")

    async def key(request: Request) -> Response:
        return _answer("key") if authorized(request) else _answer("chat_no_key")

    async def credits(request: Request) -> Response:
        return _answer("credits") if authorized(request) else _answer("chat_no_key")

    async def chat(request: Request) -> Response:
        if not authorized(request):
            return _answer("chat_no_key")
        model = (await request.json()).get("model")
        if model not in models:
            # OpenRouter names the requested id in this message: so does the replay.
            return _answer("chat_unknown_model",
                           **{capture("chat_unknown_model")["model_in_message"]: str(model)})
        return _answer("chat_free" if str(model).endswith(":free") else "chat_paid")

    return Starlette(routes=[
        Route("/api/v1/models", list_models, methods=["GET"]),
        Route("/api/v1/key", key, methods=["GET"]),
        Route("/api/v1/credits", credits, methods=["GET"]),
        Route("/api/v1/chat/completions", chat, methods=["POST"]),
    ])


def main(argv: list[str]) -> int:
    from orwidgets.conform.cli import main as conform
    from orwidgets.emulator.server import BackgroundServer

    server = BackgroundServer(create_recorded_app()).start()
    try:
        return conform(["--base-url", server.base_url + "/api/v1", "--key", RECORDED_KEY,
                        *RECORDED_ARGS, *argv])
    finally:
        server.stop()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
