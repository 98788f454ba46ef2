// Attacks on rules that run on the host (`"run": "host"`, the credential broker), with the real
// git and local bare repositories (docs/SECURITY-TESTS.md, host-run classes). Each test plants
// its attack from inside the sandbox, shows that the push through tollgate runs none of the
// agent's code on the host (the marker a planted hook would write is absent, and the push either
// works or is refused with its reason), and then runs the same push the way a naive broker would
// — the real git on the host, in the workspace, on the state the agent left — and shows the
// attack working there: the marker appears (or the secret commit reaches the remote).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "tests/e2e/e2e_support.h"

namespace tollgate::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

// The test's own git on the host, on trees the sandbox's user owns.
const std::string kGit = "git -c safe.directory='*' ";
const std::string kIdentity =
    "GIT_AUTHOR_NAME=agent GIT_AUTHOR_EMAIL=agent@example.invalid "
    "GIT_COMMITTER_NAME=agent GIT_COMMITTER_EMAIL=agent@example.invalid ";

bool Exists(const std::string& path) {
  return access(path.c_str(), F_OK) == 0;
}

class HostRuleAttacksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    TOLLGATE_SKIP_WITHOUT_NAMESPACES();
    if (access("/usr/bin/git", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/git";
    ws_ = scratch_ / "ws";
    remote_ = scratch_ / "remote.git";
    log_ = scratch_ / "audit";
    marker_ = ws_ + "/AGENT-CODE-RAN-ON-THE-HOST";
    ASSERT_EQ(Host("mkdir -p " + ws_ + "/app && echo app > " + ws_ + "/app/main.c && cd " + ws_ +
                   " && git init -q -b main . && " + kGit +
                   "-c user.name=t -c user.email=t@example.invalid commit -q --allow-empty -m "
                   "first && git init -q --bare " +
                   remote_ + " && " + kGit + "remote add origin file://" + remote_),
              0);
  }

  RunOutput Run(const std::string& profile, const std::string& script,
                const std::vector<std::string>& extra_env = {}) {
    scratch_.Handover();
    return Tollgate({"run", "--ci", "--profile", profile, "--workspace", ws_, "--audit-log", log_,
                     "--", "/bin/sh", "-c", script},
                    "", extra_env, ws_);
  }

  // In the sandbox: a copy of the repository's .git at `name` whose pre-push hook writes the
  // marker — what a planted redirection would bring to the host.
  std::string PlantEvilGitDir(const std::string& name) const {
    return "cp -r .git " + name + " && rm -rf " + name + "/hooks && mkdir " + name +
           "/hooks && printf '#!/bin/sh\\ntouch " + marker_ + "\\n' > " + name +
           "/hooks/pre-push && chmod +x " + name + "/hooks/pre-push";
  }

  // The push as a naive broker would run it: the real git on the host in `dir` (default: the
  // workspace), with `env` and `options` before push — nothing pinned, hooks on.
  // Returns what git said, for the failure messages.
  std::string NaivePush(const std::string& env = "", const std::string& options = "",
                        const std::string& dir = "") {
    const std::string out = scratch_ / "naive-push.out";
    // As root, as the sandbox's user, the way the broker runs it (root's git would refuse the
    // remote, which belongs to that user, as dubious).
    const std::string as_user =
        geteuid() == 0 ? "setpriv --reuid=65534 --regid=65534 --clear-groups " : "";
    int rc =
        Host("cd " + (dir.empty() ? ws_ : dir) + " && " + as_user + "env HOME=" + scratch_.path() +
             " " + env + " git " + options + " push origin HEAD > " + out + " 2>&1");
    return "naive push: exit " + std::to_string(rc) + ": " + escapes::ReadFile(out);
  }

  std::string RevParse(const std::string& git_dir, const std::string& ref) {
    std::string out = scratch_ / "rev";
    if (Host("GIT_COMMON_DIR=" + git_dir + " " + kGit + "--git-dir=" + git_dir +
             " rev-parse -q --verify " + ref + " > " + out) != 0)
      return "";
    std::string text = escapes::ReadFile(out);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }

  std::string RemoteSubject() {
    std::string out = scratch_ / "subject";
    if (Host(kGit + "--git-dir=" + remote_ + " log -1 --format=%s main > " + out +
             " 2>/dev/null") != 0)
      return "";
    std::string text = escapes::ReadFile(out);
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text;
  }

  std::vector<Json> PushCalls() {
    std::vector<Json> pushes;
    for (const Json& call : OfKind(ReadAuditLog(log_), "tool.call")) {
      if (call["details"].value("subcommand", "") == "push") pushes.push_back(call);
    }
    return pushes;
  }

  // A profile file: `json` with the release profile's git tool, changed by `edit`.
  template <typename Edit>
  std::string ReleaseVariant(const std::string& name, Edit edit) {
    Json release = Json::parse(
        escapes::ReadFile(escapes::BinDir() + "/../share/tollgate/profiles/release.json"));
    Json git = release["tools"]["git"];
    edit(git);
    Json profile = {{"name", name},
                    {"description", "the release profile with a changed git tool"},
                    {"extends", {"release"}},
                    {"tools", {{"git", git}}}};
    std::string path = scratch_ / (name + ".json");
    escapes::WriteFile(path, profile.dump(2));
    return path;
  }

  Scratch scratch_;
  std::string ws_, remote_, log_, marker_;
};

