// CI mode (README, "CI"): `--ci` never waits for a person, appends a Markdown summary of the run
// (denials first) to $GITHUB_STEP_SUMMARY, and `--report FILE` writes the same as JSON — both
// read back from the audit log. What the sandbox wrote cannot become markup on the job's page.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "tests/e2e/e2e_support.h"

namespace tollgate::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(CiMode, SummaryAndReportListTheDenialsFirst) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  Scratch scratch;
  ASSERT_EQ(Host("mkdir -p " + scratch / "ws"), 0);
  escapes::WriteFile(scratch / "summary.md", "# earlier steps\n");
  scratch.Handover();
  const std::string summary = scratch / "summary.md";
  const std::string report = scratch / "report.json";
  RunOutput run = Tollgate(
      {"run", "--ci", "--report", report, "--audit-log", scratch / "audit", "--workspace",
       scratch / "ws", "--", "sh", "-c",
       "git push origin main; git push origin '<img src=x onerror=alert(1)>|[x](http://e.vil)';"
       " unshare -U true; exit 3"},
      "", {"GITHUB_STEP_SUMMARY=" + summary});
  EXPECT_EQ(run.exit_code, 3) << run.err;

  const std::string md = ReadAll(summary);
  EXPECT_EQ(md.rfind("# earlier steps\n", 0), 0u) << "the summary must be appended to";
  EXPECT_THAT(md, HasSubstr("— exited, exit 3"));
  EXPECT_THAT(md, HasSubstr("#### Denied (3)"));
  EXPECT_THAT(md, HasSubstr("| tool.call | tool git git push origin main | git:git-push |"));
  EXPECT_THAT(md, HasSubstr("| syscall.denied | syscall unshare | syscalls: @namespaces |"));
  // Denials come before the run's details.
  EXPECT_LT(md.find("#### Denied"), md.find("<details>"));
  // What the sandbox wrote is text, not markup.
  EXPECT_THAT(md, HasSubstr("&lt;img src=x onerror=alert(1)&gt;\\|\\[x\\](http://e.vil)"));
  EXPECT_THAT(md, Not(HasSubstr("<img")));
  EXPECT_THAT(md, Not(HasSubstr("[x](http")));

  Json j = Json::parse(ReadAll(report), nullptr, false);
  ASSERT_TRUE(j.is_object()) << ReadAll(report);
  EXPECT_EQ(j["result"]["exit_code"], 3);
  EXPECT_EQ(j["result"]["status"], "exited");
  EXPECT_EQ(j["denials_total"], 3);
  ASSERT_EQ(j["denials"].size(), 3u);
  EXPECT_EQ(j["denials"][0]["rule"], "git:git-push");
  EXPECT_EQ(j["denials"][2]["action"], "syscall unshare");
  EXPECT_EQ(j["command"][0], "sh");
  EXPECT_EQ(j["profile"], "workspace-write");
  EXPECT_FALSE(j.contains("error")) << j["error"];
}

TEST(CiMode, WithoutCiTheStepSummaryIsLeftAloneAndAnAskIsADenial) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  Scratch scratch;
  ASSERT_EQ(Host("mkdir -p " + scratch / "ws"), 0);
  scratch.Handover();
  const std::string summary = scratch / "summary.md";
  RunOutput plain = Tollgate(
      {"run", "--audit-log", scratch / "audit", "--workspace", scratch / "ws", "--", "true"}, "",
      {"GITHUB_STEP_SUMMARY=" + summary});
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_EQ(ReadAll(summary), "");
  // `git fetch` is an `ask` rule of mediated-tools: with --ci nobody is asked, it is denied.
  RunOutput ci = Tollgate({"run", "--ci", "--report", scratch / "r.json", "--audit-log",
                           scratch / "audit", "--workspace", scratch / "ws", "--", "git", "fetch"},
                          "", {"GITHUB_STEP_SUMMARY=" + summary});
  EXPECT_EQ(ci.exit_code, 126) << ci.err;
  Json j = Json::parse(ReadAll(scratch / "r.json"), nullptr, false);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["denials_total"], 1);
  EXPECT_THAT(ReadAll(summary), HasSubstr("#### Denied (1)"));
}

}  // namespace
}  // namespace tollgate::e2e
