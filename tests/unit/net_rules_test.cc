// Tests of the proxy's network rules (policy/net_rules.h): strict addresses and their RFC 5952
// printing, the class of every special block (and of the IPv6 forms that carry an IPv4
// address), host-name normalisation against each refusal of SECURITY.md item 26, host patterns
// and their errors, and the two decisions: may the sandbox ask for a host, and which of a
// permitted name's addresses may it reach.
#include "policy/net_rules.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

namespace tollgate::policy {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

IpAddress Ip(std::string_view text) {
  std::optional<IpAddress> address = ParseIpAddress(text);
  if (!address) {
    ADD_FAILURE() << "not an address: " << text;
    return {};
  }
  return *address;
}

HostName Host(std::string_view raw) {
  HostNameResult result = NormaliseHostName(raw);
  if (!result.host) {
    ADD_FAILURE() << "refused: " << result.error;
    return {};
  }
  return *result.host;
}

std::string Refusal(std::string_view raw) {
  HostNameResult result = NormaliseHostName(raw);
  if (result.host) {
    ADD_FAILURE() << "accepted as " << result.host->name;
    return "";
  }
  EXPECT_TRUE(result.error.size() > 0);
  return result.error;
}

HostPattern Pattern(std::string_view text) {
  HostPatternResult result = ParseHostPattern(text);
  if (!result.pattern) {
    ADD_FAILURE() << "pattern refused: " << result.error;
    return {};
  }
  return *result.pattern;
}

NetworkRules Rules(const std::vector<std::string>& allow,
                   const std::vector<std::string>& deny = {}) {
  NetworkRules rules;
  for (const std::string& text : allow) rules.allow.push_back(Pattern(text));
  for (const std::string& text : deny) rules.deny.push_back(Pattern(text));
  return rules;
}

// The single verdict for one resolved address of `name`.
AddressVerdict Resolved(const NetworkRules& rules, std::string_view name, std::string_view address,
                        std::uint16_t port = 443, const std::vector<IpAddress>& host_own = {}) {
  std::vector<AddressVerdict> verdicts =
      DecideAddresses(rules, Host(name), port, {Ip(address)}, host_own);
  if (verdicts.size() != 1) {
    ADD_FAILURE() << "expected one verdict, got " << verdicts.size();
    return {};
  }
  return verdicts[0];
}

// --- addresses ---

TEST(NetRulesAddressTest, Ipv4IsStrictDottedDecimal) {
  std::optional<IpAddress> address = ParseIpAddress("192.0.2.255");
  ASSERT_TRUE(address);
  EXPECT_FALSE(address->v6);
  EXPECT_EQ(address->bytes[0], 192);
  EXPECT_EQ(address->bytes[1], 0);
  EXPECT_EQ(address->bytes[2], 2);
  EXPECT_EQ(address->bytes[3], 255);
  EXPECT_EQ(address->bytes[4], 0);
  EXPECT_EQ(address->bytes[15], 0);
  EXPECT_TRUE(ParseIpAddress("0.0.0.0"));
  EXPECT_TRUE(ParseIpAddress("255.255.255.255"));
  for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "127.1", "256.0.0.1", "01.2.3.4", "1.2.3.04",
                          "0x7f.0.0.1", "1.2.3.4 ", " 1.2.3.4", "1..2.3", "1.2.3.", ".1.2.3",
                          "1.2.3.-4", "+1.2.3.4", "1.2.3.4/8", "2130706433", "1000.0.0.1"}) {
    EXPECT_FALSE(ParseIpAddress(bad)) << bad;
  }
}

TEST(NetRulesAddressTest, Ipv6AcceptsEveryValidSpellingAndNothingElse) {
  std::optional<IpAddress> full = ParseIpAddress("2001:0DB8:0000:0000:0000:0000:0000:0001");
  ASSERT_TRUE(full);
  EXPECT_TRUE(full->v6);
  EXPECT_EQ(full->bytes[0], 0x20);
  EXPECT_EQ(full->bytes[1], 0x01);
  EXPECT_EQ(full->bytes[2], 0x0d);
  EXPECT_EQ(full->bytes[3], 0xb8);
  EXPECT_EQ(full->bytes[15], 0x01);
  EXPECT_EQ(*full, Ip("2001:db8::1"));
  EXPECT_EQ(Ip("::ffff:192.0.2.1").bytes[12], 192);
  EXPECT_EQ(Ip("::ffff:192.0.2.1"), Ip("::ffff:c000:201"));
  EXPECT_EQ(Ip("1:2:3:4:5:6:1.2.3.4"), Ip("1:2:3:4:5:6:102:304"));
  EXPECT_TRUE(ParseIpAddress("::"));
  EXPECT_TRUE(ParseIpAddress("1::"));
  EXPECT_TRUE(ParseIpAddress("1:2:3:4:5:6:7::"));
  EXPECT_TRUE(ParseIpAddress("::2:3:4:5:6:7:8"));
  for (const char* bad :
       {":", ":::", "1:::2", "1::2::3", ":1::", "1::2:", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9",
        "1:2:3:4:5:6:7::8", "12345::", "g::1", "::1.2.3", "::1.2.3.4:5", "1.2.3.4::", "::01.2.3.4",
        "fe80::1%eth0", "[::1]", "::1 ", "1:2:3:4:5:6:7:1.2.3.4"}) {
    EXPECT_FALSE(ParseIpAddress(bad)) << bad;
  }
}

TEST(NetRulesAddressTest, Ipv4HelperTakesHostOrder) {
  IpAddress address = Ipv4(0x7f000001);
  EXPECT_EQ(address, Ip("127.0.0.1"));
  EXPECT_EQ(address.ToString(), "127.0.0.1");
  EXPECT_EQ(Ipv4(0xc0000201).ToString(), "192.0.2.1");
}

struct PrintCase {
  const char* text;
  const char* printed;
};

class NetRulesPrintTest : public ::testing::TestWithParam<PrintCase> {};

TEST_P(NetRulesPrintTest, PrintsRfc5952) {
  EXPECT_EQ(Ip(GetParam().text).ToString(), GetParam().printed) << GetParam().text;
}

