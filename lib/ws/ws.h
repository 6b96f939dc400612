// SPDX-License-Identifier: MIT
/* ws.h: wsrelay's WebSocket engine, behind libdill's ws_* API (libdill.h 2.x).
 * Same names, arguments, return values and errno as libdill; where libdill falls
 * short of RFC 6455 this engine does what the RFC says (see lib/ws/doc/).
 * Every function's symbol is wsr_<name> (wsr_now, wsr_ws_send...); macros at the end
 * give them libdill's names unless WSR_DISABLE_RAW_NAMES is defined.
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
/* Attach time only (extension, not in libdill): permessage-deflate (RFC 7692). A client
 * offers it, a server accepts a client's offer; when agreed, messages that get smaller are
 * sent compressed and compressed messages are inflated (never past the message limit).
 * Not with WS_NOHTTP (there is no handshake to agree on it): EINVAL. See doc/README.md. */
#define WS_DEFLATE 4

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
int64_t wsr_now(void);

/* Addresses and TCP bytestreams (handles, not file descriptors). */
int wsr_ipaddr_local(struct ipaddr* addr, const char* name, int port, int mode);
int wsr_ipaddr_remote(struct ipaddr* addr, const char* name, int port, int mode, int64_t deadline);
int wsr_ipaddr_port(const struct ipaddr* addr);
const char* wsr_ipaddr_str(const struct ipaddr* addr, char* ipstr);
int wsr_tcp_listen(struct ipaddr* addr, int backlog);
int wsr_tcp_accept(int s, struct ipaddr* addr, int64_t deadline);
int wsr_tcp_connect(const struct ipaddr* addr, int64_t deadline);
int wsr_tcp_close(int s, int64_t deadline);
/* Extension: wrap a connected stream socket fd (ownership passes to the handle). */
int wsr_tcp_fromfd(int fd);

/* Extension: TLS client over bytestream `s` (tcp): handshake, server certificate verified
 * for `hostname` against the PEM file in $WSRELAY_CA_FILE or the system store; the new
 * bytestream handle owns `s`. ws_attach_client on it speaks wss://. See doc/tls_attach_client.md.
 */
int wsr_tls_attach_client(int s, const char* hostname, int64_t deadline);

/* Bytestream calls on tcp handles (and on what ws_detach returns), as in libdill:
 * bsend writes all len bytes, brecv reads exactly len bytes (EPIPE at end of stream). */
int wsr_bsend(int s, const void* buf, size_t len, int64_t deadline);
int wsr_brecv(int s, void* buf, size_t len, int64_t deadline);

/* Generic handle calls. */
int wsr_hclose(int h);
int wsr_msend(int s, const void* buf, size_t len, int64_t deadline);
ssize_t wsr_mrecv(int s, void* buf, size_t len, int64_t deadline);
int wsr_msendl(int s, struct iolist* first, struct iolist* last, int64_t deadline);
ssize_t wsr_mrecvl(int s, struct iolist* first, struct iolist* last, int64_t deadline);

/* WebSocket. */
int wsr_ws_attach_client(int s, int flags, const char* resource, const char* host,
                         int64_t deadline);
int wsr_ws_attach_client_mem(int s, int flags, const char* resource, const char* host,
                             struct ws_storage* mem, int64_t deadline);
int wsr_ws_attach_server(int s, int flags, char* resource, size_t resourcelen, char* host,
                         size_t hostlen, int64_t deadline);
int wsr_ws_attach_server_mem(int s, int flags, char* resource, size_t resourcelen, char* host,
                             size_t hostlen, struct ws_storage* mem, int64_t deadline);
int wsr_ws_send(int s, int flags, const void* buf, size_t len, int64_t deadline);
int wsr_ws_sendl(int s, int flags, struct iolist* first, struct iolist* last, int64_t deadline);
ssize_t wsr_ws_recv(int s, int* flags, void* buf, size_t len, int64_t deadline);
ssize_t wsr_ws_recvl(int s, int* flags, struct iolist* first, struct iolist* last,
                     int64_t deadline);
int wsr_ws_done(int s, int status, const void* buf, size_t len, int64_t deadline);
int wsr_ws_detach(int s, int status, const void* buf, size_t len, int64_t deadline);
ssize_t wsr_ws_status(int s, int* status, void* buf, size_t len);
int wsr_ws_request_key(char* request_key);
int wsr_ws_response_key(const char* request_key, char* response_key);

#ifdef __cplusplus
}
#endif

/* libdill's names for the calls above, as libdill.h maps its own onto dill_*: the real
 * symbols carry the wsr_ prefix, so this engine and libdill can live in one program.
 * Define WSR_DISABLE_RAW_NAMES before including this header to get only the wsr_ names
 * (as libdill's DILL_DISABLE_RAW_NAMES). The macros rename every token of that name in
 * the including file, C++ members too. */
#if !defined WSR_DISABLE_RAW_NAMES
#define now wsr_now
#define ipaddr_local wsr_ipaddr_local
#define ipaddr_remote wsr_ipaddr_remote
#define ipaddr_port wsr_ipaddr_port
#define ipaddr_str wsr_ipaddr_str
#define tcp_listen wsr_tcp_listen
#define tcp_accept wsr_tcp_accept
#define tcp_connect wsr_tcp_connect
#define tcp_close wsr_tcp_close
#define tcp_fromfd wsr_tcp_fromfd
#define tls_attach_client wsr_tls_attach_client
#define bsend wsr_bsend
#define brecv wsr_brecv
#define hclose wsr_hclose
#define msend wsr_msend
#define mrecv wsr_mrecv
#define msendl wsr_msendl
#define mrecvl wsr_mrecvl
#define ws_attach_client wsr_ws_attach_client
#define ws_attach_client_mem wsr_ws_attach_client_mem
#define ws_attach_server wsr_ws_attach_server
#define ws_attach_server_mem wsr_ws_attach_server_mem
#define ws_send wsr_ws_send
#define ws_sendl wsr_ws_sendl
#define ws_recv wsr_ws_recv
#define ws_recvl wsr_ws_recvl
#define ws_done wsr_ws_done
#define ws_detach wsr_ws_detach
#define ws_status wsr_ws_status
#define ws_request_key wsr_ws_request_key
#define ws_response_key wsr_ws_response_key
#endif

#endif /* RELAY_WS_H */
