// SPDX-License-Identifier: MIT
// Result<T>: a value or an error code, the subset of C++23 std::expected we need.
// Errors are errno values (Errc) so they map 1:1 onto the ws_* edge, which sets errno.
#pragma once

#include <cerrno>
#include <new>
#include <utility>

#include "base/assert.h"

namespace relay {

// An errno value with a name. Keeping errno numbers avoids a translation table at the edge.
enum class Errc : int {
  kInvalid = EINVAL,
  kTimedOut = ETIMEDOUT,
  kPipe = EPIPE,
  kConnReset = ECONNRESET,
  kProto = EPROTO,
  kMsgSize = EMSGSIZE,
  kNoMem = ENOMEM,
  kBusy = EBUSY,
  kBadF = EBADF,
  kNotSup = ENOTSUP,
  kAgain = EAGAIN,
};

inline int to_errno(Errc e) { return static_cast<int>(e); }

struct Unexpected {
  Errc error;
};
inline Unexpected fail(Errc e) { return Unexpected{e}; }

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T v) : ok_(true) { new (&value_) T(std::move(v)); }  // NOLINT: implicit by design
  Result(Unexpected u) : ok_(false), error_(u.error) {}       // NOLINT
  Result(const Result& o) : ok_(o.ok_), error_(o.error_) {
    if (ok_) new (&value_) T(o.value_);
  }
  Result(Result&& o) noexcept : ok_(o.ok_), error_(o.error_) {
    if (ok_) new (&value_) T(std::move(o.value_));
  }
  Result& operator=(Result o) noexcept {
    this->~Result();
    new (this) Result(std::move(o));
    return *this;
  }
  ~Result() {
    if (ok_) value_.~T();
  }

  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  T& value() {
    RELAY_ASSERT(ok_);
    return value_;
  }
  const T& value() const {
    RELAY_ASSERT(ok_);
    return value_;
  }
  T& operator*() { return value(); }
  const T& operator*() const { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  Errc error() const {
    RELAY_ASSERT(!ok_);
    return error_;
  }

 private:
  bool ok_;
  Errc error_ = Errc::kInvalid;
  union {
    T value_;
  };
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : ok_(false), error_(u.error) {}  // NOLINT
  bool has_value() const { return ok_; }
  explicit operator bool() const { return ok_; }
  Errc error() const {
    RELAY_ASSERT(!ok_);
    return error_;
  }

 private:
  bool ok_ = true;
  Errc error_ = Errc::kInvalid;
};

}  // namespace relay
