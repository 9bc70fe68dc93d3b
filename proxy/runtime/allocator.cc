#include "proxy/runtime/allocator.h"

#include <string>

#if defined(REGIONGATE_MIMALLOC)
#include <mimalloc.h>
#else
#include <malloc.h>
#endif

namespace regiongate {

#if defined(REGIONGATE_MIMALLOC)

std::string allocator_name() {
  const int v = mi_version();  // major * 100 + minor, as 209
  return "mimalloc " + std::to_string(v / 100) + "." + std::to_string(v % 100 / 10) + "." +
         std::to_string(v % 10);
}

void release_free_memory() { mi_collect(true); }

#else

std::string allocator_name() { return "glibc malloc"; }

void release_free_memory() { malloc_trim(0); }

#endif

}  // namespace regiongate
