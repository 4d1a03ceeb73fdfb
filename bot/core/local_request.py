"""A python-telegram-bot request class that answers Bot API calls in-process from a LocalBotApi.

This is what lets ``partnerbot chat`` run the real Application, handlers and job queue with no token
and no network: only the transport is swapped.
"""

from __future__ import annotations

import json
from typing import Any

from telegram.request import BaseRequest, RequestData

from bot.core.local_api import LocalBotApi


class LocalRequest(BaseRequest):
    """Send every Bot API call to a :class:`LocalBotApi` instead of over HTTP."""

    def __init__(self, api: LocalBotApi) -> None:
        self.api = api

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        """Nothing to open: the API lives in this process."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None,
                         connect_timeout: Any = None, pool_timeout: Any = None) -> tuple[int, bytes]:
        api_method = url.rstrip("/").rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        files: dict[str, tuple[str, bytes]] = {}
        if request_data is not None and request_data.contains_files:
            for name, part in request_data.multipart_data.items():
                file_name, content = part[0], part[1]
                raw = content if isinstance(content, bytes) else content.read()
                files[name] = (str(file_name), raw)
        envelope = self.api.call(api_method, params, files)
        status = 200 if envelope.get("ok") else int(envelope.get("error_code", 400))
        return status, json.dumps(envelope).encode("utf-8")
