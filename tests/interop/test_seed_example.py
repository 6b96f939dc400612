"""The seed page's example (lib/examples/seed_example.c, libdill's ws_send(3) example with
its two slips corrected) runs against the engine's echo server: it connects, sends
"Hello, world!" as text, asserts the echo and its type, detaches and closes."""
from conftest import need, run


def test_seed_example_against_echo_server(echo_server):
    rc, lines = run([need("SEED_EXAMPLE"), str(echo_server.port)], timeout=60)
    assert rc == 0, lines
    # ws_detach(s, 1000, NULL, 0, -1) sent a normal closure; the server read it.
    echo_server.expect(r"close 1000 ")
