// Tool mediation end to end (SECURITY.md 27-29): real git and rm behind tollgate-shim under the
// real supervisor. Allowed calls run and leave a tool.call and a tool.exit record; denied ones
// exit 126 with the reason and run nothing; every other route to a denied call (another path, a
// symlink, env, xargs, a script, python, the dynamic loader, the dashed form, an alias, a copy,
// a hard link) is denied too; the broker's socket survives forged, malformed and a thousand
// concurrent requests; and the agent never holds the real program.
//
// Each test writes its own profiles (extending "base", so that no shipped tool rule is in play):
// one that mediates git and rm, and one identical but for the tools, the control that shows each
// attempt works when nothing mediates it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "supervisor/audit/log_files.h"
#include "supervisor/kernel/kernel_features.h"
#include "tests/e2e/e2e_support.h"

namespace tollgate::e2e {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;

constexpr char kProfile[] = "tools-e2e";

// tool.call records with this verdict whose rule is `rule` and whose reason contains `reason`.
std::vector<Json> Calls(const std::vector<Json>& records, const std::string& verdict,
                        const std::string& rule, const std::string& reason = "") {
  std::vector<Json> out;
  for (const Json& r : OfKind(records, "tool.call")) {
    if (r["verdict"] == verdict && r.value("rule", "") == rule &&
        r.value("reason", "").find(reason) != std::string::npos) {
      out.push_back(r);
    }
  }
  return out;
}

std::string Quote(const std::string& text) {
  return "'" + text + "'";
}

// Host git on a tree the sandbox's user owns (root would otherwise refuse it as dubious).
std::string HostGit(const std::string& args) {
  return "git -c safe.directory='*' " + args;
}

bool RemoteHasBranch(const std::string& remote, const std::string& branch) {
  return Host(HostGit("--git-dir=" + Quote(remote) + " rev-parse -q --verify refs/heads/" + branch +
                      " >/dev/null")) == 0;
}

// One run's world: a workspace holding a git repository with one commit, and beside it (outside
// the workspace, bound writable into the view) a bare repository to push to and a folder of
// files to remove.
class ToolsWorld {
 public:
  ToolsWorld() {
    // Outside both the workspace and /tmp ({tmp} is a root rm's rule allows).
    char outside[] = "/var/tmp/tollgate-e2e-outside.XXXXXX";
    if (mkdtemp(outside) != nullptr) outside_ = outside;
    remote_ = side_ / "remote.git";
    log_ = side_ / "audit";
    // git exports GIT_EXEC_PATH to the git commands it starts itself, so `git commit`'s
    // `git maintenance run --auto` would come back through the shim and meet the env rule below.
    const std::string setup =
        "cd " + Quote(ws_.path()) +
        " && git init -q -b main && git config user.name sandboxed &&"
        " git config user.email sandboxed@example.invalid && git config maintenance.auto false &&"
        " echo one > one.txt && git add one.txt && git commit -q -m first-commit &&"
        " git init -q --bare " +
        Quote(remote_) + " && echo keep > " + Quote(outside_ + "/target");
    ok_ = !ws_.path().empty() && !side_.path().empty() && !outside_.empty() && Host(setup) == 0;
    ws_.Handover();
    side_.Handover();
    if (geteuid() == 0 && !outside_.empty()) Host("chown -R 65534:65534 " + Quote(outside_));
  }
  ~ToolsWorld() {
    if (!outside_.empty()) escapes::RemoveTree(outside_);
  }
  ToolsWorld(const ToolsWorld&) = delete;
  ToolsWorld& operator=(const ToolsWorld&) = delete;

  bool ok() const { return ok_; }
  const std::string& ws() const { return ws_.path(); }
  const std::string& remote() const { return remote_; }
  const std::string& outside() const { return outside_; }
  const std::string& log() const { return log_; }

  // Runs `script` with /bin/sh -c in the workspace under a profile that mediates git and rm
  // (`mediated`), or under the same profile without tools.
  RunOutput Run(const std::string& script, bool mediated = true, int timeout_seconds = 120) {
    const std::string profile = side_ / (mediated ? "mediated.json" : "plain.json");
    escapes::WriteFile(profile, ProfileJson(mediated));
    return Tollgate({"run", "--profile", profile, "--workspace", ws(), "--audit-log", log_, "--",
                     "/bin/sh", "-c", script},
                    "", {}, ws(), timeout_seconds);
  }

