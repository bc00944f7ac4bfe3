#include "core/startup_pages.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>

namespace tollway::core {
namespace {

// The process's resident file pages (RssFile of /proc/self/status), in kB.
std::size_t rss_file_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("RssFile:", 0) == 0) return std::stoull(line.substr(8));
  return 0;
}

TEST(StartupPages, ReleasesTheCleanCodePagesAndTheProcessRunsOn) {
  const std::size_t before = rss_file_kb();
  const ReleasedPages released = release_startup_pages();
  const std::size_t after = rss_file_kb();
  EXPECT_GT(released.mappings, 0u);  // at least this test's own code
  EXPECT_GT(released.resident_bytes, 0u);
  EXPECT_LT(after, before);
  // Code runs on from the page cache, and a second release finds what came back (this test's code).
  EXPECT_EQ(std::string("still") + " running", "still running");
  EXPECT_GT(release_startup_pages().mappings, 0u);
}

TEST(StartupPages, NeverDropsAPageTheProcessWrote) {
  // A private mapping of a file, written (its page becomes the process's own) and then made read-only, as the
  // dynamic loader does with relocated data: the release must skip it.
  char path[] = "/tmp/tollway-startup-pages-XXXXXX";
  const int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  const std::string original(4096, 'f');
  ASSERT_EQ(::write(fd, original.data(), original.size()), static_cast<ssize_t>(original.size()));
  void* page = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  ASSERT_NE(page, MAP_FAILED);
  std::memcpy(page, "relocated", 9);
  ASSERT_EQ(::mprotect(page, 4096, PROT_READ), 0);
  release_startup_pages();
  EXPECT_EQ(std::string(static_cast<const char*>(page), 9), "relocated");
  // A clean read-only mapping of the same file is released and reads the file again.
  void* clean = ::mmap(nullptr, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  ASSERT_NE(clean, MAP_FAILED);
  EXPECT_EQ(static_cast<const char*>(clean)[0], 'f');
  release_startup_pages();
  EXPECT_EQ(static_cast<const char*>(clean)[100], 'f');
  ::munmap(clean, 4096);
  ::munmap(page, 4096);
  ::close(fd);
  ::unlink(path);
}

}  // namespace
}  // namespace tollway::core
