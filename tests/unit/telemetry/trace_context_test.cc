// Cases from the W3C trace-context test suite (w3c/trace-context, test/test.py: TraceContextTest and
// AdvancedTest, STRICT_LEVEL 2), reduced to what the harness asserts about the extracted context. Header values
// are copied from that file; the assertions are ours.
#include "telemetry/trace_context.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace tollway::telemetry {
namespace {

constexpr std::string_view kTraceId = "12345678901234567890123456789012";
constexpr std::string_view kValid00 = "00-12345678901234567890123456789012-1234567890123456-01";

ExtractedTraceContext extract(std::vector<std::string_view> traceparent, std::vector<std::string_view> tracestate = {}) {
  return extract_trace_context(traceparent, tracestate);
}

// True when the harness would see the incoming trace id continued.
bool continues(std::string_view traceparent) {
  const auto ctx = extract({traceparent});
  return ctx.parent && ctx.parent->trace_id.hex() == kTraceId;
}

TEST(Traceparent, ParsesTheSpecExamples) {
  const auto sampled = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(sampled);
  EXPECT_EQ(sampled->version, 0);
  EXPECT_EQ(sampled->trace_id.hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(sampled->parent_id.hex(), "00f067aa0ba902b7");
  EXPECT_TRUE(sampled->sampled());
  const auto unsampled = parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(unsampled);
  EXPECT_FALSE(unsampled->sampled());
  // Flags are a bit field: 09 carries the sampled bit, 08 does not.
  EXPECT_TRUE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09")->sampled());
  EXPECT_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-08")->sampled());
}

TEST(Traceparent, Version00MustBeExact) {  // test_traceparent_version_0x00
  EXPECT_TRUE(continues(kValid00));
  EXPECT_FALSE(continues("00-12345678901234567890123456789012-1234567890123456-01."));
  EXPECT_FALSE(continues("00-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like"));
}

TEST(Traceparent, FutureVersionIsParsedForwardCompatibly) {  // test_traceparent_version_0xcc
  EXPECT_TRUE(continues("cc-12345678901234567890123456789012-1234567890123456-01"));
  EXPECT_TRUE(continues("cc-12345678901234567890123456789012-1234567890123456-01-what-the-future-will-be-like"));
  EXPECT_FALSE(continues("cc-12345678901234567890123456789012-1234567890123456-01.what-the-future-will-be-like"));
  const auto parsed = parse_traceparent("cc-12345678901234567890123456789012-1234567890123456-01-x");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->version, 0xcc);
  // A future version shorter than 55 characters is not parsed.
  EXPECT_FALSE(parse_traceparent("01-12345678901234567890123456789012-1234567890123456-0"));
  // We answer with version 00, whatever we received.
  SpanContext ctx = *extract({"cc-12345678901234567890123456789012-1234567890123456-01-x"}).parent;
  EXPECT_EQ(format_traceparent(child_context(ctx)).substr(0, 3), "00-");
}

TEST(Traceparent, VersionFfIsInvalid) {  // test_traceparent_version_0xff
  EXPECT_FALSE(continues("ff-12345678901234567890123456789012-1234567890123456-01"));
}

TEST(Traceparent, BadVersionCharactersAndLengths) {
  // test_traceparent_version_illegal_characters, _too_long, _too_short
  EXPECT_FALSE(continues(".0-12345678901234567890123456789012-1234567890123456-01"));
  EXPECT_FALSE(continues("0.-12345678901234567890123456789012-1234567890123456-01"));
  EXPECT_FALSE(continues("000-12345678901234567890123456789012-1234567890123456-01"));
  EXPECT_FALSE(continues("0000-12345678901234567890123456789012-1234567890123456-01"));
  EXPECT_FALSE(continues("0-12345678901234567890123456789012-1234567890123456-01"));
  // Uppercase hex is not HEXDIGLC, in any field.
  EXPECT_FALSE(continues("CC-12345678901234567890123456789012-1234567890123456-01"));
  EXPECT_FALSE(parse_traceparent("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01"));
  EXPECT_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00F067AA0BA902B7-01"));
  EXPECT_FALSE(parse_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0A"));
}

TEST(Traceparent, TraceIdRules) {
  // test_traceparent_trace_id_all_zero, _illegal_characters, _too_long, _too_short
  EXPECT_FALSE(extract({"00-00000000000000000000000000000000-1234567890123456-01"}).parent);
  EXPECT_FALSE(continues("00-.2345678901234567890123456789012-1234567890123456-01"));
  EXPECT_FALSE(continues("00-1234567890123456789012345678901.-1234567890123456-01"));
  EXPECT_FALSE(extract({"00-123456789012345678901234567890123-1234567890123456-01"}).parent);
  EXPECT_FALSE(extract({"00-1234567890123456789012345678901-1234567890123456-01"}).parent);
}

TEST(Traceparent, ParentIdRules) {
  // test_traceparent_parent_id_all_zero, _illegal_characters, _too_long, _too_short
  EXPECT_FALSE(continues("00-12345678901234567890123456789012-0000000000000000-01"));
  EXPECT_FALSE(continues("00-12345678901234567890123456789012-.234567890123456-01"));
  EXPECT_FALSE(continues("00-12345678901234567890123456789012-123456789012345.-01"));
  EXPECT_FALSE(continues("00-12345678901234567890123456789012-12345678901234567-01"));
  EXPECT_FALSE(continues("00-12345678901234567890123456789012-123456789012345-01"));
}

TEST(Traceparent, TraceFlagsRules) {
  // test_traceparent_trace_flags_illegal_characters, _too_long, _too_short
  EXPECT_FALSE(continues("00-12345678901234567890123456789012-1234567890123456-.0"));
  EXPECT_FALSE(continues("00-12345678901234567890123456789012-1234567890123456-0."));
  EXPECT_FALSE(continues("00-12345678901234567890123456789012-1234567890123456-001"));
  EXPECT_FALSE(continues("00-12345678901234567890123456789012-1234567890123456-1"));
}

TEST(Traceparent, OptionalWhitespaceAroundTheValue) {  // test_traceparent_ows_handling
  EXPECT_TRUE(continues(" 00-12345678901234567890123456789012-1234567890123456-01"));
  EXPECT_TRUE(continues("\t00-12345678901234567890123456789012-1234567890123456-01"));
  EXPECT_TRUE(continues("00-12345678901234567890123456789012-1234567890123456-01 "));
  EXPECT_TRUE(continues("00-12345678901234567890123456789012-1234567890123456-01\t"));
  EXPECT_TRUE(continues("\t 00-12345678901234567890123456789012-1234567890123456-01 \t"));
  // Whitespace inside is not optional whitespace.
  EXPECT_FALSE(continues("00- 12345678901234567890123456789012-1234567890123456-01"));
}

TEST(Traceparent, DuplicatedHeadersStartANewTrace) {  // test_traceparent_duplicated
  const auto ctx = extract({"00-12345678901234567890123456789011-1234567890123456-01",
                            "00-12345678901234567890123456789012-1234567890123456-01"});
  EXPECT_FALSE(ctx.parent);
  EXPECT_EQ(ctx.traceparent, IncomingTraceparent::Duplicated);
  // Even two identical lines are ambiguous.
  EXPECT_EQ(extract({kValid00, kValid00}).traceparent, IncomingTraceparent::Duplicated);
}

TEST(Traceparent, StatusIsReportedForCounting) {
  EXPECT_EQ(extract({}).traceparent, IncomingTraceparent::Absent);
  EXPECT_EQ(extract({kValid00}).traceparent, IncomingTraceparent::Valid);
  EXPECT_EQ(extract({"garbage"}).traceparent, IncomingTraceparent::Invalid);
  EXPECT_EQ(to_string(IncomingTraceparent::Duplicated), "duplicated");
}

TEST(TraceContext, ChildKeepsTraceIdAndGetsANewSpanId) {
  // test_traceparent_included_tracestate_missing, test_multiple_requests_with_valid_traceparent
  const SpanContext parent = *extract({kValid00}).parent;
  EXPECT_TRUE(parent.remote);
  std::set<std::string> span_ids;
  for (int i = 0; i < 3; ++i) {
    const SpanContext child = child_context(parent);
    EXPECT_EQ(child.trace_id, parent.trace_id);
    EXPECT_NE(child.span_id, parent.span_id);
    EXPECT_TRUE(child.span_id.valid());
    EXPECT_TRUE(child.sampled());
    EXPECT_FALSE(child.remote);
    span_ids.insert(child.span_id.hex());
    const auto reparsed = parse_traceparent(format_traceparent(child));
    ASSERT_TRUE(reparsed);
    EXPECT_EQ(reparsed->trace_id.hex(), kTraceId);
    EXPECT_EQ(reparsed->parent_id, child.span_id);
  }
  EXPECT_EQ(span_ids.size(), 3u);
  const SpanContext unsampled = *extract({"00-12345678901234567890123456789012-1234567890123456-00"}).parent;
  EXPECT_FALSE(child_context(unsampled).sampled());
  EXPECT_TRUE(child_context(unsampled, true).sampled());
}

TEST(TraceContext, FormatZeroesUnknownFlags) {
  SpanContext ctx = *extract({"00-12345678901234567890123456789012-1234567890123456-ff"}).parent;
  EXPECT_EQ(format_traceparent(ctx), "00-12345678901234567890123456789012-1234567890123456-01");
}

TEST(TraceContext, RootsHaveFreshNonZeroIds) {  // test_both_traceparent_and_tracestate_missing, AdvancedTest
  std::set<std::string> trace_ids, span_ids;
  for (int i = 0; i < 1000; ++i) {
    const SpanContext root = new_root_context(i % 2 == 0);
    EXPECT_TRUE(root.valid());
    EXPECT_EQ(root.sampled(), i % 2 == 0);
    EXPECT_TRUE(root.trace_state.empty());
    trace_ids.insert(root.trace_id.hex());
    span_ids.insert(root.span_id.hex());
    const std::string header = format_traceparent(root);
    EXPECT_EQ(header.size(), 55u);
    EXPECT_TRUE(parse_traceparent(header));
  }
  EXPECT_EQ(trace_ids.size(), 1000u);
  EXPECT_EQ(span_ids.size(), 1000u);
}

TEST(Ids, HexRoundTripAndStrictness) {
  const auto id = TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e4736");
  ASSERT_TRUE(id);
  EXPECT_EQ(id->bytes[0], 0x4b);
  EXPECT_EQ(id->bytes[15], 0x36);
  EXPECT_EQ(id->hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_FALSE(TraceId::from_hex("00000000000000000000000000000000"));
  EXPECT_FALSE(TraceId::from_hex("4bf92f3577b34da6a3ce929d0e0e473"));
  EXPECT_FALSE(SpanId::from_hex("0000000000000000"));
  EXPECT_FALSE(SpanId::from_hex("00f067aa0ba902bG"));
  EXPECT_EQ(SpanId::from_hex("00f067aa0ba902b7")->hex(), "00f067aa0ba902b7");
}

// --- tracestate ---------------------------------------------------------------------------------------------

std::optional<TraceState> state_of(std::vector<std::string_view> lines) {
  const auto ctx = extract({"00-12345678901234567890123456789012-1234567890123456-00"}, lines);
  if (!ctx.parent || ctx.tracestate_discarded) return std::nullopt;
  return ctx.parent->trace_state;
}

TEST(Tracestate, InheritedWithTraceparent) {  // test_tracestate_included_traceparent_included
  const auto state = state_of({"foo=1,bar=2"});
  ASSERT_TRUE(state);
  EXPECT_EQ(state->get("foo"), "1");
  EXPECT_EQ(state->get("bar"), "2");
  EXPECT_EQ(child_context(*extract({kValid00}, {"foo=1,bar=2"}).parent).trace_state.serialize(), "foo=1,bar=2");
}

TEST(Tracestate, IgnoredWithoutAValidTraceparent) {  // test_tracestate_included_traceparent_missing
  const auto missing = extract({}, {"foo=1"});
  EXPECT_FALSE(missing.parent);
  const auto invalid = extract({"00-00000000000000000000000000000000-1234567890123456-01"}, {"foo=1"});
  EXPECT_FALSE(invalid.parent);
  EXPECT_FALSE(invalid.tracestate_discarded);  // never even parsed
}

TEST(Tracestate, EmptyHeadersAndMembers) {  // test_tracestate_empty_header
  auto s = state_of({""});
  ASSERT_TRUE(s);
  EXPECT_TRUE(s->empty());
  s = state_of({"foo=1", ""});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->get("foo"), "1");
  s = state_of({"", "foo=1"});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->serialize(), "foo=1");
  s = state_of({" , ,foo=1,,\t,"});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->serialize(), "foo=1");
}