// Class A: .git/commondir written during the run. git would take configuration and hooks from the
// directory it names; the broker pins GIT_DIR and GIT_COMMON_DIR to the repository resolved at
// launch.
TEST_F(HostRuleAttacksTest, CommondirWrittenDuringTheRunBringsNoHookToTheHost) {
  RunOutput run = Run("release", kIdentity + "git commit -q --allow-empty -m release-commit && " +
                                     PlantEvilGitDir("evil-git") +
                                     " && echo \"$PWD/evil-git\" > .git/commondir && "
                                     "git push origin HEAD; echo rc=$?");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("rc=0")) << run.err;
  EXPECT_FALSE(Exists(marker_)) << "the planted pre-push hook ran on the host";
  EXPECT_EQ(RemoteSubject(), "release-commit");
  std::vector<Json> pushes = PushCalls();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0]["verdict"], "allow");
  EXPECT_EQ(pushes[0]["details"]["run"], "host");
  EXPECT_EQ(pushes[0]["details"]["git_dir"], ws_ + "/.git");
  EXPECT_EQ(pushes[0]["details"]["git_common_dir"], ws_ + "/.git");
  EXPECT_THAT(pushes[0]["details"]["host_argv"].dump(), HasSubstr("core.hooksPath=/dev/null"));

  // The same state, pushed by the host's git as it is: the hook runs.
  const std::string naive = NaivePush();
  EXPECT_TRUE(Exists(marker_)) << "the attack does not work even without tollgate; " << naive;
}

// Class A, across runs: a commondir already in the repository's own .git when the run starts
// (an earlier run planted it) is refused, not followed.
TEST_F(HostRuleAttacksTest, CommondirPlantedBeforeTheRunIsRefusedAtTheFirstPush) {
  ASSERT_EQ(Host("cd " + ws_ + " && cp -r .git " + scratch_ / "evil-git" +
                 " && printf '#!/bin/sh\\ntouch " + marker_ + "\\n' > " +
                 scratch_ / "evil-git/hooks/pre-push && chmod +x " +
                 scratch_ / "evil-git/hooks/pre-push && echo " + scratch_ / "evil-git" +
                 " > .git/commondir"),
            0);
  RunOutput run = Run("release", "git push origin HEAD; echo rc=$?");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("rc=126"));
  EXPECT_THAT(run.err, HasSubstr("was not run on the host"));
  EXPECT_THAT(run.err, HasSubstr(".git/commondir exists"));
  EXPECT_THAT(run.err, HasSubstr("remove the file"));
  EXPECT_FALSE(Exists(marker_));
  EXPECT_EQ(RemoteSubject(), "");
  std::vector<Json> pushes = PushCalls();
  ASSERT_EQ(pushes.size(), 1u);
  EXPECT_EQ(pushes[0]["verdict"], "deny");
  EXPECT_EQ(pushes[0]["rule"], "broker");

  const std::string naive = NaivePush();
  EXPECT_TRUE(Exists(marker_)) << "the attack does not work even without tollgate; " << naive;
}

