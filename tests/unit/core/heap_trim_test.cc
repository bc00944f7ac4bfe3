// trim_free_heap gives free heap pages back to the kernel: memory freed in the middle of the heap (a guard block
// after it keeps free() from trimming the top by itself) is released and the process's anonymous resident memory
// falls; memory in use is untouched (its bytes read back).
#include "core/heap_trim.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace tollway::core {
namespace {

long anonymous_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("RssAnon:", 0) == 0) return std::stol(line.substr(8));
  return -1;
}

TEST(HeapTrim, FreedPagesInTheMiddleOfTheHeapGoBackToTheKernel) {
#if !defined(__GLIBC__) || defined(__SANITIZE_ADDRESS__)
  GTEST_SKIP() << "malloc_trim is glibc's allocator's (a sanitizer's allocator replaces it)";
#endif
  constexpr std::size_t kBlocks = 256, kBlock = 64 * 1024;  // 16 MiB, each block below the mmap threshold
  std::vector<char*> blocks;
  for (std::size_t i = 0; i < kBlocks; ++i) {
    blocks.push_back(static_cast<char*>(std::malloc(kBlock)));
    std::memset(blocks.back(), 0x5a, kBlock);
  }
  char* guard = static_cast<char*>(std::malloc(64));
  std::memset(guard, 0x42, 64);
  const long before = anonymous_kb();
  for (char* b : blocks) std::free(b);
  ASSERT_TRUE(trim_free_heap());
  const long after = anonymous_kb();
  EXPECT_LT(after, before - 8 * 1024) << "RssAnon " << before << " kB -> " << after << " kB";
  for (int i = 0; i < 64; ++i) EXPECT_EQ(guard[i], 0x42);
  std::free(guard);
}

}  // namespace
}  // namespace tollway::core
