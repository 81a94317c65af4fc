"""A TCP proxy that a test puts between a server process and a service, to cut
the service off for real (as a network partition or a crashed host would) and
bring it back on the same address.

    proxy = TcpProxy(upstream=("127.0.0.1", 5432)).start()
    ... point the server at proxy.port ...
    proxy.cut()       # refuse new connections and drop every open one
    proxy.restore()   # listen again on the same port

Threads rather than asyncio: the proxy keeps working whatever the test's event
loop is doing (a blocking call, or no loop at all).
"""

import contextlib
import socket
import threading

HOST = "127.0.0.1"
BUFFER_BYTES = 64 * 1024


class TcpProxy:
    def __init__(self, *, upstream, port=0):
        self.upstream = upstream
        self.port = port
        self._listener = None
        self._lock = threading.Lock()
        self._sockets = set()  # every open client and upstream socket

    def start(self):
        """Listen (on a free port the first time, on the same one after a cut)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((HOST, self.port))
        listener.listen(64)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True, name="proxy-accept").start()
        return self

    restore = start

    def cut(self):
        """Stop accepting (new connections are refused) and close every open one."""
        listener, self._listener = self._listener, None
        if listener is not None:
            _close(listener)
        with self._lock:
            open_sockets, self._sockets = self._sockets, set()
        for sock in open_sockets:
            _close(sock)

    stop = cut

    @property
    def open_connections(self):
        with self._lock:
            return len(self._sockets) // 2

    def _accept(self, listener):
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed by cut()
            try:
                server = socket.create_connection(self.upstream, timeout=5)
                server.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._listener is not listener:  # cut while connecting
                    _close(client)
                    _close(server)
                    return
                self._sockets.update((client, server))
            for source, target in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(source, target), daemon=True).start()

    def _pump(self, source, target):
        """Copy bytes one way until either side closes; then close both."""
        try:
            while data := source.recv(BUFFER_BYTES):
                target.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets.difference_update((source, target))
            _close(source)
            _close(target)


def _close(sock):
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