  std::vector<Json> Records() const { return ReadAuditLog(log_); }

 private:
  std::string ProfileJson(bool mediated) const {
    const std::string bin = escapes::BinDir();
    Json profile = {{"name", mediated ? kProfile : "tools-e2e-plain"},
                    {"description",
                     "tool mediation tests: git and rm mediated, a remote and a folder outside "
                     "the workspace writable"},
                    {"extends", {"base"}},
                    {"filesystem",
                     {{"read", {bin}},
                      {"write", {"{workspace}", remote_, outside_}},
                      {"exec", {"{workspace}", bin}}}}};
    if (!mediated) return profile.dump(2);
    profile["tools"] = Json::parse(R"({
      "git": {
        "paths": ["/usr/bin/git", "/usr/lib/git-core/git"],
        "default": "deny", "why": "not on this profile's allowlist",
        "subcommand": {"flags": ["--no-pager"], "value_options": ["-C"], "dashed_prefix": "git-"},
        "rules": [
          {"id": "git-local", "verdict": "allow",
           "args": "status|log|init|add|commit|version ...", "why": "local work"},
          {"id": "git-push", "verdict": "deny", "args": "push ...",
           "why": "pushing publishes work"},
          {"id": "git-exec-env", "verdict": "deny",
           "env": ["GIT_EXEC_PATH", "GIT_SSH_COMMAND", "GIT_CONFIG_*"],
           "why": "these variables change which program git runs"}]},
      "rm": {
        "paths": ["/usr/bin/rm", "/bin/rm"],
        "default": "allow", "why": "removing files of the workspace is local work",
        "rules": [
          {"id": "rm-outside", "verdict": "deny", "paths_outside": ["{workspace}", "{tmp}"],
           "why": "only files of the workspace and of tmp may be removed"}]}})");
    return profile.dump(2);
  }

  Scratch ws_;
  Scratch side_;
  std::string remote_, outside_, log_;
  bool ok_ = false;
};

// "BEGIN name" ... "END name rc=N" sections of a script's output.
struct Section {
  int rc = -1;
  std::string text;
};

std::map<std::string, Section> Sections(const std::string& out) {
  std::map<std::string, Section> sections;
  std::istringstream lines(out);
  std::string current;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("BEGIN ", 0) == 0) {
      current = line.substr(6);
      sections[current];
    } else if (line.rfind("END ", 0) == 0 && !current.empty()) {
      std::size_t rc = line.find(" rc=");
      if (rc != std::string::npos) sections[current].rc = std::stoi(line.substr(rc + 4));
      current.clear();
    } else if (!current.empty()) {
      sections[current].text += line + "\n";
    }
  }
  return sections;
}

std::string Step(const std::string& name, const std::string& command) {
  return "echo 'BEGIN " + name + "'; ( " + command + " ) 2>&1; echo \"END " + name + " rc=$?\"\n";
}

// ---- 1. Allowed and denied calls of the real tools --------------------------------------------

