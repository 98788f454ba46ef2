// A task's scope, end to end through the real `tollgate explain --scope`: which parts of the
// workspace the plan leaves writable. `tollgate run` does not take a scope yet; the kernel-level
// proof (a write outside the scope failing with EROFS) belongs with the run integration.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_support.h"

namespace tollgate::e2e {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Strings(const nlohmann::json& array) {
  std::vector<std::string> out;
  for (const auto& item : array) out.push_back(item.get<std::string>());
  return out;
}

class ScopeExplain : public ::testing::Test {
 protected:
  void SetUp() override {
    ws_ = scratch_ / "ws";
    ASSERT_EQ(Host("mkdir -p '" + ws_ + "/src/net' '" + ws_ + "/docs' '" + ws_ + "/.git/hooks' '" +
                   ws_ + "/build'"),
              0);
  }

  nlohmann::json ExplainJson(const std::string& profile, const std::vector<std::string>& scope) {
    std::vector<std::string> args = {"explain", profile, "--workspace", ws_, "--json"};
    for (const std::string& path : scope) {
      args.push_back("--scope");
      args.push_back(path);
    }
    RunOutput run = Tollgate(args);
    EXPECT_EQ(run.exit_code, 0) << run.err;
    return nlohmann::json::parse(run.out, nullptr, /*allow_exceptions=*/false);
  }

  const nlohmann::json* Mount(const nlohmann::json& plan, const std::string& op,
                              const std::string& target) {
    for (const auto& mount : plan["mounts"]) {
      if (mount["op"] == op && mount["target"] == target) return &mount;
    }
    return nullptr;
  }

  std::size_t IndexOf(const nlohmann::json& plan, const std::string& op,
                      const std::string& target) {
    for (std::size_t i = 0; i < plan["mounts"].size(); ++i) {
      if (plan["mounts"][i]["op"] == op && plan["mounts"][i]["target"] == target) return i;
    }
    return plan["mounts"].size();
  }

  Scratch scratch_;
  std::string ws_;
};

TEST_F(ScopeExplain, WorkspaceWriteKeepsOnlyTheScopeAndScratchWritable) {
  // Written as a person would type them: normalised as the task key normalises them.
  nlohmann::json plan = ExplainJson("workspace-write", {"./src/", "docs"});
  ASSERT_TRUE(plan.is_object());
  EXPECT_THAT(Strings(plan["scope"]["paths"]), ElementsAre("docs", "src"));
  EXPECT_THAT(Strings(plan["scope"]["writable_by_scope"]),
              ElementsAre(ws_ + "/docs", ws_ + "/src"));
  EXPECT_THAT(Strings(plan["scope"]["narrowed"]), ElementsAre(ws_));
  std::vector<std::string> scratch = Strings(plan["scope"]["writable_by_scratch"]);
  EXPECT_THAT(scratch, Contains(ws_ + "/.git"));
  EXPECT_THAT(scratch, Contains(ws_ + "/build"));

  const nlohmann::json* workspace = Mount(plan, "bind", ws_);
  ASSERT_NE(workspace, nullptr);
  EXPECT_EQ((*workspace)["writable"], false);
  EXPECT_EQ((*workspace)["exec"], true);
  const nlohmann::json* src = Mount(plan, "bind", ws_ + "/src");
  ASSERT_NE(src, nullptr);
  EXPECT_EQ((*src)["writable"], true);
  EXPECT_EQ((*src)["optional"], false);

  // Every writable mount in the workspace is a scope path or a scratch path, and nothing else.
  std::set<std::string> allowed(scratch.begin(), scratch.end());
  allowed.insert({ws_ + "/docs", ws_ + "/src"});
  std::set<std::string> writable;
  for (const auto& mount : plan["mounts"]) {
    std::string target = mount["target"];
    bool inside = target == ws_ || target.starts_with(ws_ + "/");
    if (inside && mount.value("writable", false)) writable.insert(target);
  }
  EXPECT_EQ(writable, allowed);

  // Landlock follows: the workspace itself is not writable, the scope is.
  std::map<std::string, std::string> landlock;
  for (const auto& rule : plan["landlock"]) landlock[rule["path"]] = rule["access"];
  EXPECT_EQ(landlock[ws_], "read+execute");
  EXPECT_EQ(landlock[ws_ + "/src"], "read+write+execute");

  // Git's hooks and config are protected after .git is bound writable.
  std::size_t git = IndexOf(plan, "bind", ws_ + "/.git");
  ASSERT_LT(git, plan["mounts"].size());
  EXPECT_GT(IndexOf(plan, "protect", ws_ + "/.git/hooks"), git);
  EXPECT_LT(IndexOf(plan, "protect", ws_ + "/.git/hooks"), plan["mounts"].size());
  EXPECT_GT(IndexOf(plan, "protect", ws_ + "/.git/config"), git);

  EXPECT_THAT(Strings(plan["evidence"]["test_results"]),
              Contains("build/Testing/Temporary/LastTest.log"));
}

TEST_F(ScopeExplain, TheTextSaysWhyEachPathIsWritable) {
  RunOutput run = Tollgate({"explain", "workspace-write", "--workspace", ws_, "--scope", "src"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("Scope — the task names src: in the workspace only these"));
  EXPECT_THAT(run.out, HasSubstr(ws_ + "/src  writable: in the task's scope"));
  EXPECT_THAT(run.out, HasSubstr(ws_ + "/.git  writable: scratch"));
  EXPECT_THAT(run.out, HasSubstr(ws_ + "  narrowed: writable in the profile, read-only here"));
  EXPECT_THAT(run.out,
              HasSubstr("evidence: test reports from build/Testing/Temporary/LastTest.log"));
  // Without a scope there is no such section.
  RunOutput plain = Tollgate({"explain", "workspace-write", "--workspace", ws_});
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_THAT(plain.out, ::testing::Not(HasSubstr("Scope —")));
}

TEST_F(ScopeExplain, TestRunnerKeepsItsBuildFoldersAndGainsNothing) {
  nlohmann::json plan = ExplainJson("test-runner", {"src"});
  ASSERT_TRUE(plan.is_object());
  EXPECT_THAT(Strings(plan["scope"]["not_writable"]), ElementsAre(ws_ + "/src"));
  EXPECT_EQ(Mount(plan, "bind", ws_ + "/src"), nullptr);
  const nlohmann::json* build = Mount(plan, "bind", ws_ + "/build");
  ASSERT_NE(build, nullptr);
  EXPECT_EQ((*build)["writable"], true);
}

TEST_F(ScopeExplain, AScopePathThatDoesNotExistIsRefusedByName) {
  RunOutput run =
      Tollgate({"explain", "workspace-write", "--workspace", ws_, "--scope", "src/missing"});
  EXPECT_EQ(run.exit_code, 1);
  EXPECT_THAT(run.err, HasSubstr("scope path \"src/missing\" does not exist"));
  EXPECT_THAT(run.err, HasSubstr("name its parent \"src\""));
  EXPECT_EQ(run.out, "");

  RunOutput outside =
      Tollgate({"explain", "workspace-write", "--workspace", ws_, "--scope", "../x"});
  EXPECT_EQ(outside.exit_code, 2);
  EXPECT_THAT(outside.err, HasSubstr("../x"));
}

}  // namespace
}  // namespace tollgate::e2e
