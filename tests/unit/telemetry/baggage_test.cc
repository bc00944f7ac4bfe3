// Baggage cases: parsing cases follow w3c/baggage test/test_baggage.py (inputs copied, assertions ours) and the
// header examples of baggage/HTTP_HEADER_FORMAT.md; limits follow the spec's 64 members / 8192 bytes.
#include "telemetry/baggage.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace tollway::telemetry {
namespace {

TEST(Baggage, ParsesASimpleMember) {
  const auto b = parse_baggage("SomeKey=SomeValue");
  ASSERT_EQ(b.entries.size(), 1u);
  EXPECT_EQ(b.entries[0].key, "SomeKey");
  EXPECT_EQ(b.entries[0].value, "SomeValue");
  EXPECT_TRUE(b.entries[0].properties.empty());
}

TEST(Baggage, ParsesPropertiesWithAndWithoutValues) {
  const auto b = parse_baggage("SomeKey=SomeValue;SomeProp,SomeKey2=SomeValue2;ValueProp=PropVal");
  ASSERT_EQ(b.entries.size(), 2u);
  ASSERT_EQ(b.entries[0].properties.size(), 1u);
  EXPECT_EQ(b.entries[0].properties[0].key, "SomeProp");
  EXPECT_FALSE(b.entries[0].properties[0].value);
  ASSERT_EQ(b.entries[1].properties.size(), 1u);
  EXPECT_EQ(b.entries[1].properties[0].key, "ValueProp");
  EXPECT_EQ(b.entries[1].properties[0].value, "PropVal");
  const auto multi = parse_baggage("SomeKey=SomeValue;SomeProp;SecondProp=PropValue");
  ASSERT_EQ(multi.entries.size(), 1u);
  ASSERT_EQ(multi.entries[0].properties.size(), 2u);
  EXPECT_EQ(multi.entries[0].properties[1].value, "PropValue");
}

TEST(Baggage, TrimsOptionalWhitespaceEverywhere) {
  const auto b = parse_baggage(
      "SomeKey \t = \t SomeValue \t ; \t SomeProp \t , \t SomeKey2 \t = \t SomeValue2 \t ; \t ValueProp \t = \t PropVal");
  ASSERT_EQ(b.entries.size(), 2u);
  EXPECT_EQ(b.entries[0].key, "SomeKey");
  EXPECT_EQ(b.entries[0].value, "SomeValue");
  EXPECT_EQ(b.entries[0].properties[0].key, "SomeProp");
  EXPECT_EQ(b.entries[1].key, "SomeKey2");
  EXPECT_EQ(b.entries[1].value, "SomeValue2");
  EXPECT_EQ(b.entries[1].properties[0].key, "ValueProp");
  EXPECT_EQ(b.entries[1].properties[0].value, "PropVal");
}

TEST(Baggage, ValueMayContainEqualsSigns) {
  const auto b = parse_baggage("SomeKey=SomeValue=equals");
  ASSERT_EQ(b.entries.size(), 1u);
  EXPECT_EQ(b.entries[0].value, "SomeValue=equals");
}

TEST(Baggage, PercentEncodedValues) {
  const std::string decoded = "\t \"';=asdf!@#$%^&*()";
  const auto b = parse_baggage("SomeKey=%09%20%22%27%3B%3Dasdf%21%40%23%24%25%5E%26%2A%28%29");
  ASSERT_EQ(b.entries.size(), 1u);
  EXPECT_EQ(b.entries[0].value, decoded);
  EXPECT_EQ(serialize_baggage(b.entries), "SomeKey=%09%20%22%27%3B%3Dasdf%21%40%23%24%25%5E%26%2A%28%29");
  const auto ows = parse_baggage("SomeKey \t = \t %09%20%22%27%3B%3Dasdf%21%40%23%24%25%5E%26%2A%28%29 \t ");
  ASSERT_EQ(ows.entries.size(), 1u);
  EXPECT_EQ(ows.entries[0].value, decoded);
  // UTF-8 survives the round trip; lowercase escapes are accepted.
  const auto utf8 = parse_baggage("city=M%C3%BCnchen,x=%c3%a9");
  ASSERT_EQ(utf8.entries.size(), 2u);
  EXPECT_EQ(utf8.entries[0].value, "M\xC3\xBCnchen");
  EXPECT_EQ(utf8.entries[1].value, "\xC3\xA9");
}

TEST(Baggage, SpecHeaderExamples) {
  const auto single = parse_baggage("userId=alice,serverNode=DF%2028,isProduction=false");
  ASSERT_EQ(single.entries.size(), 3u);
  EXPECT_EQ(single.entries[1].value, "DF 28");
  std::vector<std::string_view> lines = {"userId=alice", "serverNode=DF%2028,isProduction=false"};
  const auto split = parse_baggage(lines);
  EXPECT_EQ(split.entries, single.entries);
  std::vector<std::string_view> spaced = {"userId =   alice", "serverNode = DF%2028, isProduction = false"};
  EXPECT_EQ(parse_baggage(spaced).entries, single.entries);
  EXPECT_EQ(serialize_baggage(single.entries), "userId=alice,serverNode=DF%2028,isProduction=false");
  const auto props = parse_baggage("key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=propertyValue");
  ASSERT_EQ(props.entries.size(), 3u);
  EXPECT_EQ(props.entries[2].properties[0].key, "propertyKey");
  EXPECT_EQ(serialize_baggage(props.entries),
            "key1=value1;property1;property2,key2=value2,key3=value3;propertyKey=propertyValue");
}

TEST(Baggage, InvalidMembersAreDroppedAndCounted) {
  const auto b = parse_baggage("good=1,no_equals,bad key=2,k=\"quoted\",k2=a\\b,k3=%zz,k4=%4,ok=2,x=1;;,y=1;=v");
  ASSERT_EQ(b.entries.size(), 2u);
  EXPECT_EQ(b.entries[0].key, "good");
  EXPECT_EQ(b.entries[1].key, "ok");
  EXPECT_EQ(b.dropped_invalid, 8u);
  EXPECT_EQ(b.dropped_over_limit, 0u);
}

// W3C Baggage, value: "When decoding the value, percent-encoded octet sequences that do not match the UTF-8
// encoding scheme MUST be replaced with the replacement code point (U+FFFD)." The member is kept; each maximal
// invalid subpart becomes one U+FFFD (Unicode 3.9, as WHATWG's UTF-8 decoder does).
TEST(Baggage, InvalidUtf8EscapesDecodeToReplacementCharacter) {
  const std::string fffd = "\xEF\xBF\xBD";
  const auto b = parse_baggage("k5=%FF,cut=abc%C3,mid=%E2%82x,surrogate=%ED%A0%80,overlong=%C0%AF,euro=%E2%82%AC,"
                               "high=%F4%90%80%80");
  ASSERT_EQ(b.entries.size(), 7u);
  EXPECT_EQ(b.dropped_invalid, 0u);
  EXPECT_EQ(b.entries[0].value, fffd);
  EXPECT_EQ(b.entries[1].value, "abc" + fffd);
  EXPECT_EQ(b.entries[2].value, fffd + "x");                // E2 82 is one maximal subpart
  EXPECT_EQ(b.entries[3].value, fffd + fffd + fffd);        // ED A0: A0 is outside ED's 80..9F
  EXPECT_EQ(b.entries[4].value, fffd + fffd);               // C0 never starts a sequence
  EXPECT_EQ(b.entries[5].value, "\xE2\x82\xAC");
  EXPECT_EQ(b.entries[6].value, fffd + fffd + fffd + fffd);  // above U+10FFFF
  // Re-encoded for the upstream: the replacement character travels as its UTF-8 escapes.
  EXPECT_EQ(serialize_baggage(std::span(b.entries).first(1)), "k5=%EF%BF%BD");
}

TEST(Baggage, EmptyMembersAndEmptyValuesAreFine) {
  const auto b = parse_baggage(" , ,a=,, b=2 ,");
  ASSERT_EQ(b.entries.size(), 2u);
  EXPECT_EQ(b.entries[0].value, "");
  EXPECT_EQ(b.dropped_invalid, 0u);
  EXPECT_EQ(serialize_baggage(b.entries), "a=,b=2");
}

TEST(Baggage, KeepsSixtyFourMembersAndDropsTheRest) {
  std::string header;
  for (int i = 0; i < 70; ++i) header += (i ? "," : "") + std::string("key") + std::to_string(i) + "=value";
  const auto b = parse_baggage(header);
  EXPECT_EQ(b.entries.size(), 64u);
  EXPECT_EQ(b.dropped_over_limit, 6u);
  EXPECT_EQ(b.entries.back().key, "key63");
  const std::string out = serialize_baggage(b.entries);
  EXPECT_EQ(parse_baggage(out).entries.size(), 64u);
}

TEST(Baggage, KeepsAnEntryOfExactly8192Bytes) {  // test_serialize_long_entry
  std::string long_value;
  for (int i = 0; i < 819; ++i) long_value += "0123456789";
  const std::string header = "a=" + long_value;
  ASSERT_EQ(header.size(), 8192u);
  const auto b = parse_baggage(header);
  ASSERT_EQ(b.entries.size(), 1u);
  EXPECT_EQ(serialize_baggage(b.entries).size(), 8192u);
  const auto over = parse_baggage(header + "0");
  EXPECT_TRUE(over.entries.empty());
  EXPECT_EQ(over.dropped_over_limit, 1u);
}

TEST(Baggage, ByteLimitCountsTheEncodedForm) {
  // Each '!' becomes %21 when we serialize, so 3000 of them need 9000 bytes: over the limit.
  const auto b = parse_baggage("a=" + std::string(3000, '!') + ",b=1");
  ASSERT_EQ(b.entries.size(), 1u);
  EXPECT_EQ(b.entries[0].key, "b");
  EXPECT_EQ(b.dropped_over_limit, 1u);
  BaggageLimits small{2, 8192};
  EXPECT_EQ(parse_baggage("a=1,b=2,c=3", small).entries.size(), 2u);
}

TEST(Baggage, SerializeSkipsWhatCannotBeSentAndRespectsLimits) {
  std::vector<BaggageEntry> entries = {{"ok", "v", {}}, {"bad key", "v", {}}, {"p", "v", {{"bad prop", std::nullopt}}},
                                       {"q", "a b", {{"k", "v"}, {"flag", std::nullopt}}}};
  EXPECT_EQ(serialize_baggage(entries), "ok=v,q=a%20b;k=v;flag");
  EXPECT_EQ(serialize_baggage(entries, BaggageLimits{1, 8192}), "ok=v");
  EXPECT_EQ(serialize_baggage(entries, BaggageLimits{64, 6}), "ok=v");
}

TEST(Baggage, RoundTripIsStable) {
  const auto first = parse_baggage(" a = x%2Cy ; p ; q = r , b=%E2%82%AC ,c=~._-");
  const auto second = parse_baggage(serialize_baggage(first.entries));
  EXPECT_EQ(first.entries, second.entries);
  EXPECT_EQ(first.entries[0].value, "x,y");
  EXPECT_EQ(first.entries[1].value, "\xE2\x82\xAC");
}

TEST(Baggage, PercentCodec) {
  EXPECT_EQ(percent_encode_baggage_value("a b/c~"), "a%20b%2Fc~");
  EXPECT_EQ(percent_decode_baggage_value("a%20b%2fc~"), "a b/c~");
  EXPECT_FALSE(percent_decode_baggage_value("%"));
  EXPECT_FALSE(percent_decode_baggage_value("%2"));
  EXPECT_FALSE(percent_decode_baggage_value("a b"));  // space is not a baggage-octet
  EXPECT_EQ(percent_decode_baggage_value("%C3"), "\xEF\xBF\xBD");  // truncated UTF-8: U+FFFD (W3C Baggage)
  EXPECT_TRUE(is_baggage_token("a!#$%&'*+-.^_`|~Z9"));
  EXPECT_FALSE(is_baggage_token("a:b"));
  EXPECT_FALSE(is_baggage_token(""));
}

}  // namespace
}  // namespace tollway::telemetry