TEST(Tools, AllowedCallsRunTheRealToolAndLeaveACallAndAnExitRecord) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  ToolsWorld w;
  ASSERT_TRUE(w.ok());
  RunOutput run = w.Run(
      "git status --short && echo two > two.txt && git add two.txt && "
      "git commit -q -m from-the-sandbox && git log --oneline -1 && "
      "echo scratch > gone.txt && rm gone.txt && echo RM-OK");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_THAT(run.out, HasSubstr("from-the-sandbox"));
  EXPECT_THAT(run.out, HasSubstr("RM-OK"));
  EXPECT_THAT(run.err, Not(HasSubstr("tollgate:"))) << "no call of this script may be refused";
  // The real git wrote the commit, as the host sees it.
  EXPECT_EQ(Host(HostGit("-C " + Quote(w.ws()) + " log --oneline | grep -q from-the-sandbox")), 0);
  EXPECT_NE(access((w.ws() + "/gone.txt").c_str(), F_OK), 0);

  std::vector<Json> records = w.Records();
  std::vector<Json> calls = OfKind(records, "tool.call");
  std::vector<Json> exits = OfKind(records, "tool.exit");
  auto find_call = [&](const Json& argv) -> const Json* {
    for (const Json& r : calls) {
      if (r["details"]["argv"] == argv) return &r;
    }
    return nullptr;
  };
  const Json* status = find_call(Json::array({"git", "status", "--short"}));
  ASSERT_NE(status, nullptr) << Json(calls).dump(1);
  EXPECT_EQ((*status)["verdict"], "allow");
  EXPECT_EQ((*status)["rule"], "git:git-local");
  EXPECT_EQ((*status)["reason"], "local work");
  EXPECT_EQ((*status)["profile"], kProfile);
  EXPECT_EQ((*status)["details"]["tool"], "git");
  EXPECT_EQ((*status)["details"]["subcommand"], "status");
  EXPECT_EQ((*status)["details"]["cwd"], w.ws()) << "the cwd the shim's fd names";
  EXPECT_EQ((*status)["details"]["path"], "/usr/bin/git");
  EXPECT_GT((*status)["process"]["pid"].get<int>(), 1) << "the shim, as the sandbox numbers it";
  ASSERT_NE(find_call(Json::array({"git", "add", "two.txt"})), nullptr) << Json(calls).dump(1);
  ASSERT_NE(find_call(Json::array({"git", "commit", "-q", "-m", "from-the-sandbox"})), nullptr);
  const Json* rm = find_call(Json::array({"rm", "gone.txt"}));
  ASSERT_NE(rm, nullptr) << Json(calls).dump(1);
  EXPECT_EQ((*rm)["verdict"], "allow");
  EXPECT_EQ((*rm)["rule"], "rm:default");

  // Every allowed call has its tool.exit, after it in the log, with the tool's status.
  for (const Json* call : {status, rm}) {
    auto exit = std::find_if(exits.begin(), exits.end(), [&](const Json& r) {
      return r["details"]["call"] == (*call)["details"]["call"] &&
             r["details"]["tool"] == (*call)["details"]["tool"];
    });
    ASSERT_NE(exit, exits.end()) << "no tool.exit for " << call->dump();
    EXPECT_EQ((*exit)["details"]["exit"], 0) << exit->dump();
    EXPECT_GT((*exit)["seq"].get<std::uint64_t>(), (*call)["seq"].get<std::uint64_t>());
  }
  std::size_t allowed = Calls(records, "allow", "git:git-local").size();
  EXPECT_EQ(exits.size(), allowed + 1) << "one tool.exit per allowed git call, and rm's";
  RunOutput verify = Tollgate({"audit", "verify", "--audit-log", w.log()});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}

TEST(Tools, DeniedCallsExit126WithTheReasonAndRunNothing) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  ToolsWorld w;
  ASSERT_TRUE(w.ok());
  const std::string script =
      Step("push", "git push -q " + Quote(w.remote()) + " HEAD:refs/heads/pushed") +
      Step("rm", "rm -rf " + Quote(w.outside() + "/target"));
  RunOutput control = w.Run(script, /*mediated=*/false);
  std::map<std::string, Section> plain = Sections(control.out);
  // Nothing but mediation stands in the way: without it, the same calls do their damage.
  ASSERT_EQ(plain["push"].rc, 0) << control.out << control.err;
  ASSERT_EQ(plain["rm"].rc, 0) << control.out;
  ASSERT_TRUE(RemoteHasBranch(w.remote(), "pushed"));
  ASSERT_NE(access((w.outside() + "/target").c_str(), F_OK), 0);

  ToolsWorld m;
  ASSERT_TRUE(m.ok());
  RunOutput run =
      m.Run(Step("push", "git push -q " + Quote(m.remote()) + " HEAD:refs/heads/pushed") +
            Step("rm", "rm -rf " + Quote(m.outside() + "/target")) +
            Step("rm-dotdot", "rm -f ./../../.." + Quote(m.outside() + "/target")) + "ls one.txt");
  std::map<std::string, Section> s = Sections(run.out);
  EXPECT_EQ(s["push"].rc, 126) << run.out;
  EXPECT_EQ(s["push"].text, std::string("tollgate: git push denied by rule git-push of profile ") +
                                kProfile + ": pushing publishes work\n");
  EXPECT_EQ(s["rm"].rc, 126) << run.out;
  EXPECT_EQ(s["rm"].text, std::string("tollgate: rm denied by rule rm-outside of profile ") +
                              kProfile +
                              ": only files of the workspace and of tmp may be removed\n");
  EXPECT_EQ(s["rm-dotdot"].rc, 126) << "a relative path is decided where it leads\n" << run.out;
  EXPECT_EQ(run.exit_code, 0) << "the script goes on after a refusal\n" << run.out << run.err;
  EXPECT_FALSE(RemoteHasBranch(m.remote(), "pushed"));
  EXPECT_EQ(escapes::ReadFile(m.outside() + "/target"), "keep\n");
  EXPECT_EQ(access((m.ws() + "/one.txt").c_str(), F_OK), 0);

  std::vector<Json> records = m.Records();
  std::vector<Json> push = Calls(records, "deny", "git:git-push", "pushing publishes work");
  ASSERT_EQ(push.size(), 1u) << Json(OfKind(records, "tool.call")).dump(1);
  EXPECT_EQ(push[0]["details"]["argv"],
            Json::array({"git", "push", "-q", m.remote(), "HEAD:refs/heads/pushed"}));
  EXPECT_EQ(push[0]["details"]["subcommand"], "push");
  EXPECT_EQ(push[0]["details"]["cwd"], m.ws());
  EXPECT_GT(push[0]["process"]["pid"].get<int>(), 1);
  EXPECT_EQ(Calls(records, "deny", "rm:rm-outside").size(), 2u);
  EXPECT_TRUE(OfKind(records, "tool.exit").empty()) << "nothing ran, so nothing exited";
}

