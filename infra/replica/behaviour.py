"""What a fault injector sees of an exchange: the ``Request``, and the ``Behaviour`` hook that may
replace the response or the way its bytes are sent (``faults`` subclasses it)."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from io import BufferedIOBase

from infra.replica.response import Response


@dataclass(frozen=True, slots=True)
class Request:
    """What a ``Behaviour`` sees of a request."""

    method: str
    target: str
    headers: Message
    base: str


class Behaviour:
    """Per-request hook for fault injection; the default serves every request faithfully.

    ``respond`` may replace the response (status, body, headers); ``send`` writes the encoded head
    and body and may truncate, delay or reset. ``faults.FaultBehaviour`` is the one that fails.
    """

    def respond(self, request: Request, response: Response) -> Response:
        return response

    def send(self, request: Request, wfile: BufferedIOBase, head: bytes, body: bytes) -> None:
        wfile.write(head + body)
