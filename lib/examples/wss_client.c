/* SPDX-License-Identifier: MIT */
/* wss_client: the engine's client over TLS, stacked as in libdill:
 * tcp_connect -> tls_attach_client -> ws_attach_client.
 *
 *   wss_client HOST PORT RESOURCE COUNT [MESSAGE...]
 *
 * Sends each MESSAGE as a text message, then receives COUNT messages and prints each on its
 * own line, then closes with 1000. The server certificate is verified for HOST against
 * $WSRELAY_CA_FILE (or the system store). Exit 0 on success; 1 with the failing call on stderr. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ws/ws.h>

static int die(const char* what) {
  fprintf(stderr, "wss_client: %s: %s\n", what, strerror(errno));
  return 1;
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: wss_client HOST PORT RESOURCE COUNT [MESSAGE...]\n");
    return 2;
  }
  const char* host = argv[1];
  int port = atoi(argv[2]);
  int count = atoi(argv[4]);
  int64_t deadline = now() + 10000;

  struct ipaddr addr;
  if (ipaddr_remote(&addr, host, port, 0, deadline) != 0) return die("ipaddr_remote");
  int s = tcp_connect(&addr, deadline);
  if (s < 0) return die("tcp_connect");
  s = tls_attach_client(s, host, deadline);
  if (s < 0) return die("tls_attach_client");
  char hostport[300];
  snprintf(hostport, sizeof hostport, "%s:%d", host, port);
  s = ws_attach_client(s, WS_TEXT, argv[3], hostport, deadline);
  if (s < 0) return die("ws_attach_client");

  for (int i = 5; i < argc; ++i)
    if (ws_send(s, WS_TEXT, argv[i], strlen(argv[i]), deadline) != 0) return die("ws_send");
  static char buf[1 << 16];
  for (int i = 0; i < count; ++i) {
    int flags = 0;
    ssize_t n = ws_recv(s, &flags, buf, sizeof buf, deadline);
    if (n < 0) return die("ws_recv");
    printf("%s %.*s\n", (flags & WS_TEXT) ? "text" : "binary", (int)n, buf);
    fflush(stdout);
  }
  int u = ws_detach(s, 1000, "bye", 3, deadline);
  if (u < 0) return die("ws_detach");
  hclose(u);
  return 0;
}