// Class B: a .git file (gitdir: …) in the directory the host's git runs in. Without a pinned
// GIT_DIR, git's discovery finds it before the workspace's .git.
TEST_F(HostRuleAttacksTest, AGitFileInTheHostWorkingDirectoryIsNotFollowed) {
  const std::string profile =
      ReleaseVariant("release-app", [](Json& git) { git["host_cwd"] = "{workspace}/app"; });
  RunOutput run = Run(profile, kIdentity + "git commit -q --allow-empty -m release-commit && " +
                                   PlantEvilGitDir("evil-git") +
                                   " && echo \"gitdir: $PWD/evil-git\" > app/.git && "
                                   "git push origin HEAD; echo rc=$?");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("rc=0")) << run.err;
  EXPECT_FALSE(Exists(marker_));
  EXPECT_EQ(RemoteSubject(), "release-commit");

  const std::string naive = NaivePush("", "", ws_ + "/app");
  EXPECT_TRUE(Exists(marker_)) << "the attack does not work even without tollgate; " << naive;
}

// Class C: GIT_* variables in the sandbox's environment, and in the supervisor's own, never
// reach the host's git (only a host_env entry could set one).
TEST_F(HostRuleAttacksTest, GitVariablesOfTheAgentOrTheSupervisorDoNotReachTheHost) {
  const std::string evil = ws_ + "/evil-git";
  RunOutput run = Run("release", kIdentity + "git commit -q --allow-empty -m release-commit && " +
                                     PlantEvilGitDir("evil-git") +
                                     " && GIT_DIR=$PWD/evil-git GIT_COMMON_DIR=$PWD/evil-git "
                                     "git push origin HEAD; echo rc=$?; "
                                     "GIT_DIR=$PWD/evil-git git push origin HEAD; echo rc2=$?");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("rc=0")) << run.err;
  EXPECT_THAT(run.out, HasSubstr("rc2=0")) << run.err;
  EXPECT_FALSE(Exists(marker_));
  EXPECT_EQ(RemoteSubject(), "release-commit");

  // The supervisor's own environment: tollgate started with GIT_DIR and GIT_COMMON_DIR naming
  // the planted directory (a push that is up to date still runs pre-push).
  log_ = scratch_ / "audit-2";  // the first run's log belongs to the sandbox's user by now
  RunOutput supervisor = Run("release", "git push origin HEAD; echo rc3=$?",
                             {"GIT_DIR=" + evil, "GIT_COMMON_DIR=" + evil});
  ASSERT_EQ(supervisor.exit_code, 0) << supervisor.out << supervisor.err;
  EXPECT_THAT(supervisor.out, HasSubstr("rc3=0")) << supervisor.err;
  EXPECT_FALSE(Exists(marker_));

  const std::string naive = NaivePush("GIT_DIR=" + evil);
  EXPECT_TRUE(Exists(marker_)) << "the attack does not work even without tollgate; " << naive;
}

