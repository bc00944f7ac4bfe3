// Runs the conformance corpus (tests/unit/http/corpus/*.txt; format described at the top of each file):
// published llhttp cases and request-smuggling payloads, each with the outcome tollway must produce.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "http/chunked.h"
#include "http/parser.h"

namespace tollway::http {
namespace {

struct CorpusCase {
  std::string id;
  std::string source;
  std::string kind;
  std::string expect;
  std::string reason;
  std::string bytes;
  int line = 0;
};

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes \r \n \t \\ \0 \xHH; any other escape is a corpus error.
bool unescape(const std::string& text, std::string& out) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i == text.size()) return false;
    switch (text[i]) {
      case 'r':
        out += '\r';
        break;
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case '\\':
        out += '\\';
        break;
      case '0':
        out += '\0';
        break;
      case 'x': {
        if (i + 2 >= text.size()) return false;
        const int high = hex_digit_value(text[i + 1]);
        const int low = hex_digit_value(text[i + 2]);
        if (high < 0 || low < 0) return false;
        out += static_cast<char>(high * 16 + low);
        i += 2;
        break;
      }
      default:
        return false;
    }
  }
  return true;
}

std::string corpus_dir() {
  return TOLLWAY_HTTP_CORPUS_DIR;
}

std::vector<CorpusCase> load_corpus(const std::string& path) {
  std::ifstream file(path);
  EXPECT_TRUE(file.good()) << "cannot open " << path;
  std::vector<CorpusCase> cases;
  CorpusCase current;
  bool in_case = false, in_bytes = false;
  std::string line;
  int number = 0;
  while (std::getline(file, line)) {
    ++number;
    if (in_bytes) {
      if (line == "end") {
        in_bytes = in_case = false;
        cases.push_back(current);
        continue;
      }
      EXPECT_TRUE(unescape(line, current.bytes)) << path << ":" << number << ": bad escape";
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    const std::size_t colon = line.find(':');
    EXPECT_NE(colon, std::string::npos) << path << ":" << number;
    if (colon == std::string::npos) continue;
    const std::string key = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    if (key == "case") {
      EXPECT_FALSE(in_case) << path << ":" << number << ": case without end";
      current = CorpusCase{};
      current.id = value;
      current.line = number;
      in_case = true;
    } else if (key == "source") {
      current.source = value;
    } else if (key == "kind") {
      current.kind = value;
    } else if (key == "expect") {
      current.expect = value;
    } else if (key == "reason") {
      current.reason = value;
    } else if (key == "bytes") {
      in_bytes = true;
    } else {
      ADD_FAILURE() << path << ":" << number << ": unknown key " << key;
    }
  }
  EXPECT_FALSE(in_case) << path << ": last case has no end";
  return cases;
}

// Result of parsing a head and, for chunked framing, the body that follows.
struct Outcome {
  ParseStatus status = ParseStatus::Incomplete;
  ParseError error;
  BodyFraming framing = BodyFraming::None;
  uint64_t content_length = 0;
  bool body_done = false;
  bool body_error = false;
};

const char* framing_name(BodyFraming framing) {
  switch (framing) {
    case BodyFraming::None:
      return "none";
    case BodyFraming::ContentLength:
      return "content-length";
    case BodyFraming::Chunked:
      return "chunked";
    case BodyFraming::UntilClose:
      return "until-close";
  }
  return "?";
}

Outcome run(const CorpusCase& c, std::string_view bytes) {
  Outcome outcome;
  std::size_t head_size = 0;
  if (c.kind == "request") {
    RequestHead head;
    outcome.status = parse_request_head(bytes, {}, head, outcome.error);
    outcome.framing = head.framing;
    outcome.content_length = head.content_length;
    head_size = head.head_size;
  } else {
    ResponseHead head;
    const std::string_view method = c.kind == "response-to-HEAD" ? "HEAD" : "GET";
    outcome.status = parse_response_head(bytes, method, {}, head, outcome.error);
    outcome.framing = head.framing;
    outcome.content_length = head.content_length;
    head_size = head.head_size;
  }
  if (outcome.status == ParseStatus::Complete && outcome.framing == BodyFraming::Chunked) {
    ChunkedDecoder decoder;
    std::string_view body = bytes.substr(head_size);
    for (;;) {
      const ChunkedDecoder::Step step = decoder.next(body);
      body.remove_prefix(step.consumed);
      if (step.status == ChunkedDecoder::Status::Done) outcome.body_done = true;
      if (step.status == ChunkedDecoder::Status::Error) outcome.body_error = true;
      if (step.status != ChunkedDecoder::Status::Data) break;
    }
  }
  return outcome;
}

void check_case(const CorpusCase& c) {
  SCOPED_TRACE("case " + c.id + " (line " + std::to_string(c.line) + "; " + c.source + ")");
  ASSERT_FALSE(c.bytes.empty());
  ASSERT_TRUE(c.kind == "request" || c.kind == "response" || c.kind == "response-to-HEAD") << c.kind;
  const Outcome outcome = run(c, c.bytes);
  std::istringstream expect(c.expect);
  std::string verb;
  expect >> verb;
  if (verb == "reject") {
    int status = 0;
    expect >> status;
    ASSERT_EQ(outcome.status, ParseStatus::Error)
        << "accepted with framing " << framing_name(outcome.framing);
    EXPECT_EQ(outcome.error.status, status) << outcome.error.message;
    if (!c.reason.empty()) {
      EXPECT_NE(outcome.error.message.find(c.reason), std::string_view::npos)
          << "message was: " << outcome.error.message;
    }
  } else if (verb == "head") {
    std::string framing;
    expect >> framing;
    ASSERT_EQ(outcome.status, ParseStatus::Complete) << outcome.error.message;
    EXPECT_EQ(framing_name(outcome.framing), framing);
    if (framing == "content-length") {
      uint64_t length = 0;
      expect >> length;
      EXPECT_EQ(outcome.content_length, length);
    }
    if (framing == "chunked" && !outcome.body_done) {
      EXPECT_FALSE(outcome.body_error) << "chunked body rejected";
    }
  } else if (verb == "body-error") {
    ASSERT_EQ(outcome.status, ParseStatus::Complete) << outcome.error.message;
    ASSERT_EQ(outcome.framing, BodyFraming::Chunked);
    EXPECT_TRUE(outcome.body_error);
    EXPECT_FALSE(outcome.body_done);
  } else {
    FAIL() << "unknown expectation: " << c.expect;
  }

  // Splitting the input never changes the verdict: every prefix is Incomplete or reaches the same result.
  for (std::size_t cut = 0; cut < c.bytes.size(); ++cut) {
    const Outcome partial = run(c, std::string_view(c.bytes).substr(0, cut));
    if (partial.status == ParseStatus::Incomplete) continue;
    ASSERT_EQ(partial.status, outcome.status) << "prefix of " << cut << " bytes";
    if (partial.status == ParseStatus::Error) {
      ASSERT_EQ(partial.error.message, outcome.error.message) << "prefix of " << cut << " bytes";
    } else {
      ASSERT_EQ(partial.framing, outcome.framing) << "prefix of " << cut << " bytes";
    }
  }
}

TEST(Conformance, RequestCorpus) {
  const std::vector<CorpusCase> cases = load_corpus(corpus_dir() + "/requests.txt");
  EXPECT_GE(cases.size(), 60u);
  int rejected = 0;
  for (const CorpusCase& c : cases) {
    check_case(c);
    if (c.expect.rfind("reject", 0) == 0 || c.expect == "body-error") ++rejected;
  }
  EXPECT_GE(rejected, 50);
}

}  // namespace
}  // namespace tollway::http