TEST(Tools, AnAllowedCallWithALargeArgvRunsAndLaterCallsStillWork) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  ToolsWorld w;
  ASSERT_TRUE(w.ok());
  // `git add` of a large tree: 30,000 operands, about 500 KiB of argv (the protocol takes up to
  // 1 MiB), more than a socket buffer holds at once. The later call is bounded by timeout(1) so
  // that a hang shows as a failure, not as a stuck suite.
  RunOutput run =
      w.Run(Step("large", "git status --short -- $(seq -f 'no-such-file-%06g' 1 30000)") +
                Step("after", "timeout -k 1 8 git status --short"),
            true, 60);
  ASSERT_FALSE(run.timed_out) << run.out << run.err;
  std::map<std::string, Section> s = Sections(run.out);
  EXPECT_EQ(s["large"].rc, 0) << s["large"].text;
  EXPECT_EQ(s["after"].rc, 0) << "the call after the large one did not run\n" << s["after"].text;
  std::vector<Json> records = w.Records();
  EXPECT_EQ(Calls(records, "allow", "git:git-local").size(), 2u);
  EXPECT_EQ(OfKind(records, "tool.exit").size(), 2u) << Json(OfKind(records, "tool.call")).dump(1);
}

// ---- 2. Other routes to a denied call (SECURITY.md 27, 28) ------------------------------------

struct Route {
  std::string name;
  std::string command;  // pushes HEAD to refs/heads/<name> of the remote, or tries to
  // The deny tool.call records any of which the attempt must leave, inside: "rule" alone, or
  // "rule:text in the reason".
  std::vector<std::string> denied_by;
};

std::vector<Route> Routes(const std::string& remote, const std::string& bin) {
  auto push = [&](const std::string& branch) {
    return "push -q " + Quote(remote) + " HEAD:refs/heads/" + branch;
  };
  const std::vector<std::string> git_push = {"git:git-push"};
  return {
      {"plain", "git " + push("plain"), git_push},
      {"absolute", "/usr/bin/git " + push("absolute"), git_push},
      {"bin-symlink", "/bin/git " + push("bin-symlink"), git_push},
      {"workspace-symlink", "ln -s /usr/bin/git ./g && ./g " + push("workspace-symlink"), git_push},
      {"env", "env git " + push("env"), git_push},
      {"env-path", "env PATH=/usr/lib/git-core:/usr/bin git " + push("env-path"), git_push},
      {"xargs", "echo HEAD:refs/heads/xargs | xargs git push -q " + Quote(remote), git_push},
      {"script",
       "printf '#!/bin/sh\\nexec git %s\\n' " + Quote(push("script")) +
           " > push.sh && chmod +x push.sh && ./push.sh",
       git_push},
      {"python",
       "python3 -c 'import subprocess, sys; sys.exit(subprocess.run([\"git\", \"push\", \"-q\", "
       "sys.argv[1], \"HEAD:refs/heads/python\"]).returncode)' " +
           Quote(remote),
       git_push},
      // ld.so maps the program at the path it is given: the shim. Whether the shim then names
      // itself by that path or by the loader's, the call is refused.
      {"ld.so",
       "/lib64/ld-linux-x86-64.so.2 /usr/bin/git " + push("ld.so"),
       {"git:git-push", "broker:ld-linux-x86-64.so.2 is not a mediated tool"}},
      {"git-core", "/usr/lib/git-core/git " + push("git-core"), git_push},
      {"dashed", "/usr/lib/git-core/git-push -q " + Quote(remote) + " HEAD:refs/heads/dashed",
       git_push},
      {"alias",
       "git -c alias.x=push x -q " + Quote(remote) + " HEAD:refs/heads/alias",
       {"git:grammar:the option -c before the sub-command"}},
      {"copy",
       "cp /usr/bin/git ./copied-git && cmp -s ./copied-git " + Quote(bin + "/tollgate-shim") +
           " && echo COPY-IS-THE-SHIM; ./copied-git " + push("copy"),
       {"broker:/copied-git is not a mediated tool"}},
      {"exec-path", "GIT_EXEC_PATH=/usr/lib/git-core git " + push("exec-path"), git_push},
  };
}