// Class D: hooks. The repository's own hooks are the user's, but they commonly run the project's
// code (a test runner, a script in the tree), which the agent wrote; core.hooksPath may even
// point into the work tree. The host's git runs no hook.
TEST_F(HostRuleAttacksTest, TheUsersHookRunsNoAgentCodeOnTheHost) {
  ASSERT_EQ(Host("printf '#!/bin/sh\\nexec ./scripts/pre-push.sh\\n' > " + ws_ +
                 "/.git/hooks/pre-push && chmod +x " + ws_ + "/.git/hooks/pre-push"),
            0);
  RunOutput run = Run("release", kIdentity +
                                     "git commit -q --allow-empty -m release-commit && "
                                     "mkdir -p scripts && printf '#!/bin/sh\\ntouch " +
                                     marker_ +
                                     "\\n' > scripts/pre-push.sh && chmod +x scripts/pre-push.sh "
                                     "&& git push origin HEAD; echo rc=$?");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("rc=0")) << run.err;
  EXPECT_FALSE(Exists(marker_));
  EXPECT_EQ(RemoteSubject(), "release-commit");

  const std::string naive = NaivePush();
  EXPECT_TRUE(Exists(marker_)) << "the attack does not work even without tollgate; " << naive;
}

TEST_F(HostRuleAttacksTest, AHooksPathIntoTheWorkTreeRunsNoAgentCodeOnTheHost) {
  ASSERT_EQ(Host("cd " + ws_ + " && git config core.hooksPath .githooks"), 0);
  RunOutput run = Run("release", kIdentity +
                                     "git commit -q --allow-empty -m release-commit && "
                                     "mkdir -p .githooks && printf '#!/bin/sh\\ntouch " +
                                     marker_ +
                                     "\\n' > .githooks/pre-push && chmod +x .githooks/pre-push "
                                     "&& git push origin HEAD; echo rc=$?");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("rc=0")) << run.err;
  EXPECT_FALSE(Exists(marker_));
  EXPECT_EQ(RemoteSubject(), "release-commit");

  const std::string naive = NaivePush();
  EXPECT_TRUE(Exists(marker_)) << "the attack does not work even without tollgate; " << naive;
}

