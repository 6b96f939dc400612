/* SPDX-License-Identifier: MIT */
/* seed_example.c: the example of libdill's ws_send(3) page, the page this project started
 * from, built against wsrelay's engine. Only three things differ from the page:
 *  - the include line (ws/ws.h instead of libdill.h), plus assert.h/stdlib.h/string.h;
 *  - the address: 127.0.0.1 and a port from argv instead of www.example.org:80;
 *  - the page's two slips, put right as libdill.h declares the calls: flags is
 *    ws_attach_client's second argument, and ws_detach takes status, reason and length
 *    before the deadline.
 * It also asserts the echo, so it can run as a test against lib/examples/echo_server. */
#undef NDEBUG
#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <ws/ws.h>

int main(int argc, char** argv) {
  int port = argc > 1 ? atoi(argv[1]) : 8080;

  struct ipaddr addr;
  ipaddr_remote(&addr, "127.0.0.1", port, 0, -1);
  int s = tcp_connect(&addr, -1);
  s = ws_attach_client(s, WS_TEXT, "/", "127.0.0.1", -1);
  ws_send(s, WS_TEXT, "Hello, world!", 13, -1);
  int flags;
  char buf[256];
  ssize_t sz = ws_recv(s, &flags, buf, sizeof(buf), -1);
  assert(flags & WS_TEXT);
  s = ws_detach(s, 1000, NULL, 0, -1);
  tcp_close(s, -1);

  /* The echo came back whole, and the connection closed cleanly. */
  assert(sz == 13 && memcmp(buf, "Hello, world!", 13) == 0);
  assert(s >= 0);
  return 0;
}