// A deny tool.call record for `route`: its rule, and its argv names the route's branch (or, for
// a refusal before any rule, its reason names what was refused).
bool RouteDenied(const std::vector<Json>& records, const Route& route) {
  for (const std::string& spec : route.denied_by) {
    std::size_t colon = spec.find(':', spec.rfind("git:", 0) == 0 ? 4 : 0);
    std::string rule = spec.substr(0, colon);
    std::string reason = colon == std::string::npos ? "" : spec.substr(colon + 1);
    for (const Json& r : Calls(records, "deny", rule, reason)) {
      if (rule == "broker") return true;
      for (const Json& token : r["details"].value("argv", Json::array())) {
        if (token == "HEAD:refs/heads/" + route.name) return true;
      }
    }
  }
  return false;
}

TEST(Tools, EveryOtherRouteToADeniedPushIsDeniedToo) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  const bool python = access("/usr/bin/python3", X_OK) == 0;
  if (!python) std::cout << "[ note    ] no /usr/bin/python3: the python route is left out\n";
  auto routes = [&](const ToolsWorld& world) {
    std::vector<Route> all = Routes(world.remote(), escapes::BinDir());
    if (!python) std::erase_if(all, [](const Route& r) { return r.name == "python"; });
    return all;
  };
  auto script_for = [&](const ToolsWorld& world) {
    std::string script;
    for (const Route& route : routes(world)) script += Step(route.name, route.command);
    return script;
  };

  // Without mediation every route reaches the real git and pushes.
  ToolsWorld plain;
  ASSERT_TRUE(plain.ok());
  RunOutput control = plain.Run(script_for(plain), /*mediated=*/false);
  std::map<std::string, Section> outside = Sections(control.out);
  for (const Route& route : routes(plain)) {
    EXPECT_EQ(outside[route.name].rc, 0)
        << route.name << " must work without mediation, or it proves nothing\n"
        << outside[route.name].text;
    EXPECT_TRUE(RemoteHasBranch(plain.remote(), route.name)) << route.name;
  }
  EXPECT_THAT(outside["copy"].text, Not(HasSubstr("COPY-IS-THE-SHIM")));

  ToolsWorld w;
  ASSERT_TRUE(w.ok());
  RunOutput run = w.Run(script_for(w));
  ASSERT_FALSE(run.timed_out);
  std::map<std::string, Section> inside = Sections(run.out);
  std::vector<Json> records = w.Records();
  for (const Route& route : routes(w)) {
    const Section& s = inside[route.name];
    EXPECT_NE(s.rc, 0) << route.name << "\n" << run.out << run.err;
    EXPECT_THAT(s.text, HasSubstr("tollgate: ")) << route.name;
    EXPECT_FALSE(RemoteHasBranch(w.remote(), route.name))
        << "ESCAPE: " << route.name << " pushed past mediation\n"
        << s.text;
    EXPECT_TRUE(RouteDenied(records, route)) << "no deny tool.call record for " << route.name
                                             << ": " << Json(OfKind(records, "tool.call")).dump(1);
  }
  // The direct routes end with the shim's own status; xargs turns 126 into 123.
  for (const char* name : {"plain", "absolute", "env", "script", "dashed", "alias", "copy"})
    EXPECT_EQ(inside[name].rc, 126) << name << "\n" << inside[name].text;
  EXPECT_EQ(inside["xargs"].rc, 123) << inside["xargs"].text;
  EXPECT_THAT(inside["dashed"].text, HasSubstr("tollgate: git push denied by rule git-push"));
  EXPECT_THAT(inside["alias"].text,
              HasSubstr("tollgate: git denied by rule grammar of profile tools-e2e: the option -c "
                        "before the sub-command is not in the profile's grammar for git"));
  // A copy of the tool's path is a copy of the shim, and the shim at a path no profile names
  // refuses everything.
  EXPECT_THAT(inside["copy"].text, HasSubstr("COPY-IS-THE-SHIM"));
  EXPECT_THAT(inside["copy"].text, HasSubstr("/copied-git is not a tool this profile mediates"));
  EXPECT_TRUE(Calls(records, "allow", "git:git-local").empty());
  EXPECT_TRUE(OfKind(records, "tool.exit").empty()) << "nothing ran";
}