INSTANTIATE_TEST_SUITE_P(
    NetRulesAddresses, NetRulesPrintTest,
    ::testing::Values(
        PrintCase{"0.0.0.0", "0.0.0.0"}, PrintCase{"192.0.2.1", "192.0.2.1"}, PrintCase{"::", "::"},
        PrintCase{"::1", "::1"}, PrintCase{"1::", "1::"},
        // Leading zeros dropped, lower case (4.1, 4.3).
        PrintCase{"2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
        PrintCase{"2001:DB8:AB:CD:EF:0:0:1", "2001:db8:ab:cd:ef::1"},
        // The longest zero run is shortened; of equal runs, the first (4.2.3).
        PrintCase{"1:0:0:2:0:0:0:3", "1:0:0:2::3"}, PrintCase{"1:0:0:2:3:0:0:4", "1::2:3:0:0:4"},
        PrintCase{"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
        // A single zero group is not shortened (4.2.2).
        PrintCase{"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
        PrintCase{"fe80:0:0:0:0:0:0:0", "fe80::"}, PrintCase{"0:0:0:0:0:0:0:1", "::1"},
        // IPv4-mapped in mixed notation (5); other embedded forms in hex.
        PrintCase{"::ffff:7f00:1", "::ffff:127.0.0.1"},
        PrintCase{"0:0:0:0:0:FFFF:169.254.169.254", "::ffff:169.254.169.254"},
        PrintCase{"64:ff9b::127.0.0.1", "64:ff9b::7f00:1"}, PrintCase{"::127.0.0.1", "::7f00:1"},
        PrintCase{"::ffff:0:1.2.3.4", "::ffff:0:102:304"},
        PrintCase{"fd00:ec2:0::254", "fd00:ec2::254"}));

// --- classes ---

struct ClassCase {
  const char* address;
  AddressClass address_class;
};

class NetRulesClassifyTest : public ::testing::TestWithParam<ClassCase> {};

TEST_P(NetRulesClassifyTest, ClassOfEverySpecialBlock) {
  EXPECT_EQ(AddressClassName(ClassifyAddress(Ip(GetParam().address))),
            std::string(AddressClassName(GetParam().address_class)))
      << GetParam().address;
}

using AC = AddressClass;
INSTANTIATE_TEST_SUITE_P(
    NetRulesClasses, NetRulesClassifyTest,
    ::testing::Values(
        // IPv4, each block at both edges where an edge matters.
        ClassCase{"8.8.8.8", AC::kPublic}, ClassCase{"0.0.0.0", AC::kUnspecified},
        ClassCase{"0.255.255.255", AC::kUnspecified}, ClassCase{"1.0.0.0", AC::kPublic},
        ClassCase{"127.0.0.1", AC::kLoopback}, ClassCase{"127.255.255.254", AC::kLoopback},
        ClassCase{"10.0.0.0", AC::kPrivate}, ClassCase{"10.255.255.255", AC::kPrivate},
        ClassCase{"11.0.0.0", AC::kPublic}, ClassCase{"172.15.255.255", AC::kPublic},
        ClassCase{"172.16.0.0", AC::kPrivate}, ClassCase{"172.31.255.255", AC::kPrivate},
        ClassCase{"172.32.0.0", AC::kPublic}, ClassCase{"192.168.1.1", AC::kPrivate},
        ClassCase{"100.63.255.255", AC::kPublic}, ClassCase{"100.64.0.1", AC::kSharedNat},
        ClassCase{"100.127.255.255", AC::kSharedNat}, ClassCase{"100.128.0.0", AC::kPublic},
        ClassCase{"169.254.0.1", AC::kLinkLocal}, ClassCase{"169.254.169.253", AC::kLinkLocal},
        ClassCase{"224.0.0.1", AC::kMulticast}, ClassCase{"239.255.255.255", AC::kMulticast},
        ClassCase{"240.0.0.1", AC::kReserved}, ClassCase{"255.255.255.254", AC::kReserved},
        ClassCase{"255.255.255.255", AC::kBroadcast}, ClassCase{"192.0.2.1", AC::kDocumentation},
        ClassCase{"198.51.100.7", AC::kDocumentation},
        ClassCase{"203.0.113.200", AC::kDocumentation}, ClassCase{"198.18.0.1", AC::kReserved},
        ClassCase{"198.19.255.255", AC::kReserved}, ClassCase{"198.20.0.0", AC::kPublic},
        ClassCase{"192.0.0.8", AC::kReserved}, ClassCase{"192.88.99.1", AC::kReserved},
        // IPv6.
        ClassCase{"2606:4700::1111", AC::kPublic}, ClassCase{"::", AC::kUnspecified},
        ClassCase{"::1", AC::kLoopback}, ClassCase{"fe80::1", AC::kLinkLocal},
        ClassCase{"febf:ffff::1", AC::kLinkLocal}, ClassCase{"fc00::1", AC::kPrivate},
        ClassCase{"fdff:ffff::1", AC::kPrivate}, ClassCase{"fec0::1", AC::kPrivate},
        ClassCase{"ff02::1", AC::kMulticast}, ClassCase{"2001:db8::1", AC::kDocumentation},
        ClassCase{"3fff::1", AC::kDocumentation}, ClassCase{"2001::1", AC::kReserved},
        ClassCase{"2001:2::1", AC::kReserved}, ClassCase{"100::1", AC::kReserved},
        ClassCase{"64:ff9b:1::1", AC::kReserved}, ClassCase{"4000::1", AC::kReserved},
        ClassCase{"5f00::1", AC::kReserved}, ClassCase{"fe00::1", AC::kReserved},
        ClassCase{"1fff:ffff::1", AC::kReserved}, ClassCase{"200::1", AC::kReserved},
        ClassCase{"400::1", AC::kReserved}, ClassCase{"800::1", AC::kReserved},
        ClassCase{"6000::1", AC::kReserved}, ClassCase{"8000::1", AC::kReserved},
        ClassCase{"a000::1", AC::kReserved}, ClassCase{"c000::1", AC::kReserved},
        ClassCase{"e000::1", AC::kReserved}, ClassCase{"f000::1", AC::kReserved},
        ClassCase{"f800::1", AC::kReserved}, ClassCase{"fbff::1", AC::kReserved},
        ClassCase{"2000::1", AC::kPublic}, ClassCase{"3ffe::1", AC::kPublic}));

// Every metadata endpoint of the table, and the blocks around them keep their own class.
TEST(NetRulesClassifyTest, CloudMetadataEndpoints) {
  for (const char* address :
       {"169.254.169.254", "169.254.170.2", "169.254.170.23", "169.254.42.42", "100.100.100.200",
        "192.0.0.192", "168.63.129.16", "fd00:ec2::254", "fd00:ec2::23", "fd20:ce::254",
        "fd00:c1::a9fe:a9fe", "fd00:42::42"}) {
    EXPECT_EQ(ClassifyAddress(Ip(address)), AddressClass::kMetadata) << address;
  }
  EXPECT_EQ(ClassifyAddress(Ip("169.254.169.255")), AddressClass::kLinkLocal);
  EXPECT_EQ(ClassifyAddress(Ip("100.100.100.201")), AddressClass::kSharedNat);
  EXPECT_EQ(ClassifyAddress(Ip("168.63.129.17")), AddressClass::kPublic);
  EXPECT_EQ(ClassifyAddress(Ip("fd00:ec2::255")), AddressClass::kPrivate);
}

// Mapped, translated, compatible, NAT64 and 6to4 forms of loopback and metadata are what they
// carry; of a public address, public.
TEST(NetRulesClassifyTest, Ipv6FormsAreClassifiedByTheIpv4AddressTheyCarry) {
  struct Case {
    const char* address;
    AddressClass address_class;
  };
  for (const Case& c : std::vector<Case>{
           {"::ffff:127.0.0.1", AC::kLoopback},
           {"::ffff:0:127.0.0.1", AC::kLoopback},
           {"::127.0.0.1", AC::kLoopback},
           {"64:ff9b::127.0.0.1", AC::kLoopback},
           {"2002:7f00:1::1", AC::kLoopback},
           {"::ffff:169.254.169.254", AC::kMetadata},
           {"64:ff9b::a9fe:a9fe", AC::kMetadata},
           {"2002:a9fe:a9fe::", AC::kMetadata},
           {"::ffff:100.100.100.200", AC::kMetadata},
           {"::ffff:10.1.2.3", AC::kPrivate},
           {"64:ff9b::192.168.0.1", AC::kPrivate},
           {"::ffff:0.0.0.0", AC::kUnspecified},
           {"::0.0.0.2", AC::kUnspecified},
           {"::ffff:8.8.8.8", AC::kPublic},
           {"64:ff9b::8.8.8.8", AC::kPublic},
           {"2002:808:808::1", AC::kPublic},
       }) {
    EXPECT_EQ(AddressClassName(ClassifyAddress(Ip(c.address))),
              std::string(AddressClassName(c.address_class)))
        << c.address;
  }
}

TEST(NetRulesClassifyTest, HostOwnAddressesInEveryFormButLoopback) {
  const std::vector<IpAddress> own = {Ip("10.0.0.5"), Ip("93.184.216.34"), Ip("2a01:4f8::5"),
                                      Ip("127.0.0.1"), Ip("::1")};
  EXPECT_EQ(ClassifyAddress(Ip("10.0.0.5"), own), AddressClass::kHostOwn);
  EXPECT_EQ(ClassifyAddress(Ip("93.184.216.34"), own), AddressClass::kHostOwn);
  EXPECT_EQ(ClassifyAddress(Ip("2a01:4f8::5"), own), AddressClass::kHostOwn);
  EXPECT_EQ(ClassifyAddress(Ip("::ffff:10.0.0.5"), own), AddressClass::kHostOwn);
  EXPECT_EQ(ClassifyAddress(Ip("64:ff9b::a00:5"), own), AddressClass::kHostOwn);
  EXPECT_EQ(ClassifyAddress(Ip("127.0.0.1"), own), AddressClass::kLoopback);
  EXPECT_EQ(ClassifyAddress(Ip("::1"), own), AddressClass::kLoopback);
  EXPECT_EQ(ClassifyAddress(Ip("10.0.0.6"), own), AddressClass::kPrivate);
  EXPECT_EQ(ClassifyAddress(Ip("93.184.216.35"), own), AddressClass::kPublic);
  // A host's own address given in mapped form is its IPv4 address too.
  EXPECT_EQ(ClassifyAddress(Ip("192.168.7.7"), {Ip("::ffff:192.168.7.7")}), AddressClass::kHostOwn);
  // Without the list, only the registries decide.
  EXPECT_EQ(ClassifyAddress(Ip("93.184.216.34")), AddressClass::kPublic);
}

TEST(NetRulesClassifyTest, ClassNames) {
  EXPECT_STREQ(AddressClassName(AC::kPublic), "public");
  EXPECT_STREQ(AddressClassName(AC::kUnspecified), "unspecified");
  EXPECT_STREQ(AddressClassName(AC::kLoopback), "loopback");
  EXPECT_STREQ(AddressClassName(AC::kPrivate), "private");
  EXPECT_STREQ(AddressClassName(AC::kSharedNat), "shared NAT");
  EXPECT_STREQ(AddressClassName(AC::kLinkLocal), "link-local");
  EXPECT_STREQ(AddressClassName(AC::kMetadata), "cloud metadata");
  EXPECT_STREQ(AddressClassName(AC::kMulticast), "multicast");
  EXPECT_STREQ(AddressClassName(AC::kBroadcast), "broadcast");
  EXPECT_STREQ(AddressClassName(AC::kReserved), "reserved");
  EXPECT_STREQ(AddressClassName(AC::kDocumentation), "documentation");
  EXPECT_STREQ(AddressClassName(AC::kHostOwn), "host's own");
}

// --- host names ---

TEST(NetRulesHostNameTest, LowerCasesAndDropsOneTrailingDot) {
  HostName host = Host("Registry.NPMjs.ORG.");
  EXPECT_EQ(host.name, "registry.npmjs.org");
  EXPECT_FALSE(host.address);
  EXPECT_EQ(Host("_acme-challenge.Example.com").name, "_acme-challenge.example.com");
  EXPECT_EQ(Host("a-b.c").name, "a-b.c");
  EXPECT_EQ(Host("localhost").name, "localhost");
}

TEST(NetRulesHostNameTest, RefusesEmpty) {
  EXPECT_EQ(Refusal(""), "\"\" is empty");
}

TEST(NetRulesHostNameTest, RefusesNulBytes) {
  EXPECT_EQ(Refusal(std::string("allowed.com\0.evil.com", 21)),
            "\"allowed.com\\x00.evil.com\" contains a NUL byte");
  EXPECT_EQ(Refusal(std::string("\0", 1)), "\"\\x00\" contains a NUL byte");
  // Before anything else in the text is looked at.
  EXPECT_EQ(Refusal(std::string("a@b\0", 4)), "\"a@b\\x00\" contains a NUL byte");
}

TEST(NetRulesHostNameTest, RefusesControlCharacters) {
  EXPECT_EQ(Refusal("example.com\r\nHost: evil.com"),
            "\"example.com\\x0d\\x0aHost: evil.com\" contains a control character (\\x0d)");
  EXPECT_EQ(Refusal("exa\tmple.com"), "\"exa\\x09mple.com\" contains a control character (\\x09)");
  EXPECT_EQ(Refusal("example.com\x7f"),
            "\"example.com\\x7f\" contains a control character (\\x7f)");
  EXPECT_EQ(Refusal("\x1b[31mexample.com"),
            "\"\\x1b[31mexample.com\" contains a control character (\\x1b)");
}

TEST(NetRulesHostNameTest, RefusesUserInfo) {
  EXPECT_EQ(Refusal("user@evil.com"),
            "\"user@evil.com\" contains '@' (user info is not part of a host)");
  EXPECT_EQ(Refusal("allowed.com@evil.com"),
            "\"allowed.com@evil.com\" contains '@' (user info is not part of a host)");
  EXPECT_EQ(Refusal("user:pass@evil.com"),
            "\"user:pass@evil.com\" contains ':' outside IPv6 brackets (a port is given "
            "separately)");
}

TEST(NetRulesHostNameTest, RefusesUrlPunctuationSpacesAndPercent) {
  EXPECT_EQ(Refusal("evil.com/allowed.com"),
            "\"evil.com/allowed.com\" contains '/' (a URL or a path, not a host)");
  EXPECT_EQ(Refusal("evil.com\\allowed.com"),
            "\"evil.com\\x5callowed.com\" contains \\x5c (a URL or a path, not a host)");
  EXPECT_EQ(Refusal("evil.com?.allowed.com"),
            "\"evil.com?.allowed.com\" contains '?' (a URL or a path, not a host)");
  EXPECT_EQ(Refusal("evil.com#.allowed.com"),
            "\"evil.com#.allowed.com\" contains '#' (a URL or a path, not a host)");
  EXPECT_EQ(Refusal("evil.com allowed.com"), "\"evil.com allowed.com\" contains a space");
  EXPECT_EQ(Refusal("%65vil.com"),
            "\"%65vil.com\" contains '%' (percent-encoding and IPv6 zone ids are refused)");
  EXPECT_EQ(Refusal("example.com:443"),
            "\"example.com:443\" contains ':' outside IPv6 brackets (a port is given separately)");
  EXPECT_EQ(Refusal("a]b.com"), "\"a]b.com\" contains ']' outside an IPv6 address in brackets");
}

TEST(NetRulesHostNameTest, RefusesEmptyLabels) {
  EXPECT_EQ(Refusal("a..b.com"), "\"a..b.com\" has an empty label");
  EXPECT_EQ(Refusal(".example.com"), "\".example.com\" has an empty label");
  EXPECT_EQ(Refusal("."), "\".\" names no host");
}

TEST(NetRulesHostNameTest, OneTrailingDotOnly) {
  EXPECT_EQ(Host("example.com.").name, "example.com");
  EXPECT_EQ(Refusal("example.com.."), "\"example.com..\" ends in more than one dot");
  EXPECT_EQ(Refusal(".."), "\"..\" ends in more than one dot");
  EXPECT_EQ(Host("127.0.0.1.").name, "127.0.0.1");
  EXPECT_EQ(Host("127.0.0.1.").address, Ip("127.0.0.1"));
}

TEST(NetRulesHostNameTest, RefusesInvalidUtf8) {
  EXPECT_EQ(Refusal("\xff.com"), "\"\\xff.com\" is not valid UTF-8");
  EXPECT_EQ(Refusal("a\xc0\xaf.com"), "\"a\\xc0\\xaf.com\" is not valid UTF-8");  // overlong '/'
  EXPECT_EQ(Refusal("\xed\xa0\x80.com"),
            "\"\\xed\\xa0\\x80.com\" is not valid UTF-8");       // surrogate
  EXPECT_EQ(Refusal("b\xc3"), "\"b\\xc3\" is not valid UTF-8");  // truncated
  EXPECT_EQ(Refusal("\xf4\x90\x80\x80.com"), "\"\\xf4\\x90\\x80\\x80.com\" is not valid UTF-8");
}

TEST(NetRulesHostNameTest, RefusesCharactersOutsideLettersDigitsHyphenUnderscore) {
  EXPECT_EQ(Refusal("a!b.com"),
            "\"a!b.com\" contains '!', which is not a letter, a digit, '-' or '_'");
  EXPECT_EQ(Refusal("*.example.com"),
            "\"*.example.com\" contains '*', which is not a letter, a digit, '-' or '_'");
  EXPECT_EQ(Refusal("a'b.com"),
            "\"a'b.com\" contains \\x27, which is not a letter, a digit, '-' or '_'");
}

TEST(NetRulesHostNameTest, RefusesHyphenAtLabelEdges) {
  EXPECT_EQ(Refusal("-a.com"), "\"-a.com\" has a label that starts or ends with '-'");
  EXPECT_EQ(Refusal("a.b-.com"), "\"a.b-.com\" has a label that starts or ends with '-'");
  EXPECT_EQ(Host("a--b.com").name, "a--b.com");
}

TEST(NetRulesHostNameTest, RefusesOverlongLabelsAndNames) {
  const std::string label63(63, 'a');
  EXPECT_EQ(Host(label63 + ".com").name, label63 + ".com");
  EXPECT_EQ(Refusal(std::string(64, 'a') + ".com"),
            "\"" + std::string(64, 'a') + "...\" has a label longer than 63 bytes");
  // 4 * 63 + 1 = 253 bytes: the longest name; one more byte is too long.
  const std::string name253 = label63 + "." + label63 + "." + label63 + "." + std::string(61, 'b');
  ASSERT_EQ(name253.size(), 253u);
  EXPECT_EQ(Host(name253).name, name253);
  EXPECT_EQ(Host(name253 + ".").name, name253);
  EXPECT_THAT(Refusal(name253 + "b"), HasSubstr("...\" is longer than 253 bytes"));
  // Measured as A-labels: 60 characters of ü encode to more than 63 bytes.
  std::string umlauts;
  for (int i = 0; i < 60; ++i) umlauts += "\xc3\xbc";
  EXPECT_THAT(Refusal(umlauts + ".com"),
              HasSubstr("has a label longer than 63 bytes as an A-label"));
  EXPECT_THAT(Refusal(std::string(2000, 'a')), HasSubstr("is longer than 1024 bytes"));
}

TEST(NetRulesHostNameTest, IpLiterals) {
  HostName v4 = Host("192.0.2.1");
  EXPECT_EQ(v4.name, "192.0.2.1");
  EXPECT_EQ(v4.address, Ip("192.0.2.1"));
  HostName bracketed = Host("[2001:DB8:0::1]");
  EXPECT_EQ(bracketed.name, "2001:db8::1");
  EXPECT_EQ(bracketed.address, Ip("2001:db8::1"));
  EXPECT_EQ(Host("::1").name, "::1");
  EXPECT_EQ(Host("::1").address, Ip("::1"));
  EXPECT_EQ(Host("[::ffff:7f00:1]").name, "::ffff:127.0.0.1");
  EXPECT_EQ(Host("0.0.0.0").address, Ip("0.0.0.0"));
}

TEST(NetRulesHostNameTest, RefusesZoneIdsAndMalformedBrackets) {
  EXPECT_EQ(Refusal("[fe80::1%eth0]"), "\"[fe80::1%eth0]\" has an IPv6 zone id (refused)");
  EXPECT_EQ(Refusal("[fe80::1%25eth0]"), "\"[fe80::1%25eth0]\" has an IPv6 zone id (refused)");
  EXPECT_EQ(Refusal("fe80::1%eth0"),
            "\"fe80::1%eth0\" contains ':' outside IPv6 brackets (a port is given separately)");
  EXPECT_EQ(Refusal("[127.0.0.1]"), "\"[127.0.0.1]\" is not an IPv6 address in brackets");
  EXPECT_EQ(Refusal("[::1]:443"), "\"[::1]:443\" is not an IPv6 address in brackets");
  EXPECT_EQ(Refusal("[::1"), "\"[::1\" is not an IPv6 address in brackets");
  EXPECT_EQ(Refusal("[]"), "\"[]\" is not an IPv6 address in brackets");
  EXPECT_EQ(Refusal("[example.com]"), "\"[example.com]\" is not an IPv6 address in brackets");
}

TEST(NetRulesHostNameTest, RefusesAmbiguousNumericHosts) {
  const std::string reason =
      " is an ambiguous numeric host; write an IPv4 address as four decimal numbers 0-255 "
      "without leading zeros";
  for (const char* raw :
       {"127.1", "0x7f.0.0.1", "0177.0.0.1", "2130706433", "1.2.3.4.5", "01.2.3.4", "127.0.0.01",
        "256.0.0.1", "0x7f000001", "1.2.3.0x7f", "example.0x10", "0X7F.1", "example.123", "0x"}) {
    EXPECT_EQ(Refusal(raw), "\"" + std::string(raw) + "\"" + reason) << raw;
  }
  // Digits elsewhere than the last label are ordinary names.
  EXPECT_EQ(Host("1.2.3.example").name, "1.2.3.example");
  EXPECT_EQ(Host("0x7f.example").name, "0x7f.example");
  EXPECT_EQ(Host("123abc").name, "123abc");
}

TEST(NetRulesHostNameTest, FullWidthFormsMapToTheirAsciiName) {
  EXPECT_EQ(Host("\xef\xbc\xa5\xef\xbc\xb8\xef\xbc\xa1\xef\xbc\xad\xef\xbc\xb0\xef\xbc\xac\xef\xbc"
                 "\xa5.com")  // ＥＸＡＭＰＬＥ.com
                .name,
            "example.com");
  EXPECT_EQ(Host("example\xef\xbc\x8e"
                 "com")
                .name,
            "example.com");  // full-width '．'
  EXPECT_EQ(Host("example\xe3\x80\x82"
                 "com")
                .name,
            "example.com");  // ideographic '。'
  EXPECT_EQ(Host("ex\xc2\xad"
                 "ample.com")
                .name,
            "example.com");  // soft hyphen maps to nothing
  // Full-width digits make an IP literal, judged as the address it is.
  HostName literal = Host(
      "\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.\xef\xbc\x90.\xef\xbc\x90."
      "\xef\xbc\x91");  // １２７.０.０.１
  EXPECT_EQ(literal.name, "127.0.0.1");
  EXPECT_EQ(literal.address, Ip("127.0.0.1"));
  EXPECT_THAT(Refusal("\xef\xbc\x91\xef\xbc\x92\xef\xbc\x97.\xef\xbc\x91"),  // １２７.１
              HasSubstr("is an ambiguous numeric host"));
}

TEST(NetRulesHostNameTest, UnicodeNamesBecomeALabels) {
  EXPECT_EQ(Host("B\xc3\xbc"
                 "cher.example")
                .name,
            "xn--bcher-kva.example");  // Bücher
  EXPECT_EQ(Host("B\xc3\x9c"
                 "CHER.Example.")
                .name,
            "xn--bcher-kva.example");  // BÜCHER
  EXPECT_EQ(Host("stra\xc3\x9f"
                 "e.de")
                .name,
            "xn--strae-oqa.de");                                 // non-transitional ß
  EXPECT_EQ(Host("\xd0\xb0pple.com").name, "xn--pple-43d.com");  // Cyrillic а: not apple.com
}

TEST(NetRulesHostNameTest, PunycodeMustRoundTrip) {
  EXPECT_EQ(Host("xn--bcher-kva.example").name, "xn--bcher-kva.example");
  EXPECT_EQ(Host("XN--BCHER-KVA.example").name, "xn--bcher-kva.example");
  // Each of these decodes to a name that maps to something else: upper-case "bÜcher", "ｅxample"
  // with a full-width e (that is example.com), "a．b" and "a＠b" (a dot and an '@' in disguise),
  // a soft hyphen that maps to nothing, and "a⒈" (which maps to "a1.").
  for (const char* label : {"xn--bcher-2pa", "xn--xample-hy68a", "xn--ab-yu3n", "xn--ab-iw3n",
                            "xn--exaple-dja", "xn--a-ecp"}) {
    EXPECT_EQ(Refusal(std::string(label) + ".com"),
              "\"" + std::string(label) + ".com\" has an invalid A-label (\"" + label + "\")");
  }
  // Punycode that does not decode.
  EXPECT_EQ(Refusal("xn--zz.com"), "\"xn--zz.com\" has an invalid A-label (\"xn--zz\")");
  EXPECT_EQ(Refusal("xn--9999999999a.com"),
            "\"xn--9999999999a.com\" has an invalid A-label (\"xn--9999999999a\")");
  // Plain ASCII dressed as punycode ("example" encodes as "example-") fails already on its
  // trailing hyphen.
  EXPECT_EQ(Refusal("xn--example-.com"),
            "\"xn--example-.com\" has a label that starts or ends with '-'");
}

TEST(NetRulesHostNameTest, MixedUnicodeAndALabelsNormaliseAlike) {
  const std::string expected = "xn--bcher-kva.xn--bcher-kva.example";
  EXPECT_EQ(Host("xn--bcher-kva.b\xc3\xbc"
                 "cher.example")
                .name,
            expected);
  EXPECT_EQ(Host("b\xc3\xbc"
                 "cher.XN--bcher-kva.\xef\xbd\x85xample")
                .name,
            expected);  // ｅ
  EXPECT_EQ(Host(expected).name, expected);
  EXPECT_THAT(Refusal("xn--example-.b\xc3\xbc"
                      "cher"),
              HasSubstr("is not a valid internationalised name"));
}

TEST(NetRulesHostNameTest, RefusesForbiddenCharactersThatAppearAfterIdnMapping) {
  EXPECT_EQ(Refusal("allowed.com\xef\xbc\xa0"
                    "evil.com"),  // full-width '＠'
            "\"allowed.com\\xef\\xbc\\xa0evil.com\" after IDN mapping contains '@' (user info is "
            "not part of a host)");
  EXPECT_EQ(Refusal("evil.com\xef\xbc\x9a"
                    "443"),  // full-width '：'
            "\"evil.com\\xef\\xbc\\x9a443\" after IDN mapping contains ':' outside IPv6 brackets "
            "(a port is given separately)");
  EXPECT_EQ(Refusal("evil.com\xef\xbc\x8f"
                    "allowed.com"),  // full-width '／'
            "\"evil.com\\xef\\xbc\\x8fallowed.com\" after IDN mapping contains '/' (a URL or a "
            "path, not a host)");
  EXPECT_EQ(Refusal("allowed.com\xef\xbc\x8e\xef\xbc\x8e"),  // two full-width trailing dots
            "\"allowed.com\\xef\\xbc\\x8e\\xef\\xbc\\x8e\" ends in more than one dot");
  EXPECT_EQ(Refusal("a\xef\xbc\x8e\xef\xbc\x8e"
                    "b\xc3\xbc"),  // a．．bü
            "\"a\\xef\\xbc\\x8e\\xef\\xbc\\x8eb\\xc3\\xbc\" has an empty label");
  EXPECT_EQ(Refusal("\xef\xbd\x81\xef\xbc\x81"
                    "b.com"),  // ａ！b.com
            "\"\\xef\\xbd\\x81\\xef\\xbc\\x81b.com\" contains '!', which is not a letter, a "
            "digit, '-' or '_'");
}

TEST(NetRulesHostNameTest, RefusesNamesIdnaRejects) {
  EXPECT_EQ(Refusal("\xe2\x80\x8d"
                    "a.com"),  // a zero-width joiner out of context
            "\"\\xe2\\x80\\x8da.com\" is not a valid internationalised name (string contains a "
            "forbidden context-j character)");
  EXPECT_THAT(Refusal("a\xe2\x80\xa4"
                      "b.com"),  // one dot leader
              HasSubstr("is not a valid internationalised name"));
}

TEST(NetRulesHostNameTest, ErrorsAreOneLineOfPrintableAscii) {
  const std::vector<std::string> nasty = {std::string("a\0b", 3),
                                          "a\r\nb",
                                          "\xff\xfe",
                                          "\xe2\x80\x8d"
                                          "a",
                                          "a\"b",
                                          "a\\b",
                                          "allowed.com\xef\xbc\xa0"
                                          "evil.com",
                                          std::string(300, '\x01'),
                                          "\x1b]0;title\x07"};
  for (const std::string& raw : nasty) {
    const std::string error = Refusal(raw);
    for (char c : error) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7f) << "byte " << int(static_cast<unsigned char>(c));
    }
  }
  // The quote is cut after 64 bytes of input.
  EXPECT_EQ(Refusal(std::string(100, '@')), "\"" + std::string(64, '@') +
                                                "...\" contains '@' (user info is not part of a "
                                                "host)");
  EXPECT_EQ(Refusal("a\"b"),
            "\"a\\x22b\" contains \\x22, which is not a letter, a digit, '-' or "
            "'_'");
}

// --- patterns ---

TEST(NetRulesPatternTest, Names) {
  HostPattern name = Pattern("Example.COM.");
  EXPECT_EQ(name.kind, HostPattern::Kind::kName);
  EXPECT_EQ(name.name, "example.com");
  EXPECT_TRUE(name.ports.empty());
  EXPECT_EQ(name.text, "Example.COM.");
  HostPattern idn = Pattern(
      "b\xc3\xbc"
      "cher.example:443");
  EXPECT_EQ(idn.kind, HostPattern::Kind::kName);
  EXPECT_EQ(idn.name, "xn--bcher-kva.example");
  ASSERT_EQ(idn.ports.size(), 1u);
  EXPECT_EQ(idn.ports[0].first, 443);
  EXPECT_EQ(idn.ports[0].last, 443);
}

TEST(NetRulesPatternTest, Suffixes) {
  HostPattern suffix = Pattern("*.Example.com:80,443");
  EXPECT_EQ(suffix.kind, HostPattern::Kind::kSuffix);
  EXPECT_EQ(suffix.name, "example.com");
  ASSERT_EQ(suffix.ports.size(), 2u);
  EXPECT_EQ(suffix.ports[0].first, 80);
  EXPECT_EQ(suffix.ports[0].last, 80);
  EXPECT_EQ(suffix.ports[1].first, 443);
  EXPECT_EQ(suffix.ports[1].last, 443);
  EXPECT_EQ(suffix.text, "*.Example.com:80,443");
  EXPECT_EQ(Pattern("*.com").name, "com");
}

TEST(NetRulesPatternTest, AddressesAndNetworks) {
  struct Case {
    const char* text;
    HostPattern::Kind kind;
    const char* address;
    int prefix_length;
    std::size_t ports;
  };
  using K = HostPattern::Kind;
  for (const Case& c : std::vector<Case>{
           {"192.0.2.1", K::kAddress, "192.0.2.1", 32, 0},
           {"192.0.2.1:80", K::kAddress, "192.0.2.1", 32, 1},
           {"10.0.0.0/8", K::kNetwork, "10.0.0.0", 8, 0},
           {"10.0.0.0/8:443", K::kNetwork, "10.0.0.0", 8, 1},
           {"0.0.0.0/0", K::kNetwork, "0.0.0.0", 0, 0},
           {"192.0.2.1/32", K::kNetwork, "192.0.2.1", 32, 0},
           {"[2001:db8::1]:443", K::kAddress, "2001:db8::1", 128, 1},
           {"[2001:DB8::1]", K::kAddress, "2001:db8::1", 128, 0},
           {"[fd00::/8]", K::kNetwork, "fd00::", 8, 0},
           {"[fd00::/8]:22,443", K::kNetwork, "fd00::", 8, 2},
           {"2001:db8::/32", K::kNetwork, "2001:db8::", 32, 0},
           {"2001:db8::1", K::kAddress, "2001:db8::1", 128, 0},
           {"::/0", K::kNetwork, "::", 0, 0},
       }) {
    HostPattern pattern = Pattern(c.text);
    EXPECT_EQ(pattern.kind, c.kind) << c.text;
    EXPECT_EQ(pattern.address, Ip(c.address)) << c.text;
    EXPECT_EQ(pattern.prefix_length, c.prefix_length) << c.text;
    EXPECT_EQ(pattern.ports.size(), c.ports) << c.text;
    EXPECT_TRUE(pattern.name.empty()) << c.text;
    EXPECT_EQ(pattern.text, c.text);
  }
}

TEST(NetRulesPatternTest, PortListsAndRanges) {
  HostPattern pattern = Pattern("example.com:22,8000-8100,65535");
  ASSERT_EQ(pattern.ports.size(), 3u);
  EXPECT_EQ(pattern.ports[0].first, 22);
  EXPECT_EQ(pattern.ports[0].last, 22);
  EXPECT_EQ(pattern.ports[1].first, 8000);
  EXPECT_EQ(pattern.ports[1].last, 8100);
  EXPECT_EQ(pattern.ports[2].first, 65535);
  EXPECT_EQ(pattern.ports[2].last, 65535);
  EXPECT_EQ(Pattern("example.com:1-1").ports[0].last, 1);
}

struct PatternErrorCase {
  const char* text;
  const char* error;
  const char* hint;
};

class NetRulesPatternErrorTest : public ::testing::TestWithParam<PatternErrorCase> {};

TEST_P(NetRulesPatternErrorTest, ErrorAndHint) {
  HostPatternResult result = ParseHostPattern(GetParam().text);
  EXPECT_FALSE(result.pattern) << GetParam().text;
  EXPECT_EQ(result.error, GetParam().error);
  EXPECT_EQ(result.hint, GetParam().hint);
}

constexpr const char* kForms =
    "write a host (example.com), its subdomains (*.example.com), an address (192.0.2.1, "
    "[2001:db8::1]) or a network (10.0.0.0/8), optionally followed by ports (:443, :80,443, "
    ":8000-8100)";

INSTANTIATE_TEST_SUITE_P(
    NetRulesPatterns, NetRulesPatternErrorTest,
    ::testing::Values(
        // Wildcards.
        PatternErrorCase{"*", "*: '*' alone would allow every host",
                         "list the hosts the task needs; *.example.com allows every subdomain of "
                         "example.com"},
        PatternErrorCase{"*.", "*.: '*.' names no domain",
                         "write *.example.com to allow every subdomain of example.com"},
        PatternErrorCase{"*example.com", "*example.com: '*' must be a whole label, followed by '.'",
                         "write *.example.com for the subdomains of example.com, or example.com "
                         "for the name itself"},
        PatternErrorCase{"**.example.com",
                         "**.example.com: '*' must be a whole label, followed by '.'",
                         "write *.example.com for the subdomains of example.com, or example.com "
                         "for the name itself"},
        PatternErrorCase{"a.*.example.com",
                         "a.*.example.com: '*' may only be the whole first label",
                         "list the hosts one by one, or write *.example.com to allow every "
                         "subdomain of example.com"},
        PatternErrorCase{"api*.example.com",
                         "api*.example.com: '*' may only be the whole first label",
                         "list the hosts one by one, or write *.example.com to allow every "
                         "subdomain of example.com"},
        PatternErrorCase{"*.*.example.com",
                         "*.*.example.com: '*' must be a whole label, followed by '.'",
                         "write *.example.com for the subdomains of example.com, or example.com "
                         "for the name itself"},
        PatternErrorCase{"*.192.0.2.1", "*.192.0.2.1: '*.' takes a domain name, not an address",
                         "write a network instead, such as 192.0.2.0/24"},
        PatternErrorCase{"*.a..b", "*.a..b: the domain after '*.' has an empty label", kForms},
        // Networks.
        PatternErrorCase{"10.0.0.1/8", "10.0.0.1/8: host bits set; write 10.0.0.0/8",
                         "write 10.0.0.0/8 for the network, or 10.0.0.1 for the one address"},
        PatternErrorCase{"[fd00::1/8]:443", "[fd00::1/8]:443: host bits set; write fd00::/8",
                         "write fd00::/8 for the network, or fd00::1 for the one address"},
        PatternErrorCase{"10.0.0.0/33", "10.0.0.0/33: \"/33\" is not a prefix length (0-32)",
                         "write a network as 10.0.0.0/8"},
        PatternErrorCase{"10.0.0.0/08", "10.0.0.0/08: \"/08\" is not a prefix length (0-32)",
                         "write a network as 10.0.0.0/8"},
        PatternErrorCase{"10.0.0.0/", "10.0.0.0/: \"/\" is not a prefix length (0-32)",
                         "write a network as 10.0.0.0/8"},
        PatternErrorCase{"2001:db8::/129",
                         "2001:db8::/129: \"/129\" is not a prefix length (0-128)",
                         "write a network as 2001:db8::/32"},
        PatternErrorCase{"010.0.0.0/8", "010.0.0.0/8: \"010.0.0.0\" is not an IP address",
                         "write IPv4 as four decimal numbers 0-255 without leading zeros, as in "
                         "192.0.2.1 or 10.0.0.0/8"},
        PatternErrorCase{"example.com/path",
                         "example.com/path: \"example.com\" is not an IP address",
                         "write IPv4 as four decimal numbers 0-255 without leading zeros, as in "
                         "192.0.2.1 or 10.0.0.0/8"},
        // IPv6 spellings.
        PatternErrorCase{"[192.0.2.1]:80", "[192.0.2.1]:80: brackets are only for IPv6 addresses",
                         "write 192.0.2.1 without brackets"},
        PatternErrorCase{"[2001:db8::1", "[2001:db8::1: no ']' after the IPv6 address",
                         "write [2001:db8::1]:443"},
        PatternErrorCase{"[2001:db8::1]443", "[2001:db8::1]443: unexpected text after ']'",
                         "write [2001:db8::1], or [2001:db8::1]:443 with ports"},
        PatternErrorCase{"2001:db8::g", "2001:db8::g: \"2001:db8::g\" is not an IP address",
                         "write IPv6 as 2001:db8::1 or 2001:db8::/32, in brackets when ports "
                         "follow: [2001:db8::1]:443"},
        PatternErrorCase{"[fe80::1%eth0]", "[fe80::1%eth0]: IPv6 zone ids are refused",
                         "write the address without its %zone"},
        // Ports.
        PatternErrorCase{"example.com:", "example.com:: no port after ':'",
                         "leave out the ':' to allow every port, or list the ports: "
                         "example.com:443"},
        PatternErrorCase{"example.com:0",
                         "example.com:0: \"0\" is not a port (a number from 1 to 65535)",
                         "ports are 1-65535, single (443), listed (80,443) or ranges (8000-8100); "
                         "leave them out to allow every port"},
        PatternErrorCase{"example.com:65536",
                         "example.com:65536: \"65536\" is not a port (a number from 1 to 65535)",
                         "ports are 1-65535, single (443), listed (80,443) or ranges (8000-8100); "
                         "leave them out to allow every port"},
        PatternErrorCase{"example.com:*",
                         "example.com:*: \"*\" is not a port (a number from 1 to 65535)",
                         "ports are 1-65535, single (443), listed (80,443) or ranges (8000-8100); "
                         "leave them out to allow every port"},
        PatternErrorCase{"example.com:8100-8000",
                         "example.com:8100-8000: port range 8100-8000 runs backwards",
                         "write 8000-8100"},
        PatternErrorCase{"example.com:80,,443", "example.com:80,,443: empty entry in the port list",
                         "separate ports with single commas: example.com:80,443"},
        PatternErrorCase{"example.com:8000-",
                         "example.com:8000-: \"\" is not a port (a number from 1 to 65535)",
                         "ports are 1-65535, single (443), listed (80,443) or ranges (8000-8100); "
                         "leave them out to allow every port"},
        // Hosts.
        PatternErrorCase{"", ": empty host pattern", kForms},
        PatternErrorCase{"https://example.com", "https://example.com: a URL, not a host pattern",
                         "write the host alone, with ports if needed: example.com:443"},
        PatternErrorCase{"user@example.com",
                         "user@example.com: host \"user@example.com\" contains '@' (user info is "
                         "not part of a host)",
                         kForms},
        PatternErrorCase{"127.1",
                         "127.1: host \"127.1\" is an ambiguous numeric host; write an "
                         "IPv4 address as four decimal numbers 0-255 without leading "
                         "zeros",
                         kForms},
        PatternErrorCase{"a..b.com:443", "a..b.com:443: host \"a..b.com\" has an empty label",
                         kForms}));

// --- matching ---

TEST(NetRulesMatchTest, SuffixMatchesSubdomainsAtAnyDepthButNeverTheDomainItself) {
  const HostPattern suffix = Pattern("*.example.com");
  EXPECT_TRUE(HostPatternMatches(suffix, Host("a.example.com"), 443));
  EXPECT_TRUE(HostPatternMatches(suffix, Host("a.b.example.com"), 443));
  EXPECT_TRUE(HostPatternMatches(suffix, Host("A.Example.COM."), 443));
  EXPECT_FALSE(HostPatternMatches(suffix, Host("example.com"), 443));
  EXPECT_FALSE(HostPatternMatches(suffix, Host("evilexample.com"), 443));
  EXPECT_FALSE(HostPatternMatches(suffix, Host("example.com.evil.com"), 443));
  EXPECT_FALSE(HostPatternMatches(suffix, Host("a.example.co"), 443));
}

TEST(NetRulesMatchTest, NameMatchesOnlyItself) {
  const HostPattern name = Pattern("allowed.com");
  EXPECT_TRUE(HostPatternMatches(name, Host("ALLOWED.com."), 443));
  EXPECT_FALSE(HostPatternMatches(name, Host("evilallowed.com"), 443));
  EXPECT_FALSE(HostPatternMatches(name, Host("allowed.com.evil.com"), 443));
  EXPECT_FALSE(HostPatternMatches(name, Host("sub.allowed.com"), 443));
  EXPECT_FALSE(HostPatternMatches(name, Host("allowed.co"), 443));
}

TEST(NetRulesMatchTest, NamePatternsNeverMatchIpLiterals) {
  HostPattern name;
  name.kind = HostPattern::Kind::kName;
  name.name = "192.0.2.1";  // cannot be parsed so; built by hand to check the literal guard
  EXPECT_FALSE(HostPatternMatches(name, Host("192.0.2.1"), 443));
  HostPattern suffix;
  suffix.kind = HostPattern::Kind::kSuffix;
  suffix.name = "2.1";
  EXPECT_FALSE(HostPatternMatches(suffix, Host("192.0.2.1"), 443));
  // And address patterns never match names.
  EXPECT_FALSE(HostPatternMatches(Pattern("0.0.0.0/0"), Host("example.com"), 443));
}

TEST(NetRulesMatchTest, AddressPatternsMatchLiteralsInEitherSpelling) {
  EXPECT_TRUE(HostPatternMatches(Pattern("127.0.0.1"), Host("[::ffff:127.0.0.1]"), 80));
  EXPECT_TRUE(HostPatternMatches(Pattern("[::ffff:127.0.0.1]"), Host("127.0.0.1"), 80));
  EXPECT_TRUE(HostPatternMatches(Pattern("10.0.0.0/8"), Host("10.255.0.1"), 80));
  EXPECT_FALSE(HostPatternMatches(Pattern("10.0.0.0/8"), Host("11.0.0.1"), 80));
  EXPECT_TRUE(HostPatternMatches(Pattern("2001:db8::/32"), Host("[2001:db8:ffff::1]"), 80));
  EXPECT_FALSE(HostPatternMatches(Pattern("2001:db8::/32"), Host("[2001:db9::1]"), 80));
  // A NAT64 address is not the same destination as the IPv4 address it carries.
  EXPECT_FALSE(HostPatternMatches(Pattern("127.0.0.1"), Host("[64:ff9b::7f00:1]"), 80));
}

TEST(NetRulesMatchTest, PortsAndRanges) {
  const HostPattern pattern = Pattern("example.com:80,8000-8100");
  const HostName host = Host("example.com");
  EXPECT_TRUE(HostPatternMatches(pattern, host, 80));
  EXPECT_FALSE(HostPatternMatches(pattern, host, 81));
  EXPECT_FALSE(HostPatternMatches(pattern, host, 443));
  EXPECT_FALSE(HostPatternMatches(pattern, host, 7999));
  EXPECT_TRUE(HostPatternMatches(pattern, host, 8000));
  EXPECT_TRUE(HostPatternMatches(pattern, host, 8050));
  EXPECT_TRUE(HostPatternMatches(pattern, host, 8100));
  EXPECT_FALSE(HostPatternMatches(pattern, host, 8101));
  EXPECT_TRUE(HostPatternMatches(Pattern("example.com"), host, 1));
  EXPECT_TRUE(HostPatternMatches(Pattern("example.com"), host, 65535));
  EXPECT_FALSE(HostPatternMatches(Pattern("10.0.0.0/8:443"), Host("10.0.0.1"), 80));
  EXPECT_TRUE(HostPatternMatches(Pattern("10.0.0.0/8:443"), Host("10.0.0.1"), 443));
}

// --- DecideHost ---

TEST(NetRulesDecideHostTest, NoMatchIsTheDefaultDeny) {
  NameDecision decision = DecideHost(Rules({"example.com"}), Host("other.com"), 443);
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.rule, "default");
  EXPECT_EQ(decision.why, "other.com:443 matches no allow rule");
  EXPECT_EQ(DecideHost(NetworkRules{}, Host("example.com"), 443).rule, "default");
}