TEST(Tracestate, MultipleHeadersCombineInOrder) {  // test_tracestate_multiple_headers_different_keys
  const auto s = state_of({"foo=1,bar=2", "rojo=1,congo=2", "baz=3"});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->serialize(), "foo=1,bar=2,rojo=1,congo=2,baz=3");
}

TEST(Tracestate, DuplicatedKeysDiscardTheWholeHeader) {  // test_tracestate_duplicated_keys
  EXPECT_FALSE(state_of({"foo=1,foo=1"}));
  EXPECT_FALSE(state_of({"foo=1,foo=2"}));
  EXPECT_FALSE(state_of({"foo=1", "foo=1"}));
  EXPECT_FALSE(state_of({"foo=1", "foo=2"}));
  // The traceparent still counts (a bad tracestate must not affect it).
  const auto ctx = extract({kValid00}, {"foo=1,foo=2"});
  ASSERT_TRUE(ctx.parent);
  EXPECT_TRUE(ctx.tracestate_discarded);
  EXPECT_TRUE(ctx.parent->trace_state.empty());
}

TEST(Tracestate, AllAllowedCharacters) {  // test_tracestate_all_allowed_characters
  const std::string key_without_vendor = "abcdefghijklmnopqrstuvwxyz0123456789_-*/";
  const std::string key_with_vendor = key_without_vendor + "@a-z0-9_-*/";
  std::string value;
  for (int c = 0x20; c <= 0x2B; ++c) value.push_back(static_cast<char>(c));
  for (int c = 0x2D; c <= 0x3C; ++c) value.push_back(static_cast<char>(c));
  for (int c = 0x3E; c <= 0x7E; ++c) value.push_back(static_cast<char>(c));
  const std::string line1 = key_without_vendor + "=" + value;
  auto s = state_of({line1});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->get(key_without_vendor), value);
  const std::string line2 = key_with_vendor + "=" + value;
  s = state_of({line2});
  ASSERT_TRUE(s);
  EXPECT_EQ(s->get(key_with_vendor), value);
}