TEST(Tools, VariablesThatChangeWhatGitRunsDenyAnOtherwiseAllowedCall) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  const std::string script =
      Step("exec-path", "GIT_EXEC_PATH=/tmp git status --short") +
      Step("ssh-command", "GIT_SSH_COMMAND='touch /tmp/ran' git status --short") +
      Step("config-env",
           "GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=alias.st GIT_CONFIG_VALUE_0=push "
           "git status --short") +
      Step("clean", "git status --short");
  ToolsWorld plain;
  ASSERT_TRUE(plain.ok());
  std::map<std::string, Section> outside = Sections(plain.Run(script, false).out);
  for (const char* name : {"exec-path", "ssh-command", "config-env", "clean"})
    EXPECT_EQ(outside[name].rc, 0) << name << " runs without mediation\n" << outside[name].text;

  ToolsWorld w;
  ASSERT_TRUE(w.ok());
  RunOutput run = w.Run(script);
  std::map<std::string, Section> inside = Sections(run.out);
  for (const char* name : {"exec-path", "ssh-command", "config-env"}) {
    EXPECT_EQ(inside[name].rc, 126) << name << "\n" << run.out;
    EXPECT_THAT(inside[name].text, HasSubstr("denied by rule git-exec-env")) << name;
  }
  EXPECT_EQ(inside["clean"].rc, 0) << inside["clean"].text;
  std::vector<Json> records = w.Records();
  EXPECT_EQ(Calls(records, "deny", "git:git-exec-env").size(), 3u);
  EXPECT_EQ(Calls(records, "allow", "git:git-local").size(), 1u);
}

TEST(Tools, AHardLinkToTheToolCannotBeMadeAndSoCannotRunIt) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  ToolsWorld w;
  ASSERT_TRUE(w.ok());
  RunOutput run =
      w.Run(Step("link-usr-bin", "ln /usr/bin/git ./hard-git") +
            Step("link-git-core", "ln /usr/lib/git-core/git ./hard-core") +
            Step("run", "for g in ./hard-git ./hard-core; do [ -e $g ] && $g push -q " +
                            Quote(w.remote()) + " HEAD:refs/heads/hardlink; done; echo none"));
  std::map<std::string, Section> s = Sections(run.out);
  for (const char* name : {"link-usr-bin", "link-git-core"}) {
    EXPECT_NE(s[name].rc, 0) << name << " made a hard link\n" << run.out;
    // EXDEV: the workspace is another mount; EPERM: protected_hardlinks (not the file's owner).
    EXPECT_THAT(s[name].text, ::testing::AnyOf(HasSubstr("Invalid cross-device link"),
                                               HasSubstr("Operation not permitted")))
        << name;
  }
  EXPECT_NE(access((w.ws() + "/hard-git").c_str(), F_OK), 0);
  EXPECT_NE(access((w.ws() + "/hard-core").c_str(), F_OK), 0);
  EXPECT_FALSE(RemoteHasBranch(w.remote(), "hardlink"));
}

// ---- 3. The broker's socket, spoken to directly (SECURITY.md 29) ------------------------------

// "CASE name rest" lines of probe-mediation_socket.
std::map<std::string, std::string> Cases(const std::string& out) {
  std::map<std::string, std::string> cases;
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("CASE ", 0) != 0) continue;
    std::size_t space = line.find(' ', 5);
    cases[line.substr(5, space - 5)] = space == std::string::npos ? "" : line.substr(space + 1);
  }
  return cases;
}

