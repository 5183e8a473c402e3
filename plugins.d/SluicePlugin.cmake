# sluice_add_plugin(NAME SOURCES... [LIBS libs...] [OUTPUT_DIR dir] [NO_INSTALL])
#
# Builds a plugin the way every plugin must be built: a shared object that
# exports only sl_plugin_entry (hidden visibility), sees the public headers
# and nothing of the core. SL_PLUGIN is defined, which hides the core's own
# functions (sl_strerror, ...) from the headers: a plugin that calls one is
# caught when it compiles, not when it is loaded. C++ sources work too (the
# caller's project must enable CXX). Bundled plugins land in the plugins
# directory that bin/sluice searches first; tests put theirs elsewhere.
function(sluice_add_plugin name)
  cmake_parse_arguments(P "NO_INSTALL" "OUTPUT_DIR" "SOURCES;LIBS" ${ARGN})
  if(NOT P_OUTPUT_DIR)
    set(P_OUTPUT_DIR ${SL_PLUGIN_OUTPUT_DIR})
  endif()
  add_library(${name} MODULE ${P_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/api)
  target_compile_definitions(${name} PRIVATE SL_PLUGIN)
  target_link_libraries(${name} PRIVATE ${P_LIBS})
  set_target_properties(${name} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY ${P_OUTPUT_DIR})
  if(NOT P_NO_INSTALL)
    install(TARGETS ${name} LIBRARY DESTINATION ${SL_PLUGIN_SUBDIR})
  endif()
endfunction()
