# moto's server, as `moto_server -H 127.0.0.1 -p PORT` runs it, with one difference: DynamoDB
# requests are served one at a time. DynamoDB applies each write to an item atomically, so of
# two racing conditional writes exactly one succeeds; moto's DynamoDB backend takes no lock and
# its server is threaded, so both can (seen: two winners of one `attribute_not_exists` race).
# SQS and Secrets Manager stay concurrent (SQS long polls must not hold up other requests).
import os
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple

port = int(sys.argv[1])
os.environ.setdefault("MOTO_PORT", str(port))
app = DomainDispatcherApplication(create_backend_app)
dynamodb = threading.Lock()


def serve(environ, start_response):
    if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
        with dynamodb:
            return list(app(environ, start_response))
    return app(environ, start_response)


run_simple("127.0.0.1", port, serve, threaded=True, request_handler=MotoRequestHandler)
