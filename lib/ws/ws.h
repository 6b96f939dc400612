// SPDX-License-Identifier: MIT
/* ws.h: wsrelay's WebSocket engine, behind libdill's ws_* API (libdill.h 2.x).
 * Same names, arguments, return values and errno as libdill; where libdill falls
 * short of RFC 6455 this engine does what the RFC says (see lib/ws/doc/).
 * Blocking calls wait with poll() until an absolute deadline in ms from now():
 * 0 = try once without blocking, -1 = no deadline. Errors: -1 and errno.
 * C-compatible: no C++ exception crosses this header. */
#ifndef RELAY_WS_H
#define RELAY_WS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
#define WS_ALIGNAS_PTR alignas(void*)
extern "C" {
#else
#define WS_ALIGNAS_PTR _Alignas(void*)
#endif

/* Message types. WS_BINARY is 0: test !(flags & WS_TEXT), never flags & WS_BINARY. */
#define WS_BINARY 0
#define WS_TEXT 1
/* Attach time only: skip the HTTP upgrade (the caller did it). */
#define WS_NOHTTP 2

#define WS_KEY_SIZE 32

/* Caller storage for the _mem variants. */
struct ws_storage {
  WS_ALIGNAS_PTR char _[512];
};

/* Scatter/gather list of the *l calls, as in libdill. */
struct iolist {
  void* iol_base;
  size_t iol_len;
  struct iolist* iol_next;
  int iol_rsvd;
};

/* IP addresses, as in libdill. */
#define IPADDR_IPV4 1
#define IPADDR_IPV6 2
#define IPADDR_PREF_IPV4 3
#define IPADDR_PREF_IPV6 4
#define IPADDR_MAXSTRLEN 46
struct ipaddr {
  WS_ALIGNAS_PTR char _[32];
};

/* Time: a monotonic clock in ms that never returns 0 or -1. */
int64_t now(void);

/* Addresses and TCP bytestreams (handles, not file descriptors). */
int ipaddr_local(struct ipaddr* addr, const char* name, int port, int mode);
int ipaddr_remote(struct ipaddr* addr, const char* name, int port, int mode, int64_t deadline);
int ipaddr_port(const struct ipaddr* addr);
const char* ipaddr_str(const struct ipaddr* addr, char* ipstr);
int tcp_listen(struct ipaddr* addr, int backlog);
int tcp_accept(int s, struct ipaddr* addr, int64_t deadline);
int tcp_connect(const struct ipaddr* addr, int64_t deadline);
int tcp_close(int s, int64_t deadline);
/* Extension: wrap a connected stream socket fd (ownership passes to the handle). */
int tcp_fromfd(int fd);

/* Extension: TLS client over bytestream `s` (tcp): handshake, server certificate verified
 * for `hostname` against the PEM file in $WSRELAY_CA_FILE or the system store; the new
 * bytestream handle owns `s`. ws_attach_client on it speaks wss://. See doc/tls_attach_client.md.
 */
int tls_attach_client(int s, const char* hostname, int64_t deadline);

/* Bytestream calls on tcp handles (and on what ws_detach returns), as in libdill:
 * bsend writes all len bytes, brecv reads exactly len bytes (EPIPE at end of stream). */
int bsend(int s, const void* buf, size_t len, int64_t deadline);
int brecv(int s, void* buf, size_t len, int64_t deadline);

/* Generic handle calls. */
int hclose(int h);
int msend(int s, const void* buf, size_t len, int64_t deadline);
ssize_t mrecv(int s, void* buf, size_t len, int64_t deadline);
int msendl(int s, struct iolist* first, struct iolist* last, int64_t deadline);
ssize_t mrecvl(int s, struct iolist* first, struct iolist* last, int64_t deadline);

/* WebSocket. */
int ws_attach_client(int s, int flags, const char* resource, const char* host, int64_t deadline);
int ws_attach_client_mem(int s, int flags, const char* resource, const char* host,
                         struct ws_storage* mem, int64_t deadline);
int ws_attach_server(int s, int flags, char* resource, size_t resourcelen, char* host,
                     size_t hostlen, int64_t deadline);
int ws_attach_server_mem(int s, int flags, char* resource, size_t resourcelen, char* host,
                         size_t hostlen, struct ws_storage* mem, int64_t deadline);
int ws_send(int s, int flags, const void* buf, size_t len, int64_t deadline);
int ws_sendl(int s, int flags, struct iolist* first, struct iolist* last, int64_t deadline);
ssize_t ws_recv(int s, int* flags, void* buf, size_t len, int64_t deadline);
ssize_t ws_recvl(int s, int* flags, struct iolist* first, struct iolist* last, int64_t deadline);
int ws_done(int s, int status, const void* buf, size_t len, int64_t deadline);
int ws_detach(int s, int status, const void* buf, size_t len, int64_t deadline);
ssize_t ws_status(int s, int* status, void* buf, size_t len);
int ws_request_key(char* request_key);
int ws_response_key(const char* request_key, char* response_key);

#ifdef __cplusplus
}
#endif
#endif /* RELAY_WS_H */