TEST(Tracestate, OptionalWhitespace) {  // test_tracestate_ows_handling
  for (std::string_view line : {"foo=1 \t , \t bar=2, \t baz=3", "foo=1\t \t,\t \tbar=2,\t \tbaz=3"}) {
    const auto s = state_of({line});
    ASSERT_TRUE(s) << line;
    EXPECT_EQ(s->serialize(), "foo=1,bar=2,baz=3");
  }
  for (std::string_view line : {" foo=1", "\tfoo=1", "foo=1 ", "foo=1\t", "\t foo=1 \t"}) {
    const auto s = state_of({line});
    ASSERT_TRUE(s) << line;
    EXPECT_EQ(s->get("foo"), "1");
  }
  // A leading space belongs to the value.
  EXPECT_EQ(state_of({"foo= 1"})->get("foo"), " 1");
}

TEST(Tracestate, IllegalKeys) {  // test_tracestate_key_illegal_characters, _illegal_vendor_format
  EXPECT_FALSE(state_of({"foo =1"}));
  EXPECT_FALSE(state_of({"FOO=1"}));
  EXPECT_FALSE(state_of({"foo.bar=1"}));
  EXPECT_FALSE(state_of({"foo@=1,bar=2"}));
  EXPECT_FALSE(state_of({"@foo=1,bar=2"}));
  EXPECT_FALSE(state_of({"foo@@bar=1,bar=2"}));
  EXPECT_FALSE(state_of({"foo@bar@baz=1,bar=2"}));
  EXPECT_FALSE(state_of({"1foo=1"}));      // a simple key starts with a letter
  EXPECT_TRUE(state_of({"1tenant@sys=1"}));  // a tenant id may start with a digit
  EXPECT_FALSE(state_of({"tenant@1sys=1"}));  // a system id may not
}

