// Filters and the summary of tollgate audit.
#include "supervisor/audit/query.h"

#include <gtest/gtest.h>

#include "supervisor/commands.h"
#include "tests/unit/audit_test_log.h"

namespace tollgate::audit {
namespace {

using testing::Parse;
using testing::TestLog;

class AuditQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    log_.task = "fix-tests";
    lines_.push_back(log_.Add("run.start", Verdict::kInfo, {{"command", {"make", "test"}}}));
    lines_.push_back(log_.Add("exec", Verdict::kAllow, {{"path", "/usr/bin/make"}}));
    Json denied = log_.Next("syscall.denied", Verdict::kDeny, {{"syscall", "ptrace"}});
    denied["rule"] = "syscalls.deny.ptrace";
    denied["process"]["pid"] = 4242;
    lines_.push_back(log_.Append(denied));
    log_.run = "run-0002";
    log_.task = "";
    lines_.push_back(log_.Add("task.phase", Verdict::kInfo));
    lines_.push_back(log_.Add("exec", Verdict::kDeny, {{"path", "/tmp/t"}}));
    for (const std::string& line : lines_) records_.push_back(Parse(line));
  }
  // The seqs of the records `filter` lets through.
  std::vector<std::uint64_t> Select(const RecordFilter& filter) {
    std::vector<std::uint64_t> seqs;
    for (std::size_t i = 0; i < records_.size(); ++i)
      if (filter.Matches(records_[i], lines_[i])) seqs.push_back(records_[i].seq);
    return seqs;
  }
  TestLog log_;
  std::vector<std::string> lines_;
  std::vector<ParsedRecord> records_;
};

using Seqs = std::vector<std::uint64_t>;

TEST_F(AuditQueryTest, NoFilterSelectsEverything) {
  EXPECT_EQ(Select({}), (Seqs{1, 2, 3, 4, 5}));
}

TEST_F(AuditQueryTest, RunMatchesAnIdOrItsPrefix) {
  RecordFilter filter;
  filter.run = "run-0002";
  EXPECT_EQ(Select(filter), (Seqs{4, 5}));
  filter.run = "run-000";
  EXPECT_EQ(Select(filter), (Seqs{1, 2, 3, 4, 5}));
  filter.run = "run-0003";
  EXPECT_EQ(Select(filter), Seqs{});
}

TEST_F(AuditQueryTest, TaskKindVerdictPidRuleAndGrep) {
  RecordFilter task;
  task.task = "fix-tests";
  EXPECT_EQ(Select(task), (Seqs{1, 2, 3}));

  RecordFilter kinds;
  kinds.kinds = {"exec"};
  EXPECT_EQ(Select(kinds), (Seqs{2, 5}));
  kinds.kinds = {"task.*", "run.start"};
  EXPECT_EQ(Select(kinds), (Seqs{1, 4}));
  kinds.kinds = {"task"};  // exact: no prefix without the *
  EXPECT_EQ(Select(kinds), Seqs{});

  RecordFilter verdict;
  verdict.verdict = Verdict::kDeny;
  EXPECT_EQ(Select(verdict), (Seqs{3, 5}));

  RecordFilter pid;
  pid.pid = 4242;
  EXPECT_EQ(Select(pid), (Seqs{3}));

  RecordFilter rule;
  rule.rule = "syscalls.*";
  EXPECT_EQ(Select(rule), (Seqs{3}));
  rule.rule = "syscalls";
  EXPECT_EQ(Select(rule), Seqs{});

  RecordFilter grep;
  grep.grep = "/usr/bin/make";
  EXPECT_EQ(Select(grep), (Seqs{2}));
  EXPECT_FALSE(grep.MayMatchLine(lines_[0]));
}

TEST_F(AuditQueryTest, SinceAndUntilBoundTheTime) {
  RecordFilter filter;
  filter.since_ns = records_[1].time_ns;  // inclusive
  filter.until_ns = records_[3].time_ns;  // exclusive
  EXPECT_EQ(Select(filter), (Seqs{2, 3}));
}

