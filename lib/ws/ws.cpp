// SPDX-License-Identifier: MIT
// The ws_* edge of ws.h: argument checks, handle lookups and errno, as libdill's ws.c.
// Each call checks its arguments, finds its WsSock (EBADF, ENOTSUP), lets the object do
// the work and turns a Result into -1 + errno. No exception crosses this file.
#include <cstring>
#include <memory>
#include <new>
#include <span>
#include <string_view>

#include "ws/close.h"
#include "ws/handle.h"
#include "ws/handshake.h"
#include "ws/ws_sock.h"
#include "ws/wsr_api.h"

using namespace relay::ws;  // NOLINT: the C edge
using relay::Errc;
using relay::to_errno;

static_assert(sizeof(WsSock) <= sizeof(ws_storage), "struct ws_storage is too small for WsSock");
static_assert(alignof(WsSock) <= alignof(ws_storage), "struct ws_storage is under-aligned");

namespace {

constexpr size_t kMaxCloseReason = 123;  // RFC 6455 §5.5: 125 bytes minus the 2-byte code

int set_errno(int err) noexcept {
  errno = err;
  return -1;
}

void destroy(WsSock* self, bool in_mem) noexcept {
  if (in_mem)
    self->~WsSock();
  else
    delete self;
}

// The four ws_attach_* calls. Argument errors (EINVAL, EBADF, ENOTSUP) leave `s` with the
// caller; from hown() on the bytestream is ours, and any failure closes it.
int attach(Role role, int s, int flags, const char* out_resource, const char* out_host,
           char* in_resource, size_t resourcelen, char* in_host, size_t hostlen, ws_storage* mem,
           bool use_mem, int64_t deadline) noexcept {
  if (flags & ~(WS_TEXT | WS_NOHTTP | WS_DEFLATE)) return set_errno(EINVAL);
  if ((flags & WS_NOHTTP) && (flags & WS_DEFLATE)) return set_errno(EINVAL);
  if (use_mem && !mem) return set_errno(EINVAL);
  const bool http = !(flags & WS_NOHTTP);
  if (http && role == Role::kClient && (!out_resource || !out_host)) return set_errno(EINVAL);
  if (http && role == Role::kServer && (!in_resource || !in_host)) return set_errno(EINVAL);
  HandleRef pin;
  auto* bs = hquery_as<Bytestream>(s, HandleType::kBytestream, &pin);
  if (!bs) return -1;
  int u = hown(s);  // from here we own the bytestream handle
  if (u < 0) return -1;
  auto fail = [&](int err) {
    wsr_hclose(u);
    return set_errno(err);
  };
  WsSock* self = use_mem ? new (mem) WsSock(role, flags, u, std::move(pin), bs)
                         : new (std::nothrow) WsSock(role, flags, u, std::move(pin), bs);
  if (!self) return fail(ENOMEM);
  if (use_mem) self->set_caller_memory();
  if (http) {
    auto r = role == Role::kServer
                 ? self->accept_upgrade(in_resource, resourcelen, in_host, hostlen, deadline)
                 : self->request_upgrade(out_resource, out_host, deadline);
    if (!r) {
      destroy(self, use_mem);
      return fail(to_errno(r.error()));
    }
  }
  int h = hmake(self);
  if (h < 0) {
    int err = errno;
    destroy(self, use_mem);
    return fail(err);
  }
  return h;  // the handle table owns the object now
}

// Looks up a ws handle and pins it: nullptr with EBADF / ENOTSUP.
WsSock* find(int s, HandleRef* pin) noexcept { return hquery_as<WsSock>(s, HandleType::kWs, pin); }

// A close status and reason we may send: 0 (no code) or a code RFC 6455 §7.4 allows on
// the wire, and a reason of at most 123 bytes that only comes with a code.
bool valid_close(int status, const void* buf, size_t len) noexcept {
  if (!buf && len) return false;
  if (len > kMaxCloseReason) return false;
  if (status == 0) return len == 0;
  return status > 0 && status <= 0xffff && is_sendable_code(static_cast<uint16_t>(status));
}

}  // namespace

