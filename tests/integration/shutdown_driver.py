"""A real interview that never ends, for the shutdown test: it prints `phase NAME` as it enters each phase.

Phases: `ready` (engine and model server up), `idle` (between turns), `turn` (a reply is being worded), `restart`
(the model server was killed; the next reply restarts it), `feedback` (the final feedback is being worded).
Run as: python -m tests.integration.shutdown_driver DATA_DIR MODEL_PATH
"""

from __future__ import annotations

import os
import signal
import sys
import time

from app.container import Container
from app.settings import load_settings

SCENARIO = "video-recommendation-feed"
ANSWERS = [
    "The goal is to keep viewers watching longer, measured by weekly watch time per user.",
    "Inputs are the user's history and candidate videos; the output is a ranked list within 200 ms.",
]


def phase(name: str, detail: object = "") -> None:
    print(f"phase {name} {detail}".strip(), flush=True)


def main() -> None:
    settings = load_settings(data_dir=sys.argv[1], model_path=sys.argv[2], max_tokens=64, temperature=0.0)
    container = Container(settings)
    container.lifecycle.install_signal_handlers()
    try:
        engine = container.start(container.build_llm)
        server = container.lifecycle.servers[0]
        phase("ready", server.pid)
        while True:
            session_id, _ = engine.start("mock", scenario_id=SCENARIO)
            phase("idle")
            time.sleep(0.5)
            phase("turn")
            engine.respond(session_id, ANSWERS[0])
            os.kill(server.pid or 0, signal.SIGKILL)  # the next turn finds it dead and restarts it
            phase("restart")
            engine.respond(session_id, ANSWERS[1])
            phase("feedback")
            engine.end(session_id, narrative=True)
    finally:
        container.close()


if __name__ == "__main__":
    main()