TEST(NetRulesDecideHostTest, AllowedByTheFirstMatchingPattern) {
  NameDecision decision =
      DecideHost(Rules({"registry.npmjs.org", "*.example.com"}), Host("API.example.com"), 443);
  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.rule, "*.example.com");
  EXPECT_EQ(decision.why, "api.example.com:443 is allowed by \"*.example.com\"");
}

TEST(NetRulesDecideHostTest, DenyBeatsAllow) {
  const NetworkRules rules = Rules({"*.example.com", "internal.example.com"},
                                   {"internal.example.com", "*.example.com:22"});
  NameDecision internal = DecideHost(rules, Host("internal.example.com"), 443);
  EXPECT_FALSE(internal.allowed);
  EXPECT_EQ(internal.rule, "internal.example.com");
  EXPECT_EQ(internal.why, "internal.example.com:443 is denied by \"internal.example.com\"");
  NameDecision ssh = DecideHost(rules, Host("git.example.com"), 22);
  EXPECT_FALSE(ssh.allowed);
  EXPECT_EQ(ssh.rule, "*.example.com:22");
  NameDecision https = DecideHost(rules, Host("git.example.com"), 443);
  EXPECT_TRUE(https.allowed);
  EXPECT_EQ(https.rule, "*.example.com");
}