TEST(Tracestate, MemberCountLimit) {  // test_tracestate_member_count_limit
  const auto s32 = state_of({"bar01=01,bar02=02,bar03=03,bar04=04,bar05=05,bar06=06,bar07=07,bar08=08,bar09=09,bar10=10",
                             "bar11=11,bar12=12,bar13=13,bar14=14,bar15=15,bar16=16,bar17=17,bar18=18,bar19=19,bar20=20",
                             "bar21=21,bar22=22,bar23=23,bar24=24,bar25=25,bar26=26,bar27=27,bar28=28,bar29=29,bar30=30",
                             "bar31=31,bar32=32"});
  ASSERT_TRUE(s32);
  EXPECT_EQ(s32->members().size(), 32u);
  EXPECT_EQ(s32->get("bar01"), "01");
  EXPECT_FALSE(state_of({"bar01=01,bar02=02,bar03=03,bar04=04,bar05=05,bar06=06,bar07=07,bar08=08,bar09=09,bar10=10",
                         "bar11=11,bar12=12,bar13=13,bar14=14,bar15=15,bar16=16,bar17=17,bar18=18,bar19=19,bar20=20",
                         "bar21=21,bar22=22,bar23=23,bar24=24,bar25=25,bar26=26,bar27=27,bar28=28,bar29=29,bar30=30",
                         "bar31=31,bar32=32,bar33=33"}));
}

