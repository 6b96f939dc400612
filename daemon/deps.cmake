# Third-party dependencies of the daemon (only daemon/ may use them, see STYLE.md §1),
# all from Debian -dev packages. Included by daemon/CMakeLists.txt before wsrelay_core exists;
# it calls wsrelay_link_deps(wsrelay_core) afterwards.
find_package(spdlog REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(prometheus-cpp CONFIG REQUIRED)  # only prometheus-cpp::core is linked
find_path(VALIJSON_INCLUDE_DIR valijson/validator.hpp REQUIRED)
find_package(PkgConfig)
if(PkgConfig_FOUND)
  pkg_check_modules(LIBSYSTEMD IMPORTED_TARGET libsystemd)
endif()

# config/wsrelay.schema.json -> <build>/daemon/config_schema.cpp, regenerated when it changes.
set(WSRELAY_SCHEMA_JSON ${PROJECT_SOURCE_DIR}/config/wsrelay.schema.json)
set(WSRELAY_SCHEMA_CPP ${CMAKE_CURRENT_BINARY_DIR}/config_schema.cpp)
add_custom_command(
  OUTPUT ${WSRELAY_SCHEMA_CPP}
  COMMAND ${CMAKE_COMMAND} -DINPUT=${WSRELAY_SCHEMA_JSON} -DOUTPUT=${WSRELAY_SCHEMA_CPP}
          -DSYMBOL=relay::daemon::config_schema_json -DHEADER=config_schema.h
          -P ${CMAKE_CURRENT_SOURCE_DIR}/embed_file.cmake
  DEPENDS ${WSRELAY_SCHEMA_JSON} ${CMAKE_CURRENT_SOURCE_DIR}/embed_file.cmake
  COMMENT "Embedding config/wsrelay.schema.json"
  VERBATIM)

function(wsrelay_link_deps target)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12's -Wrestrict misfires on std::string inside valijson at -O2 (GCC bug 105329).
    target_compile_options(${target} PRIVATE -Wno-restrict)
  endif()
  target_sources(${target} PRIVATE ${WSRELAY_SCHEMA_CPP})
  target_include_directories(${target} SYSTEM PRIVATE ${VALIJSON_INCLUDE_DIR})
  # Valijson reports schema problems by exception (caught in config.cpp) instead of abort().
  target_compile_definitions(${target} PRIVATE VALIJSON_USE_EXCEPTIONS=1)
  target_link_libraries(${target} PUBLIC spdlog::spdlog nlohmann_json::nlohmann_json
                        prometheus-cpp::core OpenSSL::SSL OpenSSL::Crypto Threads::Threads)
  if(LIBSYSTEMD_FOUND)
    target_link_libraries(${target} PRIVATE PkgConfig::LIBSYSTEMD)
    target_compile_definitions(${target} PRIVATE WSRELAY_HAVE_SYSTEMD=1)
  else()
    message(STATUS "wsrelay: libsystemd not found, sd_notify calls compile to no-ops")
  endif()
  foreach(lib relay_pubsub relay_net relay_ws relay_base)
    if(TARGET ${lib})
      target_link_libraries(${target} PUBLIC ${lib})
    endif()
  endforeach()
endfunction()