TEST(Tools, ForgedAndMalformedRequestsAreRefusedAndRecordedAndTheBrokerStaysUp) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  ToolsWorld w;
  ASSERT_TRUE(w.ok());
  const std::string probe = escapes::BinDir() + "/probe-mediation_socket";
  RunOutput run =
      w.Run(Quote(probe) + " abuse /usr/bin/git; " + Step("status-after", "git status --short"));
  ASSERT_FALSE(run.timed_out) << run.out << run.err;
  std::map<std::string, std::string> cases = Cases(run.out);
  struct Refused {
    const char* name;
    const char* message;  // in the Decision the probe got
    const char* rule;     // of the deny tool.call record
    const char* reason;   // in that record's reason
  };
  const Refused refused[] = {
      {"no-fds", "must pass stdin, stdout, stderr and its cwd", "protocol",
       "the call came with 0 descriptors"},
      {"not-mediated", "/usr/bin/true is not a tool this profile mediates", "broker",
       "/usr/bin/true is not a mediated tool"},
      {"bad-magic", "malformed call (bad magic)", "protocol", "malformed call: bad magic"},
      {"oversized", "malformed call (payload of 2147483647 bytes", "protocol",
       "payload of 2147483647 bytes exceeds"},
      {"truncated", "truncated call", "protocol", "the call was cut short"},
      {"garbage", "malformed call (string of", "protocol", "bytes in exe exceeds"},
      {"unknown-type", "malformed call (unknown message type 77)", "protocol",
       "unknown message type 77"},
      {"not-a-call", "expected a call", "protocol", "expected a call"},
      {"relative-exe", "exe is not an absolute path", "protocol", "exe is not an absolute path"},
  };
  std::vector<Json> records = w.Records();
  for (const Refused& r : refused) {
    EXPECT_THAT(cases[r.name], HasSubstr("deny exit=126 msg=tollgate: refused: ")) << r.name << "\n"
                                                                                   << run.out;
    EXPECT_THAT(cases[r.name], HasSubstr(r.message)) << r.name;
    EXPECT_EQ(Calls(records, "deny", r.rule, r.reason).size(), 1u)
        << "no deny tool.call record (rule " << r.rule << ") for " << r.name << ": "
        << Json(OfKind(records, "tool.call")).dump(1);
  }
  // A Call carries no pid to forge (the broker asks the kernel, SO_PEERCRED); its pgid is the
  // caller's word only, and a garbage one is still served: the tool stays in the spawner's group.
  EXPECT_EQ(cases["garbage-pgid"], "allow status=0") << run.out;
  EXPECT_EQ(cases["allowed"], "allow status=0") << run.out;
  // The supervisor is still there, and the shim still works.
  std::map<std::string, Section> s = Sections(run.out);
  EXPECT_EQ(s["status-after"].rc, 0) << run.out << run.err;
  EXPECT_EQ(run.exit_code, 0) << run.err;
  std::vector<Json> allowed = Calls(records, "allow", "git:git-local");
  EXPECT_EQ(allowed.size(), 3u) << "git version twice from the probe, git status from the shim";
  for (const Json& r : allowed) {
    EXPECT_GT(r["process"]["pid"].get<int>(), 1) << "the caller as the kernel names it";
  }
  EXPECT_EQ(OfKind(records, "tool.exit").size(), 3u);
}

TEST(Tools, AThousandConcurrentCallsAreEachAnsweredAndTheBrokerStaysUp) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  ToolsWorld w;
  ASSERT_TRUE(w.ok());
  const int calls = 1000;
  const std::string probe = escapes::BinDir() + "/probe-mediation_socket";
  auto started = std::chrono::steady_clock::now();
  RunOutput run = w.Run(Quote(probe) + " flood /usr/bin/git " + std::to_string(calls) + "; " +
                            Step("status-after", "git status --short"),
                        true, 180);
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "[ timing  ] " << calls << " concurrent calls: " << seconds << " s for the run\n";
  ASSERT_FALSE(run.timed_out) << run.out << run.err;
  std::string flood;
  std::istringstream lines(run.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("FLOOD ", 0) == 0) flood = line;
  }
  std::cout << "[ probe   ] " << flood << "\n";
  const std::string n = std::to_string(calls);
  EXPECT_THAT(flood, HasSubstr("calls=" + n + " allowed=" + n + " exited_zero=" + n +
                               " denied=0 unanswered=0"))
      << run.out << run.err;
  EXPECT_EQ(Sections(run.out)["status-after"].rc, 0) << run.out << run.err;
  std::vector<Json> records = w.Records();
  EXPECT_EQ(Calls(records, "allow", "git:git-local").size(), static_cast<std::size_t>(calls + 1));
  EXPECT_EQ(OfKind(records, "tool.exit").size(), static_cast<std::size_t>(calls + 1));
  EXPECT_EQ(records.back()["kind"], "run.end");
}

