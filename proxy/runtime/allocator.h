#pragma once
// The memory allocator the gateway runs on, and giving back what it holds
// free. The build links mimalloc (Debian's libmimalloc-dev) unless it is
// sanitized: measured with callgrind on the e2e workload (-c 32 -m 10), it
// took 12% fewer instructions per request than glibc's malloc (jemalloc
// 7%): a gateway allocates and frees per stream, many streams at once, and
// glibc's per-size caches overflow into its slower bins. Either allocator
// keeps what a burst of traffic (a flood) made it take; release_free_memory()
// returns the free part to the OS. Workers call it once they have gone
// quiet after work (Worker::on_memory_timer), so RSS comes back down after
// a burst instead of staying at its peak.

#include <string>

namespace regiongate {

// "mimalloc 2.0.9" or "glibc malloc": for the start-up line and /status.
std::string allocator_name();

// Returns the memory the allocator holds free to the OS: mimalloc's free
// pages of the calling thread's heap (each worker allocates and frees on
// its own thread), or glibc's malloc_trim for the whole process. Costs
// about as much as walking the heap: call it when idle, not per request.
void release_free_memory();

}  // namespace regiongate
