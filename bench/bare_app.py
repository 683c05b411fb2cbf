"""The baselines of the ingest benchmark on the same server: a bare Flask view answering
204, and a plain WSGI callable answering 204."""

from collections.abc import Callable
from typing import Any

from flask import Flask, Response

app = Flask(__name__)


@app.post("/api/event")
def event() -> Response:
    return Response(status=204)


def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
    """A plain WSGI callable answering 204: the yardstick for the hit endpoints, which
    are answered in front of Flask's dispatch (`--wsgi-baseline`)."""
    environ["wsgi.input"].read()
    start_response("204 No Content", [])
    return []
