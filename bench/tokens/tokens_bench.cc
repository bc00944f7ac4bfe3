// bench/tokens: tollway's tokenizer throughput on a corpus file (single thread), and the latency of estimating
// one ~4 KB chat-completions request. Prints one JSON object per line; run.sh compares it with npm tiktoken.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tokens/encoding.h"
#if __has_include("tokens/estimator.h")
#include "tokens/estimator.h"
#define TOLLWAY_HAVE_ESTIMATOR 1
#endif

namespace {

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::string read_file(const char* path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::cerr << "usage: tokens_bench CORPUS [REPEATS] [CHAT_REQUEST_JSON]\n";
    return 2;
  }
  const std::string corpus = read_file(argv[1]);
  const int repeats = argc > 2 ? std::atoi(argv[2]) : 5;
  using tollway::tokens::Encoding;
  using tollway::tokens::EncodingName;
  for (EncodingName name : {EncodingName::Cl100kBase, EncodingName::O200kBase}) {
    const auto t_load = Clock::now();
    const auto enc = Encoding::shared(name);
    const double load_s = std::chrono::duration<double>(Clock::now() - t_load).count();
    std::vector<double> secs;
    std::size_t tokens = 0;
    for (int r = 0; r < repeats; ++r) {
      const auto t0 = Clock::now();
      tokens = enc->encode(corpus, tollway::tokens::SpecialPolicy::Ordinary).size();
      secs.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    const double s = median(secs);
    std::printf("{\"impl\":\"tollway\",\"encoding\":\"%s\",\"bytes\":%zu,\"tokens\":%zu,\"median_s\":%.6f,"
                "\"mb_per_s\":%.2f,\"tokens_per_s\":%.0f,\"load_s\":%.4f}\n",
                std::string(tollway::tokens::to_string(name)).c_str(), corpus.size(), tokens, s,
                corpus.size() / s / 1e6, tokens / s, load_s);
  }
#ifdef TOLLWAY_HAVE_ESTIMATOR
  if (argc > 3) {
    const std::string body = read_file(argv[3]);
    tollway::tokens::PromptEstimator estimator;
    std::vector<double> us;
    std::size_t count = 0;
    for (int i = 0; i < 20000; ++i) {
      const auto t0 = Clock::now();
      count = estimator.estimate_openai_chat(body).tokens;
      us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    std::printf("{\"impl\":\"tollway\",\"chat_request_bytes\":%zu,\"prompt_tokens\":%zu,\"p50_us\":%.2f,\"p99_us\":%.2f}\n",
                body.size(), count, us[us.size() / 2], us[us.size() * 99 / 100]);
  }
#endif
  return 0;
}
