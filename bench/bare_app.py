"""The baseline of the ingest benchmark: the same server, a bare Flask view answering 204."""

from flask import Flask, Response

app = Flask(__name__)


@app.post("/api/event")
def event() -> Response:
    return Response(status=204)
