"""Start localstripe bound to 127.0.0.1 with its state in a file of our choosing.

localstripe's own command listens on every interface and keeps its state in one fixed file
in the system temp directory, shared by every run on the machine. This wrapper runs the same
aiohttp app on loopback only, and loads and saves its state at `--state` (so a test can stop
the emulator and start it again with the same intents). It runs with the interpreter of
.venv-stripe (see requirements-localstripe.txt), not the app's.

    .venv-stripe/bin/python tests/payments/localstripe_server.py --port 8420 --state /tmp/x.pickle
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", required=True, help="where the emulator keeps its objects")
    args = parser.parse_args()

    from aiohttp import web
    from localstripe import resources
    from localstripe.server import app

    state = os.path.abspath(args.state)

    def load(store) -> None:
        try:
            with open(state, "rb") as file:
                saved = pickle.load(file)  # our own file, written below
        except FileNotFoundError:
            return
        store.clear()
        store.update(saved)

    def dump(store) -> None:
        # Written whole then renamed: stopping the emulator never leaves half a file.
        partial = f"{state}.partial"
        with open(partial, "wb") as file:
            pickle.dump(dict(store), file, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, state)

    # Stripe's refunds can fail after they succeeded (`pm_card_refundFail`); localstripe's
    # cannot. Give them Stripe's `failure_reason` (so a test can fail one with the update
    # API, `status=failed`), and count only the refunds that stand in a charge's
    # `amount_refunded`, as Stripe does.
    resources.Refund.failure_reason = None
    resources.Charge.amount_refunded = property(
        lambda charge: sum(r.amount for r in charge.refunds._list if r.status != "failed")
    )
    resources.Store.try_load_from_disk = load
    resources.Store.dump_to_disk = dump
    load(resources.store)
    print(f"localstripe on http://127.0.0.1:{args.port} (state {state})", file=sys.stderr)
    web.run_app(app, host="127.0.0.1", port=args.port, access_log=None, print=None)


if __name__ == "__main__":
    main()
