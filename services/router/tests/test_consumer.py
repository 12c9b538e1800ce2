"""The router's consumer outlives a broker connection lost between delivery and ack.

Run in a child process: nameko pulls in eventlet, which stays out of the test run's own
process (see the STACK notes).
"""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]

SCRIPT = textwrap.dedent(
    """
    from types import SimpleNamespace

    from services.router.consumer import BrokerLossTolerantConsumer

    def fail(error):
        def raising():
            raise error
        return raising

    # The broker crashed after the delivery: the channel still looks open, the socket is gone.
    message = SimpleNamespace(
        channel=SimpleNamespace(connection=object()),
        ack=fail(ConnectionResetError(104, "Connection reset by peer")),
        requeue=fail(BrokenPipeError(32, "Broken pipe")),
    )
    consumer = BrokerLossTolerantConsumer.__new__(BrokerLossTolerantConsumer)
    consumer.ack_message(message)
    consumer.requeue_message(message)
    print("survived")
    """
)


def test_a_lost_ack_or_requeue_does_not_kill_the_consumer():
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "survived"
