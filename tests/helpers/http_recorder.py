"""A real HTTP server on a free local port that records every request and answers
as the test scripts it (status, JSON body, headers): a stand-in SMS provider or
push service that tests can read back and make fail."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: dict | str | bytes | None = None
    headers: dict = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a hanging provider)


class HttpRecorder:
    def __init__(self):
        self.requests: list[Received] = []
        self.script: list[Answer] = []  # answered in order; then `default`
        self.default = Answer()
        self.respond = None  # optional callable(Received) -> Answer, after the script
        self.lock = threading.Lock()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                got = Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                               self.rfile.read(length) if length else b"")
                with recorder.lock:
                    recorder.requests.append(got)
                    answer = (recorder.script.pop(0) if recorder.script
                              else recorder.respond(got) if recorder.respond else recorder.default)
                if answer.delay:
                    threading.Event().wait(answer.delay)
                body = answer.body
                if isinstance(body, (dict, list)):
                    body = json.dumps(body).encode()
                elif isinstance(body, str):
                    body = body.encode()
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body or b"")))
                self.end_headers()
                if body:
                    self.wfile.write(body)

            do_POST = do_GET = do_PUT = do_DELETE = _handle

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> HttpRecorder:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