extern "C" {

int wsr_ws_attach_client(int s, int flags, const char* resource, const char* host,
                         int64_t deadline) {
  return attach(Role::kClient, s, flags, resource, host, nullptr, 0, nullptr, 0, nullptr, false,
                deadline);
}

int wsr_ws_attach_client_mem(int s, int flags, const char* resource, const char* host,
                             struct ws_storage* mem, int64_t deadline) {
  return attach(Role::kClient, s, flags, resource, host, nullptr, 0, nullptr, 0, mem, true,
                deadline);
}

int wsr_ws_attach_server(int s, int flags, char* resource, size_t resourcelen, char* host,
                         size_t hostlen, int64_t deadline) {
  return attach(Role::kServer, s, flags, nullptr, nullptr, resource, resourcelen, host, hostlen,
                nullptr, false, deadline);
}

int wsr_ws_attach_server_mem(int s, int flags, char* resource, size_t resourcelen, char* host,
                             size_t hostlen, struct ws_storage* mem, int64_t deadline) {
  return attach(Role::kServer, s, flags, nullptr, nullptr, resource, resourcelen, host, hostlen,
                mem, true, deadline);
}

int wsr_ws_send(int s, int flags, const void* buf, size_t len, int64_t deadline) {
  if ((flags & ~WS_TEXT) || (!buf && len)) return set_errno(EINVAL);
  HandleRef pin;
  WsSock* self = find(s, &pin);
  if (!self) return -1;
  const std::span<const std::byte> part(static_cast<const std::byte*>(buf), len);
  if (auto r = self->send(flags & WS_TEXT, {&part, 1}, deadline); !r)
    return set_errno(to_errno(r.error()));
  return 0;
}

int wsr_ws_sendl(int s, int flags, struct iolist* first, struct iolist* last, int64_t deadline) {
  if (flags & ~WS_TEXT) return set_errno(EINVAL);
  HandleRef pin;
  WsSock* self = find(s, &pin);
  if (!self) return -1;
  return self->sendl(flags & WS_TEXT, first, last, deadline);
}

ssize_t wsr_ws_recv(int s, int* flags, void* buf, size_t len, int64_t deadline) {
  if (!buf && len) return set_errno(EINVAL);
  HandleRef pin;
  WsSock* self = find(s, &pin);
  if (!self) return -1;
  iolist iol{buf, len, nullptr, 0};
  return self->recvl(flags, &iol, &iol, deadline);
}

ssize_t wsr_ws_recvl(int s, int* flags, struct iolist* first, struct iolist* last,
                     int64_t deadline) {
  HandleRef pin;
  WsSock* self = find(s, &pin);
  if (!self) return -1;
  return self->recvl(flags, first, last, deadline);
}

int wsr_ws_done(int s, int status, const void* buf, size_t len, int64_t deadline) {
  if (!valid_close(status, buf, len)) return set_errno(EINVAL);
  HandleRef pin;
  WsSock* self = find(s, &pin);
  if (!self) return -1;
  std::string_view reason(static_cast<const char*>(buf), len);
  if (auto r = self->done(static_cast<uint16_t>(status), reason, deadline); !r)
    return set_errno(to_errno(r.error()));
  return 0;
}

int wsr_ws_detach(int s, int status, const void* buf, size_t len, int64_t deadline) {
  if (!valid_close(status, buf, len)) return set_errno(EINVAL);
  HandleRef pin;
  WsSock* self = find(s, &pin);
  if (!self) return -1;
  std::string_view reason(static_cast<const char*>(buf), len);
  auto u = self->detach(static_cast<uint16_t>(status), reason, deadline);
  if (!u) {
    // As libdill documents: when the closing handshake fails the socket is closed too.
    // EBUSY leaves it to the thread that is using it.
    if (u.error() != Errc::kBusy) wsr_hclose(s);
    return set_errno(to_errno(u.error()));
  }
  // Take the ws object out of the table without on_close(), which would close `u`.
  // Empty: another thread hclose()d it meanwhile, and `u` with it.
  if (!hrelease(s)) return set_errno(ECANCELED);
  return *u;
}

ssize_t wsr_ws_status(int s, int* status, void* buf, size_t len) {
  if (!buf && len) return set_errno(EINVAL);
  HandleRef pin;
  WsSock* self = find(s, &pin);
  if (!self) return -1;
  auto r = self->status(status, buf, len);
  if (!r) return set_errno(to_errno(r.error()));
  return static_cast<ssize_t>(*r);
}

int wsr_ws_request_key(char* request_key) {
  if (!request_key) return set_errno(EINVAL);
  static_assert(kKeyChars + 1 <= WS_KEY_SIZE);
  make_key(request_key);
  return 0;
}

// RFC 6455 §4.2.2 step 5.4: base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")).
int wsr_ws_response_key(const char* request_key, char* response_key) {
  if (!request_key || !response_key) return set_errno(EINVAL);
  static_assert(kAcceptChars + 1 <= WS_KEY_SIZE);
  if (!compute_accept(request_key, response_key)) return set_errno(EPROTO);
  return 0;
}

}  // extern "C"