TEST(AuditTimeBound, ParsesRfc3339DaysAndDurations) {
  std::string error;
  const std::int64_t now = 1'795'757'370'000'000'000;  // 2026-11-27T05:29:30Z
  EXPECT_EQ(ParseTimeBound("2026-11-27T05:29:30Z", now, &error), now);
  EXPECT_EQ(ParseTimeBound("2026-11-27T05:29:30.5Z", now, &error), now + 500'000'000);
  EXPECT_EQ(ParseTimeBound("2026-11-27T05:29:30.089043123Z", now, &error),
            *ParseTime("2026-11-27T05:29:30.089043123Z"));
  EXPECT_EQ(ParseTimeBound("2026-11-27T06:29:30+01:00", now, &error), now);
  EXPECT_EQ(ParseTimeBound("2026-11-27T04:29:30-01:00", now, &error), now);
  EXPECT_EQ(ParseTimeBound("2026-11-27T05:29Z", now, &error), now - 30'000'000'000);
  EXPECT_EQ(ParseTimeBound("2026-11-27", now, &error),
            *ParseTime("2026-11-27T00:00:00.000000000Z"));
  EXPECT_EQ(ParseTimeBound("24h", now, &error), now - 24 * 3600 * 1'000'000'000ll);
  EXPECT_EQ(ParseTimeBound("30m", now, &error), now - 30 * 60 * 1'000'000'000ll);
  EXPECT_EQ(ParseTimeBound("7d", now, &error), now - 7 * 86400 * 1'000'000'000ll);
  EXPECT_EQ(ParseTimeBound("90s", now, &error), now - 90 * 1'000'000'000ll);
  EXPECT_EQ(ParseTimeBound("2w", now, &error), now - 14 * 86400 * 1'000'000'000ll);
  for (const char* bad :
       {"", "h", "24", "24x", "yesterday", "2026-11-27T05:29:30", "2026-13-01",
        "2026-11-27T05:29:30.Z", "2026-11-27T25:00Z", "2026-11-27T05:29:30Zjunk", "99999999999d"}) {
    error.clear();
    EXPECT_FALSE(ParseTimeBound(bad, now, &error)) << bad;
    EXPECT_FALSE(error.empty()) << bad;
  }
}

TEST_F(AuditQueryTest, ActionsSayWhatWasAttempted) {
  EXPECT_EQ(ActionOf(records_[2]), "syscall ptrace");
  EXPECT_EQ(ActionOf(records_[4]), "exec /tmp/t");
  EXPECT_EQ(ActionOf(records_[0]), "start make test");
  ParsedRecord net = records_[1];
  net.kind = "net.connect";
  net.details = {{"host", "example.com"}, {"port", 443}};
  EXPECT_EQ(ActionOf(net), "net example.com:443");
  ParsedRecord tool = records_[1];
  tool.kind = "tool.call";
  tool.details = {{"tool", "git"}, {"argv", {"push", "origin"}}};
  EXPECT_EQ(ActionOf(tool), "tool git push origin");
}

TEST_F(AuditQueryTest, SummaryCountsByKindVerdictRuleAndRun) {
  Summary summary;
  for (const ParsedRecord& record : records_) summary.Add(record);
  Json json = summary.ToJson();
  EXPECT_EQ(json["records"], 5);
  EXPECT_EQ(json["by_kind"]["exec"], 2);
  EXPECT_EQ(json["by_kind"]["task.phase"], 1);
  EXPECT_EQ(json["by_verdict"]["deny"], 2);
  EXPECT_EQ(json["by_verdict"]["allow"], 1);
  EXPECT_EQ(json["by_verdict"]["info"], 2);
  EXPECT_EQ(json["by_rule"]["syscalls.deny.ptrace"], 1);
  ASSERT_EQ(json["top_denied"].size(), 2u);
  EXPECT_EQ(json["runs"].size(), 2u);
  EXPECT_EQ(json["runs"][0]["run"], "run-0001");
  EXPECT_EQ(json["runs"][0]["records"], 3);
  EXPECT_EQ(json["runs"][0]["denied"], 1);
  EXPECT_EQ(json["runs"][0]["task"], "fix-tests");
  EXPECT_EQ(json["runs"][0]["command"], "make test");
  EXPECT_EQ(json["runs"][1]["denied"], 1);
  std::string text = summary.ToText();
  EXPECT_NE(text.find("5 records"), std::string::npos) << text;
  EXPECT_NE(text.find("syscall ptrace"), std::string::npos) << text;
  EXPECT_NE(text.find("run-0002"), std::string::npos) << text;
}

TEST_F(AuditQueryTest, TopDeniedActionsAreOrderedByCount) {
  Summary summary;
  ParsedRecord ptrace = records_[2];
  ParsedRecord exec = records_[4];
  for (int i = 0; i < 3; ++i) summary.Add(exec);
  for (int i = 0; i < 5; ++i) summary.Add(ptrace);
  Json top = summary.ToJson(1)["top_denied"];
  ASSERT_EQ(top.size(), 1u);
  EXPECT_EQ(top[0]["action"], "syscall ptrace");
  EXPECT_EQ(top[0]["count"], 5);
}

TEST(AuditSummary, AnEmptySummarySaysSo) {
  EXPECT_EQ(Summary().ToText(), "no records\n");
  EXPECT_EQ(Summary().ToJson()["records"], 0);
}

TEST_F(AuditQueryTest, TheListCommandFiltersAndRefusesABadTime) {
  AuditArgs args;
  args.action = "list";
  args.log_dir = log_.dir();
  args.verdict = "deny";
  args.json = true;
  ::testing::internal::CaptureStdout();
  int status = AuditCommand(args);
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(status, 0);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2) << out;
  EXPECT_NE(out.find("\"seq\":3"), std::string::npos) << out;
  EXPECT_NE(out.find("\"seq\":5"), std::string::npos) << out;

  args.since = "yesterday";
  ::testing::internal::CaptureStderr();
  status = AuditCommand(args);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(status, kExitUsage);
  EXPECT_NE(err.find("--since"), std::string::npos) << err;

  args.since.clear();
  args.log_dir = log_.dir() + "/missing";
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(AuditCommand(args), kExitInvalid);
  ::testing::internal::GetCapturedStderr();
}

TEST_F(AuditQueryTest, TheTableShowsHostileArgumentsAsVisibleEscapes) {
  log_.Add("exec", Verdict::kAllow,
           {{"path", "/usr/bin/printf"}, {"argv", {"printf", "\x1b]0;pwned\x07\x1b[2J\xc2\x9b"}}});
  AuditArgs args;
  args.action = "list";
  args.log_dir = log_.dir();
  args.kinds = {"exec"};
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(AuditCommand(args), 0);
  std::string out = ::testing::internal::GetCapturedStdout();
  EXPECT_EQ(out.find('\x1b'), std::string::npos) << out;
  EXPECT_EQ(out.find("\xc2\x9b"), std::string::npos) << out;
  EXPECT_NE(out.find("printf \\x1b]0;pwned\\x07\\x1b[2J\\u009b"), std::string::npos) << out;
}

}  // namespace
}  // namespace tollgate::audit
