"""pytest glue: the harness fixtures, a hard time bound per test, no stray processes."""

import atexit
import signal

import pytest

from harness import kill_all_live, kill_node_procs, relay, relay_factory  # noqa: F401 (fixtures)

TEST_TIME_LIMIT_S = 200


class TimeLimitExceeded(Exception):
    pass


@pytest.fixture(autouse=True)
def time_limit():
    """Every test is bounded: SIGALRM raises in the main thread after TEST_TIME_LIMIT_S."""
    def expired(signum, frame):
        raise TimeLimitExceeded(f"test exceeded {TEST_TIME_LIMIT_S}s")
    old = signal.signal(signal.SIGALRM, expired)
    signal.alarm(TEST_TIME_LIMIT_S)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


atexit.register(kill_all_live)
atexit.register(kill_node_procs)
