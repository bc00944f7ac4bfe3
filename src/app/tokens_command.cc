// `tollway tokens encode|count|decode`: the exact tokenizer on the command line (tiktoken's ids).
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>

#include "app/commands.h"
#include "tokens/encoding.h"

namespace tollway::app {
namespace {

struct TokensOptions {
  std::string encoding = "cl100k_base";
  std::string special = "none";
  std::string input = "-";
};

bool read_input(const std::string& path, std::string& out) {
  if (path == "-") {
    std::ios::sync_with_stdio(false);
    out.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
    return !std::cin.bad();
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

tokens::SpecialPolicy policy_of(const std::string& special) {
  if (special == "all") return tokens::SpecialPolicy::Allow;
  if (special == "ordinary") return tokens::SpecialPolicy::Ordinary;
  return tokens::SpecialPolicy::Disallow;
}

void add_io_options(CLI::App* cmd, TokensOptions& o, bool with_special) {
  cmd->add_option("--encoding,-e", o.encoding, "cl100k_base | o200k_base | r50k_base | p50k_base")
      ->capture_default_str()
      ->check(CLI::IsMember({"cl100k_base", "o200k_base", "r50k_base", "p50k_base"}));
  if (with_special)
    cmd->add_option("--special", o.special,
                    "special tokens such as <|endoftext|> in the text: none = refuse (tiktoken's default, exit 1), "
                    "all = encode them as special tokens, ordinary = encode them as plain text")
        ->capture_default_str()
        ->check(CLI::IsMember({"none", "all", "ordinary"}));
  cmd->add_option("input", o.input, "file to read, or - for standard input")->capture_default_str();
}

// Runs body with the loaded encoding and input; returns the exit code, printing errors to stderr.
template <class Body>
int run_with_input(const TokensOptions& o, Body&& body) {
  std::string text;
  if (!read_input(o.input, text)) {
    std::cerr << "tollway tokens: cannot read " << (o.input == "-" ? "standard input" : o.input) << "\n";
    return 1;
  }
  try {
    return body(tokens::Encoding::embedded(*tokens::parse_encoding_name(o.encoding)), text);
  } catch (const tokens::DisallowedSpecialToken& e) {
    std::cerr << "tollway tokens: the input contains the special token " << e.token() << " at byte " << e.offset()
              << ", which is disallowed; pass --special all to encode it as a special token or --special ordinary "
                 "to encode it as plain text\n";
  } catch (const std::exception& e) {
    std::cerr << "tollway tokens: " << e.what() << "\n";
  }
  return 1;
}

int run_encode(const TokensOptions& o) {
  return run_with_input(o, [&](const tokens::Encoding& enc, const std::string& text) {
    const auto ids = enc.encode(text, policy_of(o.special));
    std::string line;
    line.reserve(ids.size() * 6 + 1);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (i) line += ' ';
      line += std::to_string(ids[i]);
    }
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stdout);
    return 0;
  });
}

int run_count(const TokensOptions& o) {
  return run_with_input(o, [&](const tokens::Encoding& enc, const std::string& text) {
    std::cout << enc.count(text, policy_of(o.special)) << "\n";
    return 0;
  });
}

int run_decode(const TokensOptions& o) {
  return run_with_input(o, [&](const tokens::Encoding& enc, const std::string& text) {
    std::vector<std::uint32_t> ids;
    std::string word;
    std::istringstream in(text);
    while (in >> word) {
      // Accept "1 2 3", "1,2,3" and "[1, 2, 3]".
      for (char& c : word) if (c == ',' || c == '[' || c == ']') c = ' ';
      std::istringstream parts(word);
      std::string part;
      while (parts >> part) {
        if (part.find_first_not_of("0123456789") != std::string::npos || part.size() > 10) {
          std::cerr << "tollway tokens: not a token id: " << part << "\n";
          return 1;
        }
        const unsigned long long v = std::stoull(part);
        if (v > 0xFFFFFFFFull) {
          std::cerr << "tollway tokens: not a token id: " << part << "\n";
          return 1;
        }
        ids.push_back(static_cast<std::uint32_t>(v));
      }
    }
    const std::string bytes = enc.decode(ids);
    std::fwrite(bytes.data(), 1, bytes.size(), stdout);
    return 0;
  });
}

}  // namespace

void add_tokens_command(CLI::App& cli, int& exit_code) {
  auto* tokens = cli.add_subcommand("tokens", "Exact tokenizer: tiktoken's token ids for OpenAI encodings");
  tokens->require_subcommand(1);
  auto opts = std::make_shared<TokensOptions>();

  auto* encode = tokens->add_subcommand("encode", "Print the token ids of the input on one line, separated by spaces");
  add_io_options(encode, *opts, true);
  encode->callback([opts, &exit_code] { exit_code = run_encode(*opts); });

  auto* count = tokens->add_subcommand("count", "Print the number of tokens of the input");
  add_io_options(count, *opts, true);
  count->callback([opts, &exit_code] { exit_code = run_count(*opts); });

  auto* decode = tokens->add_subcommand("decode", "Read token ids (spaces, commas or a JSON array) and print their bytes");
  add_io_options(decode, *opts, false);
  decode->callback([opts, &exit_code] { exit_code = run_decode(*opts); });
}

}  // namespace tollway::app
