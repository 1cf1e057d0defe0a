"""A throwaway reference server from ``conformance/serve.mjs`` for the integration tests."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import List, Mapping, Optional

REPO_ROOT = Path(__file__).resolve().parents[4]
SCENARIOS_DIR = REPO_ROOT / "conformance" / "scenarios"


@dataclass
class LiveServer:
    base_url: str
    token: str
    """The instance-admin token."""
    process: Optional[subprocess.Popen[str]] = None

    def stop(self) -> None:
        if self.process is None:
            return
        # serve.mjs stops the server and removes its data when its stdin closes.
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_server(env: Optional[Mapping[str, str]] = None) -> LiveServer:
    """``env`` adds server settings (``--env NAME=VALUE``), e.g.
    ``{"MANDATE_EVENT_STREAM_MAX_SECONDS": "1"}``."""
    settings: List[str] = []
    for name, value in (env or {}).items():
        settings += ["--env", f"{name}={value}"]
    process = subprocess.Popen(
        ["node", str(REPO_ROOT / "conformance" / "serve.mjs"), *settings],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=10)
        raise RuntimeError(f"conformance/serve.mjs exited with {process.returncode}")
    info = json.loads(line)
    return LiveServer(base_url=info["baseURL"], token=info["token"], process=process)