// Class E: options before the sub-command. A profile whose git grammar knows -C, --git-dir, -c,
// --exec-path and --work-tree, with a host rule for `push origin HEAD` and no rule against those
// options: the host rule matches argv in full, so none of them reaches the host.
TEST_F(HostRuleAttacksTest, OptionsBeforeTheSubcommandNeverReachTheHost) {
  Json tools = Json::parse(R"({"git": {
    "paths": ["/usr/bin/git", "/usr/lib/git-core/git"],
    "default": "deny", "why": "not on this profile's list",
    "subcommand": {"flags": ["--no-pager"],
                   "value_options": ["-C", "-c", "--git-dir", "--work-tree", "--exec-path",
                                     "--namespace"],
                   "dashed_prefix": "git-"},
    "host_env": {"HOME": "{home}"},
    "rules": [
      {"id": "git-local", "verdict": "allow", "args": "status|add|commit|init|config ...",
       "why": "local work"},
      {"id": "push-head", "verdict": "allow", "args": "push origin HEAD", "run": "host",
       "why": "the broker pushes the current branch"}]}})");
  Json profile = {{"name", "naive-host-rule"},
                  {"description", "a host rule without any rule against global options"},
                  {"extends", {"workspace-write"}},
                  {"tools", tools}};
  const std::string profile_path = scratch_ / "naive-host-rule.json";
  escapes::WriteFile(profile_path, profile.dump(2));
  const std::string exec_dir = ws_ + "/evil-exec";
  const std::string receive_pack =
      "printf '#!/bin/sh\\ntouch " + marker_ +
      "\\nexec /usr/lib/git-core/git-receive-pack \"$@\"\\n' > "
      "evil-exec/git-receive-pack && chmod +x evil-exec/git-receive-pack";
  const std::vector<std::pair<std::string, std::string>> attacks = {
      {"git-dir", "--git-dir=" + ws_ + "/evil-git"},
      {"C", "-C " + ws_ + "/evil-tree"},
      {"c", "-c core.hooksPath=" + ws_ + "/evil-git/hooks"},
      {"exec-path", "--exec-path=" + exec_dir},
      {"work-tree", "--work-tree=" + ws_ + "/evil-tree"},
      {"no-pager", "--no-pager"}};
  std::string script = kIdentity + "git commit -q --allow-empty -m release-commit && " +
                       PlantEvilGitDir("evil-git") +
                       " && mkdir evil-tree && echo \"gitdir: $PWD/evil-git\" > evil-tree/.git"
                       " && mkdir evil-exec && " +
                       receive_pack + "; ";
  for (const auto& [name, options] : attacks)
    script += "git " + options + " push origin HEAD; echo " + name + "=$?; ";
  script += "git push origin HEAD; echo plain=$?";
  RunOutput run = Run(profile_path, script);
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  for (const auto& [name, options] : attacks) {
    EXPECT_THAT(run.out, HasSubstr(name + "=126")) << run.err;
    EXPECT_THAT(run.err, HasSubstr("`" + options + "` before the sub-command is not part of it"));
  }
  EXPECT_THAT(run.err, HasSubstr("run `git push origin HEAD` without it"));
  EXPECT_THAT(run.out, HasSubstr("plain=0")) << run.err;
  EXPECT_FALSE(Exists(marker_));
  EXPECT_EQ(RemoteSubject(), "release-commit");
  std::size_t refused = 0;
  for (const Json& call : PushCalls()) {
    if (call["verdict"] == "deny") {
      EXPECT_EQ(call["rule"], "git:host-options");
      ++refused;
    }
  }
  EXPECT_EQ(refused, attacks.size());

  // The same calls on the host's git: each that names another repository, configuration or
  // program directory runs the agent's code.
  for (const auto& [name, options] : attacks) {
    if (name == "no-pager" || name == "work-tree") continue;
    SCOPED_TRACE(name);
    unlink(marker_.c_str());
    const std::string naive = NaivePush("", options);
    EXPECT_TRUE(Exists(marker_)) << "the attack does not work even without tollgate; " << naive;
  }
}

// Class F: objects/info/alternates. Not code, but data: the host's git would read objects from
// any directory the user can read and push what the agent's refs name. A secret commit in a
// repository the sandbox cannot see stays there.
TEST_F(HostRuleAttacksTest, AlternatesWrittenDuringTheRunAreRefused) {
  const std::string secret = scratch_ / "secret";
  const std::string id_file = scratch_ / "secret-id";
  ASSERT_EQ(Host("cd " + ws_ + " && " + kGit + "push -q origin HEAD && " + kGit + "clone -q " +
                 ws_ + " " + secret + " && cd " + secret + " && " + kGit +
                 "-c user.name=s -c user.email=s@example.invalid commit -q --allow-empty -m "
                 "secret-commit && git rev-parse HEAD > " +
                 id_file),
            0);
  std::string id = escapes::ReadFile(id_file);
  while (!id.empty() && id.back() == '\n') id.pop_back();
  ASSERT_EQ(RemoteSubject(), "first");
  RunOutput run =
      Run("release", "ls " + secret + " >/dev/null 2>&1; echo seen=$?; echo " + secret +
                         "/.git/objects > .git/objects/info/alternates && "
                         "echo " +
                         id + " > .git/refs/heads/main && git push origin HEAD; echo rc=$?");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("seen=2"));  // the secret repository is not in the view
  EXPECT_THAT(run.out, HasSubstr("rc=126"));
  EXPECT_THAT(run.err, HasSubstr("objects/info/alternates changed since the run started"));
  EXPECT_EQ(RemoteSubject(), "first");

  const std::string naive = NaivePush();
  EXPECT_EQ(RemoteSubject(), "secret-commit")
      << "the attack does not work even without tollgate; " << naive;
}

}  // namespace
}  // namespace tollgate::e2e
