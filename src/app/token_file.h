// Reads a token file (--admin-token-file, --token-file): its first line without surrounding whitespace, "" when
// the file is unreadable or empty. Never logs or prints the token.
#pragma once

#include <fstream>
#include <string>

namespace tollway::app {

inline std::string read_token_file(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  const auto first = token.find_first_not_of(" \t\r");
  const auto last = token.find_last_not_of(" \t\r");
  return first == std::string::npos ? "" : token.substr(first, last - first + 1);
}

}  // namespace tollway::app
