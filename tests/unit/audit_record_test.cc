// The audit record's canonical form, hash chain and safe strings.
#include "supervisor/audit/record.h"

#include <gtest/gtest.h>

#include "supervisor/audit/log_files.h"

namespace tollgate::audit {
namespace {

TEST(AuditRecord, CanonicalFormSortsKeysAndHasNoWhitespace) {
  Json value = Json::parse(R"({ "b": 1, "a": {"z": "x", "c": [1, 2]}, "A": "\u00e9" })");
  EXPECT_EQ(Canonical(value), "{\"A\":\"\xc3\xa9\",\"a\":{\"c\":[1,2],\"z\":\"x\"},\"b\":1}");
}

TEST(AuditRecord, Sha256MatchesKnownVector) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(AuditRecord, SealHashesTheRecordWithoutItsHashAndWritesOneLine) {
  Json record = {{"seq", 1},
                 {"kind", "exec"},
                 {"prev", std::string(kGenesisHash)},
                 {"details", {{"path", "/bin/sh\nfake"}}}};
  std::string line = SealRecord(&record);
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "a newline inside a value ended the line";
  Json parsed = Json::parse(line);
  std::string hash = parsed["hash"];
  parsed.erase("hash");
  EXPECT_EQ(hash, Sha256Hex(Canonical(parsed)));
  // Sealing again (e.g. after an edit) replaces the hash instead of hashing the old one.
  record["kind"] = "exec2";
  std::string again = SealRecord(&record);
  Json reparsed = Json::parse(again);
  reparsed.erase("hash");
  EXPECT_EQ(Json::parse(again)["hash"], Sha256Hex(Canonical(reparsed)));
  EXPECT_NE(Json::parse(again)["hash"], hash);
}

TEST(AuditRecord, ChangingAnyFieldOrThePrevChangesTheHash) {
  Json base = {{"seq", 7}, {"kind", "exec"}, {"prev", std::string(64, 'a')}};
  Json a = base, b = base, c = base;
  b["seq"] = 8;
  c["prev"] = std::string(64, 'b');
  std::string ha = Json::parse(SealRecord(&a))["hash"];
  EXPECT_NE(ha, Json::parse(SealRecord(&b))["hash"]);
  EXPECT_NE(ha, Json::parse(SealRecord(&c))["hash"]);
}

TEST(AuditRecord, Utf8Validation) {
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xe0\x80\xaf"));      // overlong '/'
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate U+D800
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // above U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // cut short
}

TEST(SafeStrings, ValidStringsAreKeptAsTheyAre) {
  SafeStrings safe;
  // Newlines, quotes, JSON fragments and ANSI escapes are valid UTF-8: kept, and JSON escapes
  // them on output so the record stays one line.
  std::string tricky = "a\nb\"}{\"kind\":\"fake\"\x1b[31mred\x1b[0m\\";
  Json value = safe.String(tricky, "details.path");
  EXPECT_EQ(value.get<std::string>(), tricky);
  EXPECT_TRUE(safe.empty());
  std::string text = Canonical(value);
  EXPECT_EQ(text.find('\n'), std::string::npos);
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
}

TEST(SafeStrings, InvalidUtf8IsEscapedReversiblyAndListed) {
  SafeStrings safe;
  Json value = safe.String(std::string("a\\b\xff\xc3", 5), "details.argv.1");
  EXPECT_EQ(value.get<std::string>(), "a\\\\b\\xff\\xc3");
  Json record = Json::object();
  safe.AnnotateRecord(&record);
  EXPECT_EQ(record["escaped"], Json::array({"details.argv.1"}));
  EXPECT_FALSE(record.contains("truncated"));
  EXPECT_NO_THROW(Canonical(record));
}

TEST(SafeStrings, LongStringsAreCutOnACharacterBoundaryAndListed) {
  SafeStrings safe;
  std::string euros;
  for (int i = 0; i < 10; ++i) euros += "\xe2\x82\xac";  // 30 bytes
  Json value = safe.String(euros, "details.path", 10);
  EXPECT_EQ(value.get<std::string>().size(), 9u);
  EXPECT_TRUE(IsValidUtf8(value.get<std::string>()));
  Json record = Json::object();
  safe.AnnotateRecord(&record);
  EXPECT_EQ(record["truncated"]["details.path"], 30);
}

TEST(SafeStrings, LongArraysKeepTheirFirstItems) {
  SafeStrings safe;
  std::vector<std::string> argv(kMaxArrayItems + 5, "x");
  Json value = safe.StringArray(argv, "details.argv");
  EXPECT_EQ(value.size(), kMaxArrayItems);
  Json record = Json::object();
  safe.AnnotateRecord(&record);
  EXPECT_EQ(record["truncated"]["details.argv"], kMaxArrayItems + 5);
}

TEST(AuditTime, FormatsAndParsesRfc3339WithNanoseconds) {
  std::int64_t t = 1'795'757'370'089'043'123;
  std::string text = FormatTime(t);
  EXPECT_EQ(text, "2026-11-27T05:29:30.089043123Z");
  EXPECT_EQ(ParseTime(text), t);
  EXPECT_EQ(ParseTime("2026-11-27T05:29:30Z"), std::nullopt);
  EXPECT_EQ(ParseTime("2026-13-27T05:29:30.089043123Z"), std::nullopt);
  EXPECT_EQ(ParseTime("9999-12-31T23:59:59.999999999Z"), std::nullopt);  // beyond int64 ns
  EXPECT_EQ(UtcDay(t), "20261127");
}

TEST(AuditLogFiles, NamesSortInChainOrder) {
  EXPECT_EQ(LogFileName(1, "20261127"), "audit-000000000001-20261127.jsonl");
  auto parsed = ParseLogFileName("audit-000000001234-20261128.jsonl");
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->first_seq, 1234u);
  EXPECT_EQ(parsed->day, "20261128");
  EXPECT_FALSE(ParseLogFileName("audit-000000001234-20261128.jsonl.torn-1"));
  EXPECT_FALSE(ParseLogFileName("audit-00000000123x-20261128.jsonl"));
  EXPECT_LT(LogFileName(999, "20261128"), LogFileName(1000, "20261127"));
}

}  // namespace
}  // namespace tollgate::audit

