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
from typing import Any

from local_stack.procs import watch_stdin_then_exit


def _patch_moto() -> None:
    """Mend where moto differs from AWS in ways the local stack meets."""
    from local_stack.moto_patches import make_dynamodb_atomic, make_sqs_visibility_per_receive

    make_dynamodb_atomic()
    make_sqs_visibility_per_receive()
    # moto's CloudFormation Ref of AWS::Events::EventBus returns the model object, not its name.
    from moto.events.models import EventBus

    if "physical_resource_id" not in vars(EventBus):
        EventBus.physical_resource_id = property(lambda self: self.name)  # type: ignore[attr-defined]

    # A browser's CORS preflight (OPTIONS) to a presigned object URL carries no signature: moto checks it
    # as a signed request and answers 403, where S3 answers from the bucket's CORS rules.
    from moto.s3.responses import S3Response

    key_response = S3Response._key_response
    if getattr(key_response, "_preflight_patched", False):
        return

    def _key_response(self: Any, request: Any, full_url: str) -> Any:
        if request.method == "OPTIONS":
            return self._response_options(request.headers, self.parse_bucket_name_from_url(request, full_url))
        return key_response(self, request, full_url)

    _key_response._preflight_patched = True  # type: ignore[attr-defined]
    S3Response._key_response = _key_response  # type: ignore[method-assign]


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
