#!/usr/bin/env python3
"""Cold start of the Lambda authorizer example: process start to first answer.

Builds the release binaries, runs `load_issuer` (a test issuer serving its
JWKS on 127.0.0.1), serves a Lambda Runtime API on 127.0.0.1 that hands out
one REST TOKEN event, then starts `lambda_authorizer` RUNS times and times
each run from the process's spawn to the moment its answer arrives. The
binary fetches its keys from the loopback issuer in its init phase
(`Verifier::fetch_keys`), so the figure holds the whole cold path: process
start, runtime setup, one JWKS fetch, one signature check, one answer.

    python3 scripts/cold_start.py            # RUNS=30 by default

Prints the median, the 10th and 90th percentiles, and the binary's size.
Only 127.0.0.1 is contacted.
"""

import http.server
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("RUNS", "30"))
TARGET = pathlib.Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))


class RuntimeApi(http.server.BaseHTTPRequestHandler):
    """One invocation per process: the first `next` gets the event; later ones wait."""

    event = b""
    answered = threading.Event()
    answer = b""
    handed_out = False

    def log_message(self, *args):
        pass

    def do_GET(self):
        if not self.path.endswith("/invocation/next"):
            self.send_error(404)
            return
        if RuntimeApi.handed_out:
            # The binary's second poll: hold it until the run is over.
            RuntimeApi.answered.wait(30)
            return
        RuntimeApi.handed_out = True
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Lambda-Runtime-Aws-Request-Id", "cold-start")
        self.send_header("Lambda-Runtime-Deadline-Ms", str(int(time.time() * 1000) + 30000))
        self.send_header(
            "Lambda-Runtime-Invoked-Function-Arn",
            "arn:aws:lambda:us-east-1:123456789012:function:authorizer",
        )
        self.send_header("Content-Length", str(len(RuntimeApi.event)))
        self.end_headers()
        self.wfile.write(RuntimeApi.event)

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()
        if "/response" in self.path or "/error" in self.path:
            RuntimeApi.answer = body
            RuntimeApi.answered.set()


def build():
    subprocess.run(
        [
            "cargo", "build", "--release", "--all-features",
            "--example", "lambda_authorizer", "--example", "load_issuer",
        ],
        cwd=ROOT,
        check=True,
    )
    return TARGET / "release" / "examples"


def start_issuer(examples, tokens_dir):
    env = dict(os.environ, ISSUER_PORT="0", TOKENS_DIR=tokens_dir, DISTINCT="1", FLOOD="0")
    issuer = subprocess.Popen(
        [examples / "load_issuer"], env=env, stdout=subprocess.PIPE, text=True
    )
    line = issuer.stdout.readline().split()
    if len(line) != 2 or line[0] != "ready":
        sys.exit(f"load_issuer did not start: {line}")
    token = (pathlib.Path(tokens_dir) / "one.txt").read_text().split()[0]
    return issuer, line[1], token


def one_run(binary, iss):
    # A Runtime API of its own per run, so that no poll of an earlier
    # process can take this run's event.
    RuntimeApi.handed_out = False
    RuntimeApi.answered = threading.Event()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), RuntimeApi)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    api_port = server.server_address[1]
    env = dict(
        os.environ,
        NO_PROXY="127.0.0.1,localhost",
        AWS_LAMBDA_RUNTIME_API=f"127.0.0.1:{api_port}",
        AWS_LAMBDA_FUNCTION_NAME="authorizer",
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE="128",
        AWS_LAMBDA_FUNCTION_VERSION="$LATEST",
        AWS_LAMBDA_LOG_STREAM_NAME="cold-start",
        AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/cold-start",
        AUTHORIZER_ISSUER=iss,
        AUTHORIZER_JWKS_URL=f"{iss}/jwks.json",
        AUTHORIZER_AUDIENCE="authorizer-test",
    )
    start = time.perf_counter()
    process = subprocess.Popen([binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    answered = RuntimeApi.answered.wait(30)
    elapsed = time.perf_counter() - start
    process.kill()
    process.wait()
    server.shutdown()
    server.server_close()
    if not answered:
        sys.exit("no answer within 30 s: " + process.stderr.read().decode(errors="replace")[-2000:])
    answer = json.loads(RuntimeApi.answer)
    effect = answer["policyDocument"]["Statement"][0]["Effect"]
    if effect != "Allow":
        sys.exit(f"expected an Allow, got {answer}")
    return elapsed


def main():
    examples = build()
    binary = examples / "lambda_authorizer"
    with tempfile.TemporaryDirectory() as tokens_dir:
        issuer, iss, token = start_issuer(examples, tokens_dir)
        try:
            fixture = (ROOT / "tests" / "fixtures" / "authorizer_token.json").read_text()
            RuntimeApi.event = fixture.replace("{{TOKEN}}", token).encode()
            times = sorted(one_run(binary, iss) for _ in range(RUNS))
        finally:
            issuer.kill()
    ms = [t * 1000 for t in times]
    deciles = statistics.quantiles(ms, n=10)
    size = binary.stat().st_size
    print(f"lambda_authorizer cold start, {RUNS} runs: median {statistics.median(ms):.1f} ms, "
          f"p10 {deciles[0]:.1f} ms, p90 {deciles[-1]:.1f} ms")
    print(f"release binary: {size / 1e6:.1f} MB ({size} bytes), unstripped")


if __name__ == "__main__":
    main()
