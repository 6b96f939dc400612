# Script mode (cmake -P): writes OUTPUT, a .cpp that defines `std::string_view SYMBOL()`
# returning the bytes of INPUT, so the installed binary needs no copy of that file.
# Usage: cmake -DINPUT=a.json -DOUTPUT=a.cpp -DSYMBOL=ns::name -DHEADER=x.h -P embed_file.cmake
file(READ "${INPUT}" content HEX)
string(LENGTH "${content}" hex_len)
# Two hex digits per byte -> "0xNN," so no escaping or raw-string delimiter can clash.
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)"
       "\\1\n" bytes "${bytes}")
string(REGEX MATCH "^(.*)::([^:]+)$" _ "${SYMBOL}")
set(ns "${CMAKE_MATCH_1}")
set(fn "${CMAKE_MATCH_2}")
math(EXPR size "${hex_len} / 2")
file(WRITE "${OUTPUT}.tmp"
"// Generated from ${INPUT} by daemon/embed_file.cmake; do not edit.\n"
"#include \"${HEADER}\"\n\n"
"namespace ${ns} {\n"
"namespace {\nconstexpr unsigned char kBytes[${size} + 1] = {\n${bytes}0};\n}  // namespace\n"
"std::string_view ${fn}() noexcept { return {reinterpret_cast<const char*>(kBytes), ${size}}; }\n"
"}  // namespace ${ns}\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