TEST(NetRulesDecideHostTest, SuffixConfusionIsNotAMatch) {
  const NetworkRules rules = Rules({"allowed.com", "*.allowed.com"});
  for (const char* name :
       {"evilallowed.com", "allowed.com.evil.com", "allowed.co", "xallowed.com", "allowed.comx"}) {
    NameDecision decision = DecideHost(rules, Host(name), 443);
    EXPECT_FALSE(decision.allowed) << name;
    EXPECT_EQ(decision.rule, "default") << name;
  }
  EXPECT_TRUE(DecideHost(rules, Host("allowed.com"), 443).allowed);
  EXPECT_TRUE(DecideHost(rules, Host("a.allowed.com"), 443).allowed);
}

TEST(NetRulesDecideHostTest, AnUnlistedPortSaysWhichRuleNamesTheHost) {
  NameDecision decision = DecideHost(Rules({"example.com:443"}), Host("example.com"), 80);
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.rule, "default");
  EXPECT_EQ(decision.why,
            "example.com:80 matches no allow rule (\"example.com:443\" does not list port 80)");
  EXPECT_TRUE(DecideHost(Rules({"example.com:443"}), Host("example.com"), 443).allowed);
}

TEST(NetRulesDecideHostTest, IpLiteralsAreJudgedByAddressPatternsOnly) {
  // A name rule does not allow the address the name happens to have.
  NameDecision by_name = DecideHost(Rules({"example.com"}), Host("93.184.216.34"), 443);
  EXPECT_FALSE(by_name.allowed);
  EXPECT_EQ(by_name.rule, "default");
  EXPECT_EQ(by_name.why,
            "93.184.216.34:443 matches no allow rule (an IP address is allowed only by an address "
            "or network pattern)");
  NameDecision by_network = DecideHost(Rules({"93.184.216.0/24:443"}), Host("93.184.216.34"), 443);
  EXPECT_TRUE(by_network.allowed);
  EXPECT_EQ(by_network.rule, "93.184.216.0/24:443");
  EXPECT_EQ(by_network.why, "93.184.216.34:443 is allowed by \"93.184.216.0/24:443\"");
  EXPECT_FALSE(DecideHost(Rules({"93.184.216.0/24:443"}), Host("93.184.216.34"), 80).allowed);
  NameDecision v6 = DecideHost(Rules({"2606:4700::/32"}), Host("[2606:4700::1111]"), 443);
  EXPECT_TRUE(v6.allowed);
  EXPECT_EQ(v6.why, "[2606:4700::1111]:443 is allowed by \"2606:4700::/32\"");
}

