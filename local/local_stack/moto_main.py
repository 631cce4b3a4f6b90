"""`python -m local_stack.moto_main --port N`: moto's server in its own process.

Its own process, not a thread of the stack: moto's state is process-global, and tests that use
`mock_aws` in the same interpreter would reset it. Prints {"port": N} once listening.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading

from local_stack.procs import watch_stdin_then_exit


def _patch_moto() -> None:
    """moto's CloudFormation Ref of AWS::Events::EventBus returns the model object, not its name."""
    from moto.events.models import EventBus

    if "physical_resource_id" not in vars(EventBus):
        EventBus.physical_resource_id = property(lambda self: self.name)  # type: ignore[attr-defined]


def main(argv: list[str] | None = None) -> None:
    """Run moto's server on 127.0.0.1 until stdin closes."""
    parser = argparse.ArgumentParser(prog="local_stack.moto_main")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    if not args.verbose:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    _patch_moto()
    from moto.moto_server.threaded_moto_server import MotoRequestHandler
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    server = make_server(
        args.host,
        args.port,
        DomainDispatcherApplication(create_backend_app),
        threaded=True,
        request_handler=MotoRequestHandler,
    )
    sys.stdout.write(json.dumps({"port": server.server_port}) + "\n")
    sys.stdout.flush()
    watch_stdin_then_exit()
    # moto imports its CloudFormation backend (and with it every service) on the first request:
    # seconds of work, done here while the stack is still reading the template.
    threading.Thread(target=_warm_up, name="warm-up", daemon=True).start()
    server.serve_forever()


def _warm_up() -> None:
    import moto.cloudformation.models  # noqa: F401


if __name__ == "__main__":
    main()
