/* SPDX-License-Identifier: MIT */
/* echo_server.c: a WebSocket echo server on the engine's C API, one thread per
 * connection. Every message comes back with its type (text or binary). A text message
 * "close:<code>:<reason>" makes the server start the closing handshake with that code and
 * reason; a close from the client is answered with the client's own code and reason.
 *
 *   echo_server [port]     (no port or 0: any free port)
 *
 * It listens on 127.0.0.1, prints "PORT <n>" once it is listening, then one line per
 * closed connection: "close <code> <reason>" (the peer's close, read with ws_status),
 * "server-close <code> <reason>" (the close it started) or "error <what>". */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ws/ws.h>

#define MAX_MESSAGE (32u << 20) /* the largest message echoed: 32 MiB */
#define IDLE_MS 60000           /* a connection silent this long is dropped */

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;

static void say(const char* what, int code, const char* text, size_t len) {
  pthread_mutex_lock(&out_lock);
  printf("%s %d %.*s\n", what, code, (int)len, text);
  fflush(stdout);
  pthread_mutex_unlock(&out_lock);
}

/* "close:4001:bye" -> ws_done(4001, "bye"). Returns 0 if msg is not such a command. */
static int maybe_start_close(int s, const char* msg, size_t len) {
  if (len < 7 || memcmp(msg, "close:", 6) != 0) return 0;
  char num[8] = {0};
  size_t i = 6, k = 0;
  while (i < len && msg[i] != ':' && k < sizeof(num) - 1) num[k++] = msg[i++];
  const char* reason = i < len ? msg + i + 1 : msg + len;
  size_t reason_len = (size_t)(msg + len - reason);
  int code = atoi(num);
  if (ws_done(s, code, reason, reason_len, now() + 5000) != 0) {
    say("error ws_done", errno, strerror(errno), strlen(strerror(errno)));
    return 1;
  }
  say("server-close", code, reason, reason_len);
  return 1;
}

static void* serve(void* arg) {
  int s = (int)(intptr_t)arg;
  char resource[1024], host[256];
  s = ws_attach_server(s, WS_BINARY, resource, sizeof(resource), host, sizeof(host), now() + 10000);
  if (s < 0) { /* the engine has answered 400/426 where it could, and closed s */
    const char* e = strerror(errno);
    say("error handshake", errno, e, strlen(e));
    return NULL;
  }
  char* buf = malloc(MAX_MESSAGE);
  for (;;) {
    int flags = 0;
    ssize_t n = buf ? ws_recv(s, &flags, buf, MAX_MESSAGE, now() + IDLE_MS) : -1;
    if (n < 0) break;
    if ((flags & WS_TEXT) && maybe_start_close(s, buf, (size_t)n)) continue;
    if (ws_send(s, flags & WS_TEXT, buf, (size_t)n, now() + IDLE_MS) != 0) break;
  }
  int err = buf ? errno : ENOMEM;
  free(buf);
  if (err != EPIPE) { /* reset, protocol error (close 1002/1007/1009 sent), timeout */
    const char* e = strerror(err);
    say("error recv", err, e, strlen(e));
    hclose(s);
    return NULL;
  }
  /* The client's close arrived: answer with its own code and reason (ws_detach sends
   * nothing if our close went first), then close TCP as the server should (RFC 6455 §7.1.1). */
  int code = 0;
  char reason[128];
  ssize_t rlen = ws_status(s, &code, reason, sizeof(reason));
  if (rlen < 0) rlen = 0;
  say("close", code, reason, (size_t)rlen);
  int u = ws_detach(s, code, reason, (size_t)rlen, now() + 5000);
  if (u >= 0) tcp_close(u, now() + 5000);
  return NULL;
}

int main(int argc, char** argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  struct ipaddr addr;
  if (ipaddr_local(&addr, "127.0.0.1", port, IPADDR_IPV4) != 0) {
    perror("ipaddr_local");
    return 1;
  }
  int ls = tcp_listen(&addr, 64);
  if (ls < 0) {
    perror("tcp_listen");
    return 1;
  }
  printf("PORT %d\n", ipaddr_port(&addr));
  fflush(stdout);
  for (;;) {
    int s = tcp_accept(ls, NULL, -1);
    if (s < 0) {
      if (errno == ECANCELED || errno == EBADF) break;
      continue;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, serve, (void*)(intptr_t)s) != 0) {
      hclose(s);
      continue;
    }
    pthread_detach(t);
  }
  hclose(ls);
  return 0;
}