TEST(Tracestate, KeyLengthLimits) {  // test_tracestate_key_length_limit
  const std::string z256 = std::string(256, 'z') + "=1";
  const std::string z257 = std::string(257, 'z') + "=1";
  const std::string tenant241 = std::string(241, 't') + "@" + std::string(14, 'v') + "=1";
  const std::string tenant242 = std::string(242, 't') + "@v=1";
  const std::string system15 = "t@" + std::string(15, 'v') + "=1";
  EXPECT_TRUE(state_of({"foo=1", z256}));
  EXPECT_FALSE(state_of({"foo=1", z257}));
  EXPECT_TRUE(state_of({"foo=1", tenant241}));
  EXPECT_FALSE(state_of({"foo=1", tenant242}));
  EXPECT_FALSE(state_of({"foo=1", system15}));
}

TEST(Tracestate, IllegalValues) {  // test_tracestate_value_illegal_characters
  EXPECT_FALSE(state_of({"foo=bar=baz"}));
  EXPECT_FALSE(state_of({"foo=,bar=3"}));
  EXPECT_FALSE(state_of({"foo=a\tb"}));
  EXPECT_FALSE(state_of({"foo=" + std::string(257, 'v')}));
  EXPECT_TRUE(state_of({"foo=" + std::string(256, 'v')}));
  EXPECT_FALSE(state_of({"foo=\x80"}));
}

