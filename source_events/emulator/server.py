"""The emulator over real HTTP: a threaded server on 127.0.0.1 (ephemeral port by default).

    with EmulatorServer(flameup=FlameupApi(...), bem=BemApi(...)) as server:
        server.flameup_base_url  # http://127.0.0.1:PORT/api/v1
        server.bem_base_url      # http://127.0.0.1:PORT/v1-alpha
        server.request_count
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional
from urllib.parse import parse_qs, urlsplit

from source_events.emulator.bem import BemApi
from source_events.emulator.flameup import FlameupApi
from source_events.emulator.responses import ApiResponse

FLAMEUP_PREFIX = "/api/v1"
BEM_PREFIX = "/v1-alpha"


class EmulatorServer:
    def __init__(self, flameup: Optional[FlameupApi] = None, bem: Optional[BemApi] = None, port: int = 0) -> None:
        self.flameup = flameup
        self.bem = bem
        self._lock = threading.Lock()
        self.request_count = 0
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: Optional[threading.Thread] = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def flameup_base_url(self) -> str:
        return self.base_url + FLAMEUP_PREFIX

    @property
    def bem_base_url(self) -> str:
        return self.base_url + BEM_PREFIX

    def start(self) -> "EmulatorServer":
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="emulator", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> "EmulatorServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def route(self, path: str, query, headers) -> ApiResponse:
        with self._lock:
            self.request_count += 1
        if self.flameup and path.startswith(FLAMEUP_PREFIX + "/workspaces/"):
            return self.flameup.list_events(path[len(FLAMEUP_PREFIX) :], query, headers)
        if self.bem and path == BEM_PREFIX + "/events":
            return self.bem.list_events(path[len(BEM_PREFIX) :], query, headers)
        return ApiResponse(404, {"message": f"no route for {path}"})

    def _handler_class(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                url = urlsplit(self.path)
                response = server.route(url.path, parse_qs(url.query, keep_blank_values=True), self.headers)
                payload = json.dumps(response.body).encode()
                self.send_response(response.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in response.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args) -> None:  # keep the protocol's stdout clean
                pass

        return Handler