TEST(NetRulesDecideHostTest, SpecialLiteralsNeedAnExplicitPattern) {
  NameDecision broad = DecideHost(Rules({"0.0.0.0/0"}), Host("127.0.0.1"), 8080);
  EXPECT_FALSE(broad.allowed);
  EXPECT_EQ(broad.rule, "special-address");
  EXPECT_EQ(broad.why,
            "127.0.0.1:8080 is a special address (loopback); allow it by address (\"127.0.0.1\") "
            "to reach it (a pattern broader than 127.0.0.0/8 does not name it)");
  NameDecision named = DecideHost(Rules({"127.0.0.0/8"}), Host("127.0.0.1"), 8080);
  EXPECT_TRUE(named.allowed);
  EXPECT_EQ(named.rule, "127.0.0.0/8");
  EXPECT_EQ(named.why, "127.0.0.1:8080 (loopback) is allowed by \"127.0.0.0/8\"");
  NameDecision metadata = DecideHost(Rules({"169.254.0.0/16"}), Host("169.254.169.254"), 80);
  EXPECT_FALSE(metadata.allowed);
  EXPECT_EQ(metadata.why,
            "169.254.169.254:80 is a special address (cloud metadata); allow it by address "
            "(\"169.254.169.254\") to reach it (a pattern broader than 169.254.169.254/32 does "
            "not name it)");
  EXPECT_TRUE(DecideHost(Rules({"169.254.169.254"}), Host("169.254.169.254"), 80).allowed);
}