TEST(Tracestate, OwnEntryGoesFirstAndReplacesTheOldOne) {
  const auto s = *TraceState::parse("rojo=00f067aa0ba902b7,tollway=old,congo=t61rcWkgMzE");
  const auto updated = s.with_entry_first("tollway", "00f067aa0ba902b7");
  ASSERT_TRUE(updated);
  EXPECT_EQ(updated->serialize(), "tollway=00f067aa0ba902b7,rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
  EXPECT_FALSE(s.with_entry_first("Tollway", "x"));
  EXPECT_FALSE(s.with_entry_first("tollway", "a,b"));
}

// The header value we send equals with_entry_first's serialization, written directly when there are no members.
TEST(Tracestate, SerializedWithEntryFirstMatchesTheState) {
  const TraceState none;
  EXPECT_EQ(none.serialize_with_entry_first("tollway", "00f067aa0ba902b7"), "tollway=00f067aa0ba902b7");
  const TraceState some = *TraceState::parse("congo=t61rcWkgMzE,tollway=old,rojo=00f067aa0ba902b7");
  EXPECT_EQ(some.serialize_with_entry_first("tollway", "b7ad6b7169203331"),
            some.with_entry_first("tollway", "b7ad6b7169203331")->serialize());
  for (const TraceState* state : {&none, &some}) {
    EXPECT_FALSE(state->serialize_with_entry_first("Tollway", "x")) << "invalid key";
    EXPECT_FALSE(state->serialize_with_entry_first("tollway", "a,b")) << "invalid value";
    EXPECT_FALSE(state->serialize_with_entry_first("tollway", "x", {.max_members = 32, .max_bytes = 5}))
        << "our entry alone over the limit";
  }
}

TEST(Tracestate, TruncationDropsRightmostWhenOverThirtyTwoMembers) {
  std::string line;
  for (int i = 1; i <= 32; ++i) line += (i > 1 ? "," : "") + std::string("k") + std::to_string(i) + "=v";
  const auto full = *TraceState::parse(line);
  ASSERT_EQ(full.members().size(), 32u);
  const auto updated = *full.with_entry_first("tollway", "1");
  EXPECT_EQ(updated.members().size(), 32u);
  EXPECT_EQ(updated.members().front().first, "tollway");
  EXPECT_EQ(updated.members()[1].first, "k1");
  EXPECT_FALSE(updated.get("k32"));
  EXPECT_TRUE(updated.get("k31"));
}

TEST(Tracestate, TruncationDropsLongEntriesFirstThenFromTheRight) {
  const std::string long_value(200, 'x');  // "big=" + 200 > 128 characters
  const std::string line = "a=1,big=" + long_value + ",b=2,c=3";
  const auto s = *TraceState::parse(line);
  TraceStateLimits limits;
  limits.max_bytes = 40;
  const auto updated = *s.with_entry_first("tollway", "1", limits);
  EXPECT_EQ(updated.serialize(), "tollway=1,a=1,b=2,c=3");
  limits.max_bytes = 19;  // "tollway=1,a=1,b=2" = 17, with ",c=3" 21
  EXPECT_EQ(s.with_entry_first("tollway", "1", limits)->serialize(), "tollway=1,a=1,b=2");
  limits.max_members = 2;
  limits.max_bytes = 512;
  EXPECT_EQ(s.with_entry_first("tollway", "1", limits)->serialize(), "tollway=1,a=1");
  limits.max_bytes = 5;  // our own entry alone does not fit
  EXPECT_FALSE(s.with_entry_first("tollway", "1", limits));
}

TEST(Tracestate, SerializeParsesBackToTheSameState) {
  const auto s = *TraceState::parse(std::string_view("  a= x , b@c=2 ,, d=3  "));
  EXPECT_EQ(s.serialize(), "a= x,b@c=2,d=3");
  EXPECT_EQ(*TraceState::parse(s.serialize()), s);
}

}  // namespace
}  // namespace tollway::telemetry
