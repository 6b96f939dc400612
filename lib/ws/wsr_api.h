// SPDX-License-Identifier: MIT
// ws.h as the engine's own code sees it: only the wsr_ names. libdill's names are macros
// in ws.h and would rename any identifier spelled now, hclose, msend... in lib/ws, so every
// file here includes this instead of ws/ws.h.
#pragma once

#if defined(RELAY_WS_H) && !defined(WSR_DISABLE_RAW_NAMES)
#error "ws/ws.h came first with libdill's names: include lib/ws internals before it"
#endif
#ifndef WSR_DISABLE_RAW_NAMES
#define WSR_DISABLE_RAW_NAMES
#endif
#include "ws/ws.h"