TEST(NetRulesDecideHostTest, MappedAndNat64LiteralsOfLoopbackAndMetadataAreRefused) {
  const NetworkRules everything = Rules({"0.0.0.0/0", "::/0"});
  for (const char* literal :
       {"[::ffff:127.0.0.1]", "[::ffff:7f00:1]", "[::127.0.0.1]", "[64:ff9b::7f00:1]",
        "[2002:7f00:1::]", "[::ffff:169.254.169.254]", "[64:ff9b::a9fe:a9fe]", "[fd00:ec2::254]",
        "[::1]", "0.0.0.0", "[::]"}) {
    NameDecision decision = DecideHost(everything, Host(literal), 80);
    EXPECT_FALSE(decision.allowed) << literal;
    EXPECT_EQ(decision.rule, "special-address") << literal;
  }
  EXPECT_EQ(DecideHost(everything, Host("[64:ff9b::a9fe:a9fe]"), 80).why,
            "[64:ff9b::a9fe:a9fe]:80 is a special address (cloud metadata); allow it by address "
            "(\"64:ff9b::a9fe:a9fe\") to reach it (a pattern broader than 64:ff9b::a9fe:a9fe/128 "
            "does not name it)");
  EXPECT_TRUE(DecideHost(everything, Host("8.8.8.8"), 53).allowed);
}

