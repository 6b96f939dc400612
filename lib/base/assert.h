// SPDX-License-Identifier: MIT
// RELAY_ASSERT: an always-on invariant check (also in release builds), as libdill's dill_assert.
// A failed assertion is a bug in wsrelay, never a client's doing: it prints and aborts.
#pragma once

namespace relay::detail {
[[noreturn]] void assert_failed(const char* expr, const char* file, int line) noexcept;
}

#define RELAY_ASSERT(x) ((x) ? (void)0 : ::relay::detail::assert_failed(#x, __FILE__, __LINE__))
