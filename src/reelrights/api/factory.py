"""The application factory uvicorn's worker processes call: ``reelrights.api.factory:from_env``.

``reelrights serve`` puts its :class:`~.app.ServiceConfig` in the environment variable
``REELRIGHTS_SERVE_CONFIG`` (JSON) before it starts uvicorn, so every worker process (spawned,
with ``--workers N``) builds the same application.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from .app import ServiceConfig, create_app

__all__ = ["ENV", "config_from_json", "config_to_json", "from_env"]

ENV = "REELRIGHTS_SERVE_CONFIG"


def config_to_json(config: ServiceConfig) -> str:
    data = asdict(config)
    data["home"] = str(config.home)
    return json.dumps(data, sort_keys=True)


def config_from_json(text: str) -> ServiceConfig:
    data: dict[str, Any] = json.loads(text)
    known = {f.name for f in fields(ServiceConfig)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ValueError(f"{ENV}: unknown settings {', '.join(unknown)}")
    data["home"] = Path(data["home"])
    return ServiceConfig(**data)


def from_env() -> Starlette:
    """The application for the configuration in ``REELRIGHTS_SERVE_CONFIG``."""
    text = os.environ.get(ENV)
    if not text:
        raise RuntimeError(f"{ENV} is not set; start the service with `reelrights serve`")
    return create_app(config_from_json(text))