TEST(NetRulesDecideHostTest, HostOwnLiteralNeedsItsExactAddress) {
  const std::vector<IpAddress> own = {Ip("192.168.1.10")};
  NameDecision network = DecideHost(Rules({"192.168.0.0/16"}), Host("192.168.1.10"), 22, own);
  EXPECT_FALSE(network.allowed);
  EXPECT_EQ(network.why,
            "192.168.1.10:22 is a special address (host's own); allow it by address "
            "(\"192.168.1.10\") to reach it (a pattern broader than 192.168.1.10/32 does not name "
            "it)");
  EXPECT_TRUE(DecideHost(Rules({"192.168.0.0/16"}), Host("192.168.1.11"), 22, own).allowed);
  EXPECT_TRUE(DecideHost(Rules({"192.168.1.10"}), Host("192.168.1.10"), 22, own).allowed);
}

TEST(NetRulesDecideHostTest, DenyAddressPatternBeatsAnExplicitAllow) {
  NameDecision decision = DecideHost(Rules({"127.0.0.1"}, {"127.0.0.0/8"}), Host("127.0.0.1"), 80);
  EXPECT_FALSE(decision.allowed);
  EXPECT_EQ(decision.rule, "127.0.0.0/8");
  EXPECT_EQ(decision.why, "127.0.0.1:80 is denied by \"127.0.0.0/8\"");
}

// --- DecideAddresses ---

TEST(NetRulesDecideAddressesTest, PublicAddressesOfAPermittedNameGetItsRule) {
  AddressVerdict verdict = Resolved(Rules({"registry.test"}), "registry.test", "93.184.216.34");
  EXPECT_EQ(verdict.address, Ip("93.184.216.34"));
  EXPECT_EQ(verdict.address_class, AddressClass::kPublic);
  EXPECT_TRUE(verdict.allowed);
  EXPECT_EQ(verdict.rule, "registry.test");
  EXPECT_EQ(verdict.why, "registry.test resolves to 93.184.216.34, allowed by \"registry.test\"");
}

TEST(NetRulesDecideAddressesTest, LoopbackOfAListedNameIsRefused) {
  AddressVerdict verdict = Resolved(Rules({"registry.test"}), "registry.test", "127.0.0.1");
  EXPECT_FALSE(verdict.allowed);
  EXPECT_EQ(verdict.address_class, AddressClass::kLoopback);
  EXPECT_EQ(verdict.rule, "special-address");
  EXPECT_EQ(verdict.why,
            "registry.test resolves to 127.0.0.1 (loopback); allow it by address (\"127.0.0.1\") "
            "to reach it");
}

TEST(NetRulesDecideAddressesTest, EverySpecialClassOfAListedNameIsRefused) {
  const NetworkRules rules = Rules({"*.test"});
  for (const char* address :
       {"0.0.0.0",     "127.0.0.53",  "10.1.2.3",        "172.20.0.1",  "192.168.1.1",
        "100.64.1.1",  "169.254.1.1", "169.254.169.254", "224.0.0.251", "255.255.255.255",
        "240.0.0.1",   "192.0.2.1",   "198.18.0.1",      "::",          "::1",
        "fe80::1",     "fd12::1",     "ff02::fb",        "2001:db8::1", "fd00:ec2::254",
        "fd20:ce::254"}) {
    AddressVerdict verdict = Resolved(rules, "a.test", address);
    EXPECT_FALSE(verdict.allowed) << address;
    EXPECT_EQ(verdict.rule, "special-address") << address;
    EXPECT_NE(verdict.address_class, AddressClass::kPublic) << address;
  }
}

TEST(NetRulesDecideAddressesTest, AnExplicitAddressPatternUnlocksASpecialAddress) {
  AddressVerdict exact =
      Resolved(Rules({"registry.test", "127.0.0.1"}), "registry.test", "127.0.0.1", 4873);
  EXPECT_TRUE(exact.allowed);
  EXPECT_EQ(exact.rule, "127.0.0.1");
  EXPECT_EQ(exact.why, "registry.test resolves to 127.0.0.1 (loopback), allowed by \"127.0.0.1\"");
  EXPECT_TRUE(
      Resolved(Rules({"registry.test", "127.0.0.0/8"}), "registry.test", "127.0.0.1").allowed);
  EXPECT_TRUE(
      Resolved(Rules({"registry.test", "127.0.0.0/16"}), "registry.test", "127.0.0.1").allowed);
  EXPECT_TRUE(
      Resolved(Rules({"registry.test", "127.0.0.1:4873"}), "registry.test", "127.0.0.1", 4873)
          .allowed);
  // Broader than the loopback block, or another port: not named.
  for (const char* broad : {"0.0.0.0/0", "0.0.0.0/1", "126.0.0.0/7", "::/0"}) {
    AddressVerdict verdict =
        Resolved(Rules({"registry.test", broad}), "registry.test", "127.0.0.1");
    EXPECT_FALSE(verdict.allowed) << broad;
    EXPECT_EQ(verdict.rule, "special-address") << broad;
  }
  EXPECT_FALSE(
      Resolved(Rules({"registry.test", "127.0.0.1:4873"}), "registry.test", "127.0.0.1", 80)
          .allowed);
  // An address pattern does not permit a name on its own.
  AddressVerdict unlisted = Resolved(Rules({"127.0.0.1"}), "registry.test", "127.0.0.1");
  EXPECT_FALSE(unlisted.allowed);
  EXPECT_EQ(unlisted.rule, "default");
  EXPECT_EQ(unlisted.why, "registry.test:443 matches no allow rule");
}

TEST(NetRulesDecideAddressesTest, EachBlockIsNamedByAPatternWithinIt) {
  struct Case {
    const char* pattern;
    const char* address;
    bool allowed;
  };
  for (const Case& c : std::vector<Case>{
           {"10.0.0.0/8", "10.1.2.3", true},
           {"10.0.0.0/7", "10.1.2.3", false},
           {"172.16.0.0/12", "172.20.0.1", true},
           {"172.20.0.0/16", "172.20.0.1", true},
           {"172.0.0.0/8", "172.20.0.1", false},
           {"192.168.0.0/16", "192.168.1.1", true},
           {"192.0.0.0/8", "192.168.1.1", false},
           {"100.64.0.0/10", "100.64.1.1", true},
           {"100.0.0.0/8", "100.64.1.1", false},
           {"169.254.0.0/16", "169.254.1.1", true},
           {"169.254.0.0/16", "169.254.169.254", false},
           {"169.254.169.254/32", "169.254.169.254", true},
           {"169.254.169.254", "169.254.169.254", true},
           {"100.64.0.0/10", "100.100.100.200", false},
           {"100.100.100.200", "100.100.100.200", true},
           {"fc00::/7", "fd12::1", true},
           {"fd00::/8", "fd12::1", true},
           {"fc00::/6", "fd12::1", false},
           {"fc00::/7", "fd00:ec2::254", false},
           {"fd00::/8", "fd00:ec2::254", false},
           {"[fd00:ec2::254]", "fd00:ec2::254", true},
           {"fe80::/10", "fe80::1", true},
           {"fe80::/9", "fe80::1", false},
           {"::1", "::1", true},
           {"::/127", "::1", false},
           {"224.0.0.0/4", "224.0.0.251", true},
           {"0.0.0.0/8", "0.0.0.0", true},
       }) {
    AddressVerdict verdict = Resolved(Rules({"a.test", c.pattern}), "a.test", c.address);
    EXPECT_EQ(verdict.allowed, c.allowed) << c.pattern << " for " << c.address;
    EXPECT_EQ(verdict.rule, c.allowed ? c.pattern : "special-address")
        << c.pattern << " for " << c.address;
  }
}

