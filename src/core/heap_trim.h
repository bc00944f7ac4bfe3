// Returns the heap's free memory to the kernel (glibc's malloc_trim): after a burst or a stall the allocator
// keeps the pages it grew to, so a long-running process's resident set would only ever rise to its high-water
// mark; trimming now and then gives back what is free (HAProxy trims its pools the same way). It never frees
// memory in use and never shrinks a block; it only takes each arena's lock for the walk.
#pragma once

namespace tollway::core {

// True when memory was returned. A no-op (false) where the C library has no malloc_trim.
bool trim_free_heap();

}  // namespace tollway::core
