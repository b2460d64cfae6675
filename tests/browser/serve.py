"""A fork server for the browser tests: it imports Reserve once, then, for each line
``<port> <log file> <database url>`` on stdin, forks a child that serves a new app on that
database (Werkzeug, one thread, no reloader: what ``flask run --no-reload --without-threads``
does) and answers the child's pid on stdout. A fresh server per test then costs a fork and an
app factory, not a new interpreter importing everything (seconds on a loaded machine).

No connection is open when it forks: the warm-up app only creates its engine, lazily."""

from __future__ import annotations

import os
import signal
import sys


def _serve(port: int, log_path: str, url: str) -> None:
    log = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(0)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    os.environ["DATABASE_URL"] = url
    from werkzeug.serving import run_simple

    from reserve import create_app

    run_simple("127.0.0.1", port, create_app(), threaded=False, use_reloader=False)


def main() -> None:
    from reserve import create_app

    create_app()  # every import, template loader and the database driver, once
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the kernel
    for line in sys.stdin:
        port, log_path, url = line.split(maxsplit=2)
        pid = os.fork()
        if pid == 0:
            try:
                _serve(int(port), log_path, url.strip())
            finally:
                os._exit(1)
        print(pid, flush=True)


if __name__ == "__main__":
    main()
