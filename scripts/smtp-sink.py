#!/usr/bin/env python3
"""A real SMTP server for the tests (aiosmtpd, from scripts/test-python.sh's venv).

    smtp-sink.py --maildir DIR [--port 0] [--fail-first N] [--fail-code 451]

Listens on 127.0.0.1 (port 0: a free one), prints one line `PORT <n>` on stdout once it
accepts connections, and serves until SIGTERM or SIGINT. Plain SMTP: no TLS, no AUTH
(what `smtp://127.0.0.1:<n>?tls=none` speaks). Each accepted message becomes
DIR/<seq:06d>.json, written whole (a temporary file, then renamed):

    {"mail_from": "...", "rcpt_tos": ["..."], "data": "<the raw message>", "received_at": 1.5e9}

`--fail-first N` answers the first N DATA commands with `--fail-code` (451: "try again
later") and stores nothing, for retry tests.
"""

import argparse
import asyncio
import json
import os
import re
import signal
import sys
import time

from aiosmtpd.smtp import SMTP

JSON_NAME = re.compile(r"^(\d{6,})\.json$")


class Sink:
    def __init__(self, maildir: str, fail_first: int, fail_code: int):
        self.maildir = maildir
        self.fail_left = fail_first
        self.fail_code = fail_code
        # Go on after what a reused folder holds already.
        self.seq = max(
            (int(m.group(1)) for m in map(JSON_NAME.match, os.listdir(maildir)) if m),
            default=0,
        )

    def refusal(self) -> str:
        cls = str(self.fail_code)[0]
        if cls == "4":
            return f"{self.fail_code} 4.3.0 try again later"
        return f"{self.fail_code} {cls}.3.0 refused by the test sink"

    async def handle_DATA(self, server, session, envelope):
        if self.fail_left > 0:
            self.fail_left -= 1
            print(f"smtp-sink: refused a message ({self.fail_left} more to refuse)", file=sys.stderr, flush=True)
            return self.refusal()
        raw = envelope.content
        if isinstance(raw, str):  # only with decode_data=True, which is not used
            text = raw
        else:
            text = bytes(raw).decode("utf-8", errors="replace")
        mail_from = envelope.mail_from
        if isinstance(mail_from, bytes):
            mail_from = mail_from.decode("utf-8", errors="replace")
        rcpt_tos = [r.decode("utf-8", errors="replace") if isinstance(r, bytes) else r for r in envelope.rcpt_tos]
        self.seq += 1
        name = f"{self.seq:06d}.json"
        record = {
            "mail_from": mail_from,
            "rcpt_tos": rcpt_tos,
            "data": text,
            "received_at": time.time(),
        }
        tmp = os.path.join(self.maildir, f".{name}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, os.path.join(self.maildir, name))
        print(f"smtp-sink: {name} from {mail_from} to {', '.join(rcpt_tos)}", file=sys.stderr, flush=True)
        return "250 2.0.0 OK"


async def serve(args) -> None:
    loop = asyncio.get_running_loop()
    sink = Sink(args.maildir, args.fail_first, args.fail_code)

    def factory():
        # hostname given: aiosmtpd would otherwise ask for the FQDN, which can be slow.
        return SMTP(
            sink,
            hostname="localhost",
            decode_data=False,
            enable_SMTPUTF8=True,
            data_size_limit=64 * 1024 * 1024,
            timeout=60,
        )

    server = await loop.create_server(factory, host="127.0.0.1", port=args.port)
    port = server.sockets[0].getsockname()[1]
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    sys.stdout.write(f"PORT {port}\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        server.close()
        try:
            await asyncio.wait_for(server.wait_closed(), timeout=2)
        except (asyncio.TimeoutError, Exception):
            pass


def main() -> int:
    p = argparse.ArgumentParser(description="An SMTP server for tests that keeps each message as JSON.")
    p.add_argument("--maildir", required=True, help="where the messages go (made if missing)")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1; 0 picks a free one")
    p.add_argument("--fail-first", type=int, default=0, metavar="N", help="refuse the first N messages at DATA")
    p.add_argument("--fail-code", type=int, default=451, help="the reply code for refused messages (default 451)")
    args = p.parse_args()
    if not 400 <= args.fail_code <= 599:
        p.error("--fail-code must be a 4xx or 5xx code")
    if args.fail_first < 0:
        p.error("--fail-first must be 0 or more")
    os.makedirs(args.maildir, exist_ok=True)
    try:
        asyncio.run(serve(args))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