namespace tollgate::audit {
namespace {

TEST(AuditCanonical, IsByteForByteWhatNlohmannDumps) {
  const char* documents[] = {
      R"({"z":1,"a":[true,false,null,-5,18446744073709551615],"m":{"y":"","b":"x"}})",
      R"({"s":"quote \" back \\ slash / nl \n tab \t cr \r ff \f bs \b nul \u0000 us \u001f"})",
      R"({"u":"caf\u00e9 \u20ac \ud83d\ude00 del \u007f c1 \u009b"})",
      R"([[],{},[{}],"",0,-9223372036854775808])",
      R"({"f":1.5,"e":-0.0,"big":1e300})",
  };
  for (const char* text : documents) {
    Json value = Json::parse(text);
    EXPECT_EQ(Canonical(value), value.dump(-1, ' ', false)) << text;
  }
  EXPECT_THROW(Canonical(Json(std::string("\xff"))), std::invalid_argument);
}

TEST(AuditCanonical, SealPutsTheHashWhereKeyOrderWantsIt) {
  for (Json record : {Json{{"a", 1}}, Json{{"z", 1}}, Json{{"a", 1}, {"z", 2}}, Json::object()}) {
    std::string line = SealRecord(&record);
    Json parsed = Json::parse(line);
    EXPECT_EQ(line, parsed.dump() + "\n");
    parsed.erase("hash");
    EXPECT_EQ(record["hash"], Sha256Hex(parsed.dump()));
  }
}

}  // namespace
}  // namespace tollgate::audit
