// bench/tokens: tollway's tokenizer throughput on a corpus file (single thread), the same without the per-thread
// PieceCache (pieces merged every time), the cache's hit rate on the corpus, the worst case (1,000,000 identical
// characters) and the latency of estimating one ~4 KB chat-completions request. Prints one JSON object per line;
// run.sh compares it with npm tiktoken.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "tokens/bpe.h"
#include "tokens/encoding.h"
#include "tokens/piece_cache.h"
#include "tokens/pretokenizer.h"
#include "tokens/utf8.h"
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

// Token ids of text (valid UTF-8, no specials) the way Encoding::encode builds them, but merging every piece that
// is not a whole token (no PieceCache).
std::size_t encode_without_cache(const tollway::tokens::Encoding& enc, tollway::tokens::SplitPattern pattern,
                                 std::string_view text) {
  using namespace tollway::tokens;
  if (!is_valid_utf8(text)) return 0;  // encode() validates its input too: same work on both paths
  std::vector<std::uint32_t> out;
  out.reserve(text.size() / 2 + 16);
  split_pieces(pattern, text, [&](std::string_view piece) {
    const std::uint32_t whole = enc.ranks().find(piece);
    if (whole != kNoRank) out.push_back(whole);
    else byte_pair_encode(enc.ranks(), piece, out);
  });
  return out.size();
}

struct CacheStats {
  std::size_t pieces = 0, whole_tokens = 0, merged = 0, hits = 0;
};

// Replays the PieceCache's placement (same slots, same entries) over text: how many merged pieces would hit.
CacheStats cache_stats(const tollway::tokens::Encoding& enc, tollway::tokens::SplitPattern pattern, std::string_view text) {
  using namespace tollway::tokens;
  std::vector<std::string> slots(PieceCache::kEntries);
  std::vector<bool> used(PieceCache::kEntries, false);
  CacheStats st;
  split_pieces(pattern, text, [&](std::string_view piece) {
    ++st.pieces;
    if (enc.ranks().find(piece) != kNoRank) { ++st.whole_tokens; return; }
    ++st.merged;
    if (piece.size() > PieceCache::kMaxPieceBytes) return;
    const std::size_t slot = PieceCache::index(1, RankTable::hash(piece));
    if (used[slot] && slots[slot] == piece) { ++st.hits; return; }
    if (byte_pair_count(enc.ranks(), piece) <= PieceCache::kMaxTokens) { used[slot] = true; slots[slot] = std::string(piece); }
  });
  return st;
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
    const Encoding* enc = &Encoding::embedded(name);
    const double load_s = std::chrono::duration<double>(Clock::now() - t_load).count();
    std::vector<double> secs;
    std::size_t tokens = 0;
    for (int r = 0; r < repeats; ++r) {
      const auto t0 = Clock::now();
      tokens = enc->encode(corpus, tollway::tokens::SpecialPolicy::Ordinary).size();
      secs.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    const double s = median(secs);
    const auto pattern = name == EncodingName::O200kBase ? tollway::tokens::SplitPattern::O200k
                                                         : tollway::tokens::SplitPattern::Cl100k;
    const std::string valid = tollway::tokens::is_valid_utf8(corpus) ? corpus : tollway::tokens::repair_utf8(corpus);
    std::vector<double> nocache_secs;
    for (int r = 0; r < repeats; ++r) {
      const auto t0 = Clock::now();
      if (encode_without_cache(*enc, pattern, valid) != tokens) {
        std::cerr << "no-cache encoding differs from encode() in length\n";
        return 1;
      }
      nocache_secs.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    }
    const double nocache_s = median(nocache_secs);
    const CacheStats st = cache_stats(*enc, pattern, valid);
    // Worst case: 1,000,000 identical characters (tiktoken's "catastrophically repetitive" shape), one run.
    const std::string same(1000000, 'a');
    const auto t_same = Clock::now();
    const std::size_t same_tokens = enc->count(same, tollway::tokens::SpecialPolicy::Ordinary);
    const double same_s = std::chrono::duration<double>(Clock::now() - t_same).count();
    const auto t_same_100k = Clock::now();
    enc->count(std::string_view(same).substr(0, 100000), tollway::tokens::SpecialPolicy::Ordinary);
    const double same_100k_s = std::chrono::duration<double>(Clock::now() - t_same_100k).count();
    std::printf("{\"impl\":\"tollway\",\"encoding\":\"%s\",\"bytes\":%zu,\"tokens\":%zu,\"median_s\":%.6f,"
                "\"mb_per_s\":%.2f,\"tokens_per_s\":%.0f,\"load_s\":%.4f,\"nocache_mb_per_s\":%.2f,"
                "\"pieces\":%zu,\"whole_token_pieces\":%zu,\"merged_pieces\":%zu,\"cache_hits\":%zu,"
                "\"same_1m_s\":%.4f,\"same_1m_tokens\":%zu,\"same_100k_s\":%.5f}\n",
                std::string(tollway::tokens::to_string(name)).c_str(), corpus.size(), tokens, s,
                corpus.size() / s / 1e6, tokens / s, load_s, corpus.size() / nocache_s / 1e6, st.pieces, st.whole_tokens,
                st.merged, st.hits, same_s, same_tokens, same_100k_s);
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