// ---- 4. The agent never holds the real program ------------------------------------------------

TEST(Tools, AfterAnAllowedCallTheAgentHoldsNoFdOfTheRealToolAndCannotReachTheSpawners) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  ToolsWorld w;
  ASSERT_TRUE(w.ok());
  const std::string probe = escapes::BinDir() + "/probe-mediation_socket";
  RunOutput run = w.Run(Quote(probe) +
                        " holds /usr/bin/git; ls /proc/self/fd >/dev/null && "
                        "echo LS-SELF-OK");
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;
  std::map<std::string, std::string> cases = Cases(run.out);
  EXPECT_EQ(cases["allowed"], "allow status=0") << run.out;
  EXPECT_THAT(run.out, HasSubstr("LS-SELF-OK"));
  // The probe's own fds: stdio, its /dev/null and cwd fds, the directory it lists.
  std::istringstream lines(run.out);
  int spawners = -1, listed = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("SELF fd ", 0) == 0) {
      ++listed;
      EXPECT_THAT(line, Not(HasSubstr("/usr/bin/git"))) << "the agent holds the tool: " << line;
      EXPECT_THAT(line, Not(HasSubstr("git-core"))) << "the agent holds the tool: " << line;
    } else if (line.rfind("SPAWNER ", 0) == 0) {
      std::cout << "[ inside  ] " << line << "\n";
      if (line.find("opendir-fd") != std::string::npos) {
        EXPECT_THAT(
            line, ::testing::AnyOf(HasSubstr("opendir-fd EACCES"), HasSubstr("opendir-fd EPERM")));
      } else if (line.find("opened=") != std::string::npos) {
        EXPECT_THAT(line, HasSubstr("opened=0 resolved=0"));
        EXPECT_THAT(line, Not(HasSubstr("errno=NONE"))) << "no fd was even tried";
      } else {
        EXPECT_THAT(line, ::testing::AnyOf(HasSubstr("mem EACCES"), HasSubstr("mem EPERM")));
      }
    } else if (line.rfind("SPAWNERS ", 0) == 0) {
      spawners = std::stoi(line.substr(9));
    }
  }
  EXPECT_GE(listed, 4) << "the probe could not list its own fds\n" << run.out;
  EXPECT_EQ(spawners, 1) << "the sandbox has one tool spawner\n" << run.out;
}

TEST(Tools, ARunningToolsProgramCannotBeTakenThroughProcPidExe) {
  TOLLGATE_SKIP_WITHOUT_NAMESPACES();
  const std::string probe = escapes::BinDir() + "/probe-mediation_procexe";
  const std::string shim = escapes::BinDir() + "/tollgate-shim";
  // Unmediated, the probe finds the git it started and pushes with its program: it works.
  ToolsWorld plain;
  ASSERT_TRUE(plain.ok());
  RunOutput control =
      plain.Run(Quote(probe) + " " + Quote(shim) + " " + Quote(plain.remote()) + " procexe", false);
  ASSERT_THAT(control.out, HasSubstr("RESULT procexe allowed"))
      << "the probe must work without mediation, or it proves nothing\n"
      << control.out << control.err;
  ASSERT_TRUE(RemoteHasBranch(plain.remote(), "procexe"));

  ToolsWorld w;
  ASSERT_TRUE(w.ok());
  RunOutput run =
      w.Run(Quote(probe) + " " + Quote(shim) + " " + Quote(w.remote()) + " procexe", true);
  std::cout << "[ inside  ] " << run.out;
  EXPECT_THAT(run.out, HasSubstr("RESULT procexe blocked"))
      << "ESCAPE: the real git was taken from a running tool's /proc/<pid>/exe\n"
      << run.out << run.err;
  EXPECT_FALSE(RemoteHasBranch(w.remote(), "procexe"));
  EXPECT_EQ(Calls(w.Records(), "allow", "git:git-local").size(), 1u)
      << "the probe's git log --stdin was allowed and ran";
}

}  // namespace
}  // namespace tollgate::e2e