TEST(NetRulesDecideAddressesTest, MappedNat64And6to4FormsOfLoopbackAndMetadataAreRefused) {
  const NetworkRules rules = Rules({"a.test", "127.0.0.1"});
  struct Case {
    const char* address;
    AddressClass address_class;
    bool allowed;  // by "127.0.0.1": only the same destination
  };
  for (const Case& c : std::vector<Case>{
           {"::ffff:127.0.0.1", AC::kLoopback, true},
           {"::127.0.0.1", AC::kLoopback, false},
           {"::ffff:0:127.0.0.1", AC::kLoopback, false},
           {"64:ff9b::7f00:1", AC::kLoopback, false},
           {"2002:7f00:1::1", AC::kLoopback, false},
           {"::ffff:169.254.169.254", AC::kMetadata, false},
           {"64:ff9b::a9fe:a9fe", AC::kMetadata, false},
           {"2002:a9fe:a9fe::1", AC::kMetadata, false},
           {"::ffff:100.100.100.200", AC::kMetadata, false},
       }) {
    AddressVerdict verdict = Resolved(rules, "a.test", c.address);
    EXPECT_EQ(verdict.address_class, c.address_class) << c.address;
    EXPECT_EQ(verdict.allowed, c.allowed) << c.address;
    EXPECT_EQ(verdict.rule, c.allowed ? "127.0.0.1" : "special-address") << c.address;
  }
  EXPECT_EQ(Resolved(rules, "a.test", "64:ff9b::a9fe:a9fe").why,
            "a.test resolves to 64:ff9b::a9fe:a9fe (cloud metadata); allow it by address "
            "(\"64:ff9b::a9fe:a9fe\") to reach it");
  // Unlocking a NAT64 form takes a pattern in that form, within its block.
  EXPECT_TRUE(
      Resolved(Rules({"a.test", "[64:ff9b::7f00:0/104]"}), "a.test", "64:ff9b::7f00:1").allowed);
  EXPECT_FALSE(Resolved(Rules({"a.test", "[64:ff9b::/96]"}), "a.test", "64:ff9b::7f00:1").allowed);
  EXPECT_FALSE(
      Resolved(Rules({"a.test", "[64:ff9b::/96]"}), "a.test", "64:ff9b::a9fe:a9fe").allowed);
  EXPECT_TRUE(
      Resolved(Rules({"a.test", "[64:ff9b::a9fe:a9fe]"}), "a.test", "64:ff9b::a9fe:a9fe").allowed);
  // Public IPv4 in those forms stays public.
  EXPECT_TRUE(Resolved(rules, "a.test", "64:ff9b::808:808").allowed);
  EXPECT_TRUE(Resolved(rules, "a.test", "::ffff:8.8.8.8").allowed);
}

TEST(NetRulesDecideAddressesTest, HostOwnAddressesNeedTheirExactAddress) {
  const std::vector<IpAddress> own = {Ip("10.0.0.5"), Ip("2a01:4f8::5"), Ip("127.0.0.1")};
  AddressVerdict network =
      Resolved(Rules({"a.test", "10.0.0.0/8"}), "a.test", "10.0.0.5", 443, own);
  EXPECT_FALSE(network.allowed);
  EXPECT_EQ(network.address_class, AddressClass::kHostOwn);
  EXPECT_EQ(network.why,
            "a.test resolves to 10.0.0.5 (host's own); allow it by address (\"10.0.0.5\") to "
            "reach it (a pattern broader than 10.0.0.5/32 does not name it)");
  EXPECT_TRUE(Resolved(Rules({"a.test", "10.0.0.0/8"}), "a.test", "10.0.0.6", 443, own).allowed);
  EXPECT_TRUE(Resolved(Rules({"a.test", "10.0.0.5"}), "a.test", "10.0.0.5", 443, own).allowed);
  EXPECT_TRUE(
      Resolved(Rules({"a.test", "10.0.0.5"}), "a.test", "::ffff:10.0.0.5", 443, own).allowed);
  // A public own address is refused too: services bound to the host's interfaces are not the
  // internet.
  AddressVerdict v6 = Resolved(Rules({"a.test"}), "a.test", "2a01:4f8::5", 443, own);
  EXPECT_FALSE(v6.allowed);
  EXPECT_EQ(v6.address_class, AddressClass::kHostOwn);
  EXPECT_FALSE(
      Resolved(Rules({"a.test", "2a01:4f8::/32"}), "a.test", "2a01:4f8::5", 443, own).allowed);
  EXPECT_TRUE(
      Resolved(Rules({"a.test", "[2a01:4f8::5]:443"}), "a.test", "2a01:4f8::5", 443, own).allowed);
  // Loopback in the list stays loopback, unlocked by its block.
  AddressVerdict loopback =
      Resolved(Rules({"a.test", "127.0.0.0/8"}), "a.test", "127.0.0.1", 443, own);
  EXPECT_TRUE(loopback.allowed);
  EXPECT_EQ(loopback.address_class, AddressClass::kLoopback);
}

TEST(NetRulesDecideAddressesTest, DenyAddressPatternsRefuseEveryFormTheyContain) {
  const NetworkRules rules =
      Rules({"*.example.com", "10.0.0.0/8"}, {"93.184.216.0/24", "10.9.0.0/16"});
  AddressVerdict plain = Resolved(rules, "www.example.com", "93.184.216.34");
  EXPECT_FALSE(plain.allowed);
  EXPECT_EQ(plain.rule, "93.184.216.0/24");
  EXPECT_EQ(plain.why, "www.example.com resolves to 93.184.216.34, denied by \"93.184.216.0/24\"");
  for (const char* form : {"::ffff:93.184.216.34", "64:ff9b::5db8:d822", "2002:5db8:d822::1"}) {
    AddressVerdict verdict = Resolved(rules, "www.example.com", form);
    EXPECT_FALSE(verdict.allowed) << form;
    EXPECT_EQ(verdict.rule, "93.184.216.0/24") << form;
  }
  // Deny beats an explicit allow of the special block.
  EXPECT_TRUE(Resolved(rules, "www.example.com", "10.8.0.1").allowed);
  AddressVerdict denied = Resolved(rules, "www.example.com", "10.9.0.1");
  EXPECT_FALSE(denied.allowed);
  EXPECT_EQ(denied.rule, "10.9.0.0/16");
  // A deny pattern with ports refuses those ports only.
  const NetworkRules ssh = Rules({"*.example.com"}, {"0.0.0.0/0:22"});
  EXPECT_FALSE(Resolved(ssh, "git.example.com", "140.82.112.3", 22).allowed);
  EXPECT_TRUE(Resolved(ssh, "git.example.com", "140.82.112.3", 443).allowed);
}

TEST(NetRulesDecideAddressesTest, ARefusedNameRefusesEveryAddress) {
  std::vector<AddressVerdict> verdicts =
      DecideAddresses(Rules({"allowed.com"}, {"evil.allowed.com"}), Host("evil.allowed.com"), 443,
                      {Ip("93.184.216.34"), Ip("127.0.0.1")});
  ASSERT_EQ(verdicts.size(), 2u);
  for (const AddressVerdict& verdict : verdicts) {
    EXPECT_FALSE(verdict.allowed);
    EXPECT_EQ(verdict.rule, "evil.allowed.com");
    EXPECT_EQ(verdict.why, "evil.allowed.com:443 is denied by \"evil.allowed.com\"");
  }
  EXPECT_EQ(verdicts[0].address_class, AddressClass::kPublic);
  EXPECT_EQ(verdicts[1].address_class, AddressClass::kLoopback);
}

TEST(NetRulesDecideAddressesTest, VerdictsKeepTheResolverOrder) {
  std::vector<AddressVerdict> verdicts =
      DecideAddresses(Rules({"a.test"}), Host("a.test"), 443,
                      {Ip("127.0.0.1"), Ip("2606:4700::1111"), Ip("10.0.0.1"), Ip("1.1.1.1")});
  ASSERT_EQ(verdicts.size(), 4u);
  EXPECT_EQ(verdicts[0].address, Ip("127.0.0.1"));
  EXPECT_FALSE(verdicts[0].allowed);
  EXPECT_EQ(verdicts[1].address, Ip("2606:4700::1111"));
  EXPECT_TRUE(verdicts[1].allowed);
  EXPECT_EQ(verdicts[2].address, Ip("10.0.0.1"));
  EXPECT_FALSE(verdicts[2].allowed);
  EXPECT_EQ(verdicts[3].address, Ip("1.1.1.1"));
  EXPECT_TRUE(verdicts[3].allowed);
  EXPECT_TRUE(DecideAddresses(Rules({"a.test"}), Host("a.test"), 443, {}).empty());
}

TEST(NetRulesDecideAddressesTest, AnIpLiteralHostIsJudgedByAddress) {
  std::vector<AddressVerdict> verdicts =
      DecideAddresses(Rules({"192.0.2.0/24:80"}), Host("192.0.2.7"), 80, {Ip("192.0.2.7")});
  ASSERT_EQ(verdicts.size(), 1u);
  EXPECT_TRUE(verdicts[0].allowed);
  EXPECT_EQ(verdicts[0].address_class, AddressClass::kDocumentation);
  EXPECT_EQ(verdicts[0].rule, "192.0.2.0/24:80");
  EXPECT_EQ(verdicts[0].why, "192.0.2.7:80 (documentation) is allowed by \"192.0.2.0/24:80\"");
  EXPECT_FALSE(
      DecideAddresses(Rules({"192.0.2.0/24:80"}), Host("192.0.2.7"), 81, {Ip("192.0.2.7")})[0]
          .allowed);
}

}  // namespace
}  // namespace tollgate::policy
