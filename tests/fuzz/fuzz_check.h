// SPDX-License-Identifier: MIT
// Shared by the fuzz targets: an oracle check that aborts (so libFuzzer keeps the input)
// and prints the failed expression.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(x)                                                      \
  do {                                                                     \
    if (!(x)) {                                                            \
      std::fprintf(stderr, "oracle failed: %s (line %d)\n", #x, __LINE__); \
      std::abort();                                                        \
    }                                                                      \
  } while (0)
