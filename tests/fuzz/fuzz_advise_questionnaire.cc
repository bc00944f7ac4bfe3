// libFuzzer target for `tollway advise`'s questionnaire reader (advise::parse_questionnaire, YAML). Invariants: it
// never throws or crashes; a refused document has errors that each name the file and say something; an accepted one
// holds only values the questionnaire allows (each word its canonical name re-parses to, a team of 1 to 100,000, a
// positive workload of at most 1e9), and reading it again gives the same answers.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "advise/questionnaire.h"
#include "fuzz_check.h"

namespace {

using namespace tollway::advise;

template <typename E>
void check_word(const std::optional<E>& value, std::optional<E> (*parse)(std::string_view)) {
  if (value) FUZZ_CHECK(parse(name_of(*value)) == value);
}

bool same(const Questionnaire& a, const Questionnaire& b) {
  return a.traffic == b.traffic && a.team_size == b.team_size && a.sre == b.sre && a.compliance == b.compliance &&
         a.limits == b.limits && a.observability == b.observability && a.priorities == b.priorities &&
         a.workload_cpu_cores == b.workload_cpu_cores && a.workload_memory_mib == b.workload_memory_mib;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const std::string file = "questionnaire.yaml";
  const QuestionnaireResult result = parse_questionnaire(text, file);
  if (!result.errors.empty()) {
    for (const auto& e : result.errors) {
      FUZZ_CHECK(e.file == file);
      FUZZ_CHECK(e.line >= 0);
      FUZZ_CHECK(!e.message.empty());
    }
    return 0;
  }
  const Questionnaire& q = result.questionnaire;
  check_word(q.traffic, parse_traffic);
  check_word(q.sre, parse_sre);
  check_word(q.compliance, parse_compliance);
  check_word(q.limits, parse_limits);
  check_word(q.observability, parse_observability);
  if (q.team_size) FUZZ_CHECK(*q.team_size >= 1 && *q.team_size <= 100000);
  for (const auto* w : {&q.workload_cpu_cores, &q.workload_memory_mib})
    if (*w) FUZZ_CHECK(**w > 0 && **w <= 1e9);
  for (const auto& [factor, level] : q.priorities) {
    FUZZ_CHECK(parse_factor(name_of(factor)) == factor);
    FUZZ_CHECK(parse_priority(name_of(level)) == level);
  }
  const QuestionnaireResult again = parse_questionnaire(text, file);
  FUZZ_CHECK(again.errors.empty() && same(again.questionnaire, q));
  return 0;
}
