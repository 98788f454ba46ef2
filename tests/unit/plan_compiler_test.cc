// The plan compiler: profile + context -> plans, without a kernel.
#include "policy/plan_compiler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "policy/explain.h"
#include "policy/file_decision.h"

namespace tollgate::policy {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::Not;
using ::testing::Pair;

PathEntry P(const std::string& path) {
  return PathEntry{path, {}};
}

PlanContext Context() {
  PlanContext context;
  context.workspace = "/tmp/ws";
  context.home = "/home/ann";
  context.cache = "/home/ann/.cache";
  context.host_env = {{"PATH", "/usr/bin:/bin"},
                      {"HOME", "/home/ann"},
                      {"GITHUB_TOKEN", "ghp_secret"},
                      {"aws_secret_access_key", "x"},
                      {"SSH_AUTH_SOCK", "/run/ssh.sock"},
                      {"LANG", "C.UTF-8"},
                      {"LC_ALL", "C"},
                      {"RANDOM_THING", "y"}};
  return context;
}

Profile WorkspaceWrite() {
  Profile profile;
  profile.name = "t";
  profile.filesystem.read = {P("/usr"), P("/etc")};
  profile.filesystem.exec = {P("/usr"), P("{workspace}")};
  profile.filesystem.write = {P("{workspace}")};
  profile.filesystem.protect = {P("{workspace}/.git/hooks"), P("{workspace}/.claude"),
                                P("/usr/share")};
  profile.filesystem.hide = {P("{workspace}/.env"), P("/srv/secret"), P("{home}/.ssh")};
  profile.filesystem.protect.push_back(P("{home}/.bashrc"));
  profile.env.keep = {"PATH", "HOME", "LANG", "LC_*"};
  profile.env.set = {{"TMPDIR", "{tmp}"}, {"CACHE", "{cache}/x"}};
  profile.limits.processes = 64;
  profile.limits.wall_seconds = 30;
  return profile;
}

const MountOp* Find(const MountPlan& plan, MountOpKind kind, const std::string& target) {
  for (const MountOp& op : plan.ops) {
    if (op.kind == kind && op.target == target) return &op;
  }
  return nullptr;
}

size_t IndexOf(const MountPlan& plan, MountOpKind kind, const std::string& target) {
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    if (plan.ops[i].kind == kind && plan.ops[i].target == target) return i;
  }
  return plan.ops.size();
}

TEST(PlanCompiler, ParentsAreMountedBeforeChildren) {
  CompileResult result = CompilePlan(WorkspaceWrite(), Context());
  ASSERT_TRUE(result.ok());
  const MountPlan& mounts = result.plan.mounts;
  // The workspace lives under /tmp, so the private /tmp tmpfs must come first or it would hide it.
  EXPECT_LT(IndexOf(mounts, MountOpKind::kTmpfs, "/tmp"),
            IndexOf(mounts, MountOpKind::kBind, "/tmp/ws"));
  EXPECT_LT(IndexOf(mounts, MountOpKind::kTmpfs, "/dev"),
            IndexOf(mounts, MountOpKind::kBind, "/dev/null"));
  EXPECT_LT(IndexOf(mounts, MountOpKind::kProc, "/proc"),
            IndexOf(mounts, MountOpKind::kReadOnly, "/proc/sys"));
  EXPECT_EQ(mounts.ops.back().kind, MountOpKind::kRootReadOnly);
}

TEST(PlanCompiler, WriteWinsOverReadAndExecIsOnlyWhereListed) {
  Profile profile = WorkspaceWrite();
  profile.filesystem.read.push_back(P("{workspace}"));
  CompileResult result = CompilePlan(profile, Context());
  const MountOp* ws = Find(result.plan.mounts, MountOpKind::kBind, "/tmp/ws");
  ASSERT_NE(ws, nullptr);
  EXPECT_TRUE(ws->writable);
  EXPECT_TRUE(ws->exec);
  const MountOp* etc = Find(result.plan.mounts, MountOpKind::kBind, "/etc");
  ASSERT_NE(etc, nullptr);
  EXPECT_FALSE(etc->writable);
  EXPECT_FALSE(etc->exec);
  const MountOp* tmp = Find(result.plan.mounts, MountOpKind::kTmpfs, "/tmp");
  ASSERT_NE(tmp, nullptr);
  EXPECT_FALSE(tmp->exec);
}

TEST(PlanCompiler, ExecBelowABindGetsItsOwnBindAsWritableAsItsTree) {
  Profile profile = WorkspaceWrite();
  profile.filesystem.exec = {P("{workspace}/build")};
  CompileResult result = CompilePlan(profile, Context());
  const MountOp* build = Find(result.plan.mounts, MountOpKind::kBind, "/tmp/ws/build");
  ASSERT_NE(build, nullptr);
  EXPECT_TRUE(build->exec);
  EXPECT_TRUE(build->writable);
  EXPECT_FALSE(Find(result.plan.mounts, MountOpKind::kBind, "/tmp/ws")->exec);
}

TEST(PlanCompiler, ProtectUnderAWritableTreePinsTheDirectoriesBetween) {
  CompileResult result = CompilePlan(WorkspaceWrite(), Context());
  const MountPlan& mounts = result.plan.mounts;
  size_t pin = IndexOf(mounts, MountOpKind::kPin, "/tmp/ws/.git");
  size_t hooks = IndexOf(mounts, MountOpKind::kProtect, "/tmp/ws/.git/hooks");
  ASSERT_LT(pin, mounts.ops.size());
  ASSERT_LT(hooks, mounts.ops.size());
  EXPECT_LT(pin, hooks);
  EXPECT_NE(Find(mounts, MountOpKind::kProtect, "/tmp/ws/.claude"), nullptr);
  // /usr is read-only already: nothing to do, and nothing is pinned there.
  EXPECT_EQ(Find(mounts, MountOpKind::kProtect, "/usr/share"), nullptr);
  EXPECT_EQ(Find(mounts, MountOpKind::kPin, "/tmp/ws"), nullptr);
}

// An absent protected path gets a placeholder: a file for a configuration file outside the
// workspace (a program finding a directory there refuses to start), a directory otherwise.
TEST(PlanCompiler, ProtectedConfigurationFilesOutsideTheWorkspaceGetFilePlaceholders) {
  Profile profile = WorkspaceWrite();
  profile.filesystem.write.push_back(P("{home}/.codex"));
  profile.filesystem.protect.push_back(P("{home}/.codex/config.toml"));
  profile.filesystem.protect.push_back(P("{home}/.codex/rules"));
  profile.filesystem.protect.push_back(P("{workspace}/.mcp.json"));
  CompileResult result = CompilePlan(profile, Context());
  ASSERT_TRUE(result.ok()) << result.errors[0];
  const MountOp* config =
      Find(result.plan.mounts, MountOpKind::kProtect, "/home/ann/.codex/config.toml");
  const MountOp* rules = Find(result.plan.mounts, MountOpKind::kProtect, "/home/ann/.codex/rules");
  const MountOp* mcp = Find(result.plan.mounts, MountOpKind::kProtect, "/tmp/ws/.mcp.json");
  ASSERT_NE(config, nullptr);
  ASSERT_NE(rules, nullptr);
  ASSERT_NE(mcp, nullptr);
  EXPECT_TRUE(config->file);
  EXPECT_FALSE(rules->file);
  EXPECT_FALSE(mcp->file) << "in the workspace a directory, which git status does not show";
}

TEST(PlanCompiler, HideOnlyWhatIsVisible) {
  CompileResult result = CompilePlan(WorkspaceWrite(), Context());
  EXPECT_NE(Find(result.plan.mounts, MountOpKind::kHide, "/tmp/ws/.env"), nullptr);
  EXPECT_EQ(Find(result.plan.mounts, MountOpKind::kHide, "/srv/secret"), nullptr);
  // The private home is an empty tmpfs: nothing to protect there. Its hides stay in the plan
  // (the launch skips them, nothing being there), so that the audit judges a read of
  // ~/.ssh/id_rsa as the profile means it: hidden, not an allowed read of the private home.
  EXPECT_EQ(Find(result.plan.mounts, MountOpKind::kProtect, "/home/ann/.bashrc"), nullptr);
  ASSERT_NE(Find(result.plan.mounts, MountOpKind::kHide, "/home/ann/.ssh"), nullptr);
  FileDecision key = DecideFileAccess(result.plan, "/home/ann/.ssh/id_rsa", FileAccess::kRead);
  EXPECT_FALSE(key.allowed);
  EXPECT_THAT(key.rule, ::testing::HasSubstr("filesystem.hide"));
  EXPECT_TRUE(DecideFileAccess(result.plan, "/home/ann/.cache/x", FileAccess::kWrite).allowed);
  // Hides and protections come after every bind, so no later bind can uncover them.
  size_t last_bind = 0;
  for (size_t i = 0; i < result.plan.mounts.ops.size(); ++i) {
    if (result.plan.mounts.ops[i].kind == MountOpKind::kBind) last_bind = i;
  }
  EXPECT_GT(IndexOf(result.plan.mounts, MountOpKind::kHide, "/tmp/ws/.env"), last_bind);
}

TEST(PlanCompiler, EnvironmentKeepsOnlyWhatTheProfileSaysAndDropsSecrets) {
  CompileResult result = CompilePlan(WorkspaceWrite(), Context());
  EXPECT_THAT(result.plan.env.vars,
              ElementsAre(Pair("CACHE", "/home/ann/.cache/x"), Pair("HOME", "/home/ann"),
                          Pair("LANG", "C.UTF-8"), Pair("LC_ALL", "C"),
                          Pair("PATH", "/usr/bin:/bin"), Pair("TMPDIR", "/tmp")));
  EXPECT_THAT(result.plan.env.dropped,
              Contains(Pair("GITHUB_TOKEN", "matches the drop pattern *TOKEN*")));
  // Drop patterns ignore case.
  EXPECT_THAT(result.plan.env.dropped,
              Contains(Pair("aws_secret_access_key", "matches the drop pattern *SECRET*")));
  EXPECT_THAT(result.plan.env.dropped,
              Contains(Pair("SSH_AUTH_SOCK", "matches the drop pattern SSH_AUTH_SOCK")));
  EXPECT_THAT(result.plan.env.dropped, Contains(Pair("RANDOM_THING", "not kept by the profile")));
}

TEST(PlanCompiler, AKeepThatNamesASecretExactlyLetsItThroughButAPatternDoesNot) {
  Profile profile = WorkspaceWrite();
  profile.env.keep.push_back("GITHUB_TOKEN");
  profile.env.keep.push_back("*SECRET*");
  CompileResult result = CompilePlan(profile, Context());
  EXPECT_THAT(result.plan.env.vars, Contains(Pair("GITHUB_TOKEN", "ghp_secret")));
  EXPECT_THAT(result.plan.env.vars, Not(Contains(Pair("aws_secret_access_key", "x"))));
}

TEST(PlanCompiler, LimitsAndNetwork) {
  CompileResult result = CompilePlan(WorkspaceWrite(), Context(), {.require_limits = true});
  EXPECT_EQ(result.plan.limits.Get(LimitKind::kProcesses), 64u);
  EXPECT_EQ(result.plan.limits.Get(LimitKind::kWallSeconds), 30u);
  EXPECT_EQ(result.plan.limits.Get(LimitKind::kMemory), std::nullopt);
  EXPECT_EQ(result.plan.limits.Get(LimitKind::kTmpfs), 1ull << 30);
  EXPECT_TRUE(result.plan.limits.require_enforced);
  EXPECT_EQ(result.plan.network.mode, NetworkMode::kNone);
  EXPECT_TRUE(result.plan.network.new_namespace);
  EXPECT_FALSE(result.plan.landlock.deny_tcp);  // the namespace isolates; local servers work

  Profile host = WorkspaceWrite();
  host.network.mode = NetworkMode::kHost;
  CompileResult shared = CompilePlan(host, Context());
  EXPECT_FALSE(shared.plan.network.new_namespace);
  EXPECT_FALSE(shared.plan.landlock.deny_tcp);
}

HostRule Rule(const std::string& text) {
  HostPatternResult parsed = ParseHostPattern(text);
  EXPECT_TRUE(parsed.pattern.has_value()) << text << ": " << parsed.error;
  return HostRule{parsed.pattern.value_or(HostPattern{}), {"/profiles/p.json", 0, 0}};
}

TEST(PlanCompiler, ProxyModeGetsAPrivateNamespaceRulesAndTheProxyEnvironment) {
  Profile profile = WorkspaceWrite();
  profile.network.mode = NetworkMode::kProxy;
  profile.network.allow = {Rule("registry.npmjs.org:443")};
  profile.network.deny = {Rule("10.0.0.0/8")};
  profile.network.limits.connections = 4;
  CompileResult result = CompilePlan(profile, Context());
  ASSERT_TRUE(result.ok()) << result.errors[0];
  const NetworkPlan& network = result.plan.network;
  EXPECT_EQ(network.mode, NetworkMode::kProxy);
  EXPECT_TRUE(network.new_namespace);
  ASSERT_EQ(network.rules.allow.size(), 1u);
  EXPECT_EQ(network.rules.allow[0].name, "registry.npmjs.org");
  ASSERT_EQ(network.rules.deny.size(), 1u);
  EXPECT_EQ(network.limits.connections, 4u);
  EXPECT_EQ(network.limits.header_bytes, ProxyLimits{}.header_bytes);
  const auto& vars = result.plan.env.vars;
  for (const char* name : {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy",
                           "npm_config_proxy", "npm_config_https_proxy", "YARN_HTTPS_PROXY"})
    EXPECT_THAT(vars, Contains(Pair(name, "http://127.0.0.1:3128"))) << name;
  EXPECT_THAT(vars, Contains(Pair("ALL_PROXY", "socks5h://127.0.0.1:1080")));
  EXPECT_THAT(vars, Contains(Pair("NO_PROXY", "localhost,127.0.0.1,::1")));
  // Mode none sets none of them.
  CompileResult none = CompilePlan(WorkspaceWrite(), Context());
  for (const auto& [name, value] : none.plan.env.vars) EXPECT_NE(name, "HTTP_PROXY");
}

TEST(PlanCompiler, HostRulesWithoutProxyModeAreAnError) {
  for (NetworkMode mode : {NetworkMode::kNone, NetworkMode::kHost}) {
    Profile profile = WorkspaceWrite();
    profile.network.mode = mode;
    profile.network.deny = {Rule("evil.test")};
    CompileResult result = CompilePlan(profile, Context());
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_THAT(result.errors[0], ::testing::HasSubstr("network.deny"));
    EXPECT_THAT(result.errors[0],
                ::testing::HasSubstr("\"evil.test\" need network mode \"proxy\""));
  }
}

TEST(PlanCompiler, NetworkSocketsAreReadOnlyBindsAtTheirOwnPath) {
  Profile profile = WorkspaceWrite();
  profile.network.sockets = {P("{home}/.ssh/agent.sock")};
  CompileResult result = CompilePlan(profile, Context());
  ASSERT_TRUE(result.ok()) << result.errors[0];
  EXPECT_THAT(result.plan.network.sockets, ElementsAre("/home/ann/.ssh/agent.sock"));
  auto op = std::find_if(result.plan.mounts.ops.begin(), result.plan.mounts.ops.end(),
                         [](const MountOp& o) { return o.target == "/home/ann/.ssh/agent.sock"; });
  ASSERT_NE(op, result.plan.mounts.ops.end());
  EXPECT_EQ(op->kind, MountOpKind::kBind);
  EXPECT_EQ(op->source, "/home/ann/.ssh/agent.sock");
  EXPECT_FALSE(op->writable);
}

TEST(PlanCompiler, ExplainShowsTheNetworkPlan) {
  Profile profile = WorkspaceWrite();
  profile.network.mode = NetworkMode::kProxy;
  profile.network.allow = {Rule("*.example.com:443")};
  profile.network.deny = {Rule("169.254.169.254")};
  CompileResult result = CompilePlan(profile, Context());
  ASSERT_TRUE(result.ok());
  std::string text = ExplainPlan(profile, result.plan);
  EXPECT_THAT(text, ::testing::HasSubstr("proxy: a private network namespace"));
  EXPECT_THAT(text, ::testing::HasSubstr("127.0.0.1:3128"));
  EXPECT_THAT(text, ::testing::HasSubstr(
                        "*.example.com:443  — any name under example.com (not example.com itself), "
                        "port 443"));
  EXPECT_THAT(text,
              ::testing::HasSubstr("169.254.169.254  — the address 169.254.169.254, any port"));
  nlohmann::json json = PlanToJson(result.plan);
  EXPECT_EQ(json["network"]["mode"], "proxy");
  EXPECT_EQ(json["network"]["allow"][0]["pattern"], "*.example.com:443");
  EXPECT_EQ(json["network"]["allow"][0]["ports"][0][0], 443);
  EXPECT_EQ(json["network"]["deny"][0]["pattern"], "169.254.169.254");
  EXPECT_EQ(json["network"]["socks_proxy"], "127.0.0.1:1080");
}

TEST(PlanCompiler, LandlockRulesFollowTheMounts) {
  CompileResult result = CompilePlan(WorkspaceWrite(), Context());
  auto rule = [&](const std::string& path) -> std::uint32_t {
    for (const LandlockRule& r : result.plan.landlock.rules) {
      if (r.path == path) return r.access;
    }
    return 0;
  };
  EXPECT_EQ(rule("/tmp/ws"), kLandlockRead | kLandlockWrite | kLandlockExecute);
  EXPECT_EQ(rule("/etc"), kLandlockRead);
  EXPECT_EQ(rule("/usr"), kLandlockRead | kLandlockExecute);
  EXPECT_EQ(rule("/tmp"), kLandlockRead | kLandlockWrite);
  EXPECT_EQ(rule("/srv/secret"), 0u);
  EXPECT_EQ(rule("/"), kLandlockListDirectories);
  EXPECT_TRUE(std::is_sorted(result.plan.landlock.rules.begin(), result.plan.landlock.rules.end(),
                             [](auto& a, auto& b) { return a.path < b.path; }));
}

TEST(PlanCompiler, AGitWorktreeSeesItsRepositoryReadOnly) {
  PlanContext context = Context();
  context.git_dir = "/src/main/.git/worktrees/ws";
  context.git_common_dir = "/src/main/.git";
  CompileResult result = CompilePlan(WorkspaceWrite(), context);
  const MountOp* repo = Find(result.plan.mounts, MountOpKind::kBind, "/src/main/.git");
  ASSERT_NE(repo, nullptr);
  EXPECT_FALSE(repo->writable);
  // The git dir lies inside the common dir: no second bind.
  EXPECT_EQ(Find(result.plan.mounts, MountOpKind::kBind, "/src/main/.git/worktrees/ws"), nullptr);
}

TEST(PlanCompiler, ASymlinkedWorkspaceIsMountedAtItsRealPathAndLinkedFromItsName) {
  PlanContext context = Context();
  context.workspace_alias = "/home/ann/link";
  CompileResult result = CompilePlan(WorkspaceWrite(), context);
  const MountOp* link = Find(result.plan.mounts, MountOpKind::kSymlink, "/home/ann/link");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->source, "/tmp/ws");
  // After the home tmpfs, on which it is created.
  EXPECT_GT(IndexOf(result.plan.mounts, MountOpKind::kSymlink, "/home/ann/link"),
            IndexOf(result.plan.mounts, MountOpKind::kTmpfs, "/home/ann"));
  EXPECT_EQ(result.plan.cwd, "/tmp/ws");
}

TEST(PlanCompiler, IsDeterministic) {
  CompileResult a = CompilePlan(WorkspaceWrite(), Context());
  CompileResult b = CompilePlan(WorkspaceWrite(), Context());
  EXPECT_EQ(PlanToJson(a.plan).dump(), PlanToJson(b.plan).dump());
  EXPECT_EQ(ExplainPlan(WorkspaceWrite(), a.plan), ExplainPlan(WorkspaceWrite(), b.plan));
}

TEST(PlanCompiler, APlaceholderWithoutAValueIsAnError) {
  PlanContext context = Context();
  context.cache.clear();
  Profile profile = WorkspaceWrite();
  profile.filesystem.write.push_back(P("{cache}"));
  CompileResult result = CompilePlan(profile, context);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.errors[0].find("{cache}"), std::string::npos);
}

TEST(Explain, NamesWhatIsHiddenProtectedAndDenied) {
  Profile profile = WorkspaceWrite();
  CompileResult result = CompilePlan(profile, Context());
  std::string text = ExplainPlan(profile, result.plan);
  EXPECT_NE(text.find("/tmp/ws/.git/hooks"), std::string::npos);
  EXPECT_NE(text.find("read-only, even if it does not exist yet"), std::string::npos);
  EXPECT_NE(text.find("hidden: empty and unreadable"), std::string::npos);
  EXPECT_NE(text.find("GITHUB_TOKEN: matches the drop pattern *TOKEN*"), std::string::npos);
  EXPECT_NE(text.find("none: a private network namespace"), std::string::npos);
  EXPECT_EQ(text.find("ghp_secret"), std::string::npos);
}

TEST(Explain, FormatsSizesAndDurations) {
  EXPECT_EQ(FormatBytes(1ull << 30), "1.0 GiB");
  EXPECT_EQ(FormatBytes(512), "512 B");
  EXPECT_EQ(FormatSeconds(5400), "1h30m");
  EXPECT_EQ(FormatSeconds(45), "45s");
}

}  // namespace
}  // namespace tollgate::policy

namespace tollgate::policy {
namespace {

TEST(PlanCompiler, TheSupervisorsStateIsHiddenWhereTheViewWouldShowIt) {
  PlanContext context = Context();
  context.workspace = "/home/ann";  // a workspace of the whole home: the state is inside it
  context.supervisor_private = {"/home/ann/.local/state/tollgate/audit",
                                "/home/ann/.local/state/tollgate", "/var/log/tollgate"};
  CompileResult result = CompilePlan(WorkspaceWrite(), context);
  ASSERT_TRUE(result.ok());
  std::vector<std::string> hidden;
  for (const MountOp& op : result.plan.mounts.ops) {
    if (op.kind == MountOpKind::kHide && op.why.find("supervisor") != std::string::npos)
      hidden.push_back(op.target);
  }
  // The state directory once (its audit log inside it needs no cover of its own); /var/log is
  // not in the view, so there is nothing to hide there.
  EXPECT_EQ(hidden, std::vector<std::string>{"/home/ann/.local/state/tollgate"});
}

}  // namespace
}  // namespace tollgate::policy

// --- a task's scope narrows the workspace ---

namespace tollgate::policy {
namespace {

using ::testing::HasSubstr;

Profile ScopedWorkspaceWrite() {
  Profile profile = WorkspaceWrite();
  profile.filesystem.protect.push_back(P("{workspace}/.git/config"));
  profile.filesystem.scratch = {P("{workspace}/.git"), P("{workspace}/build"),
                                P("{workspace}/node_modules"), P("{cache}/tool")};
  return profile;
}

CompileOptions Scope(std::vector<std::string> scope) {
  CompileOptions options;
  options.scope = std::move(scope);
  return options;
}

// Every bind target inside `root` that is writable, sorted.
std::vector<std::string> WritableBindsUnder(const MountPlan& plan, const std::string& root) {
  std::vector<std::string> out;
  for (const MountOp& op : plan.ops) {
    bool inside = op.target == root || op.target.starts_with(root + "/");
    if (inside && op.writable && (op.kind == MountOpKind::kBind || op.kind == MountOpKind::kTmpfs))
      out.push_back(op.target);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::uint32_t LandlockAccess(const LandlockPlan& plan, const std::string& path) {
  for (const LandlockRule& rule : plan.rules) {
    if (rule.path == path) return rule.access;
  }
  return 0;
}

TEST(PlanScope, OnlyTheScopeAndScratchPathsStayWritableInTheWorkspace) {
  CompileResult result = CompilePlan(ScopedWorkspaceWrite(), Context(), Scope({"docs", "src"}));
  ASSERT_TRUE(result.ok()) << result.errors[0];
  const MountPlan& mounts = result.plan.mounts;
  const MountOp* ws = Find(mounts, MountOpKind::kBind, "/tmp/ws");
  ASSERT_NE(ws, nullptr);
  EXPECT_FALSE(ws->writable);
  EXPECT_TRUE(ws->exec);  // exec entries are left as they are
  EXPECT_THAT(ws->why, HasSubstr("narrowed to the task's scope"));
  const MountOp* src = Find(mounts, MountOpKind::kBind, "/tmp/ws/src");
  ASSERT_NE(src, nullptr);
  EXPECT_TRUE(src->writable);
  EXPECT_TRUE(src->exec);
  EXPECT_FALSE(src->optional);  // the task's own paths are required
  EXPECT_EQ(src->why, "the task's scope: src");
  const MountOp* build = Find(mounts, MountOpKind::kBind, "/tmp/ws/build");
  ASSERT_NE(build, nullptr);
  EXPECT_TRUE(build->optional);  // build folders that do not exist yet are skipped
  EXPECT_THAT(build->why, HasSubstr("filesystem.scratch"));
  // Nothing else in the workspace is writable; the scratch path outside it changes nothing.
  EXPECT_THAT(WritableBindsUnder(mounts, "/tmp/ws"),
              ElementsAre("/tmp/ws/.git", "/tmp/ws/build", "/tmp/ws/docs", "/tmp/ws/node_modules",
                          "/tmp/ws/src"));
  EXPECT_EQ(Find(mounts, MountOpKind::kBind, "/home/ann/.cache/tool"), nullptr);
  // Binds of the scope come after the workspace's own, or they would be covered by it.
  EXPECT_LT(IndexOf(mounts, MountOpKind::kBind, "/tmp/ws"),
            IndexOf(mounts, MountOpKind::kBind, "/tmp/ws/src"));

  const ScopeNarrowing& scope = result.plan.scope;
  EXPECT_THAT(scope.scope, ElementsAre("docs", "src"));
  EXPECT_THAT(scope.writable_by_scope, ElementsAre("/tmp/ws/docs", "/tmp/ws/src"));
  EXPECT_THAT(scope.writable_by_scratch,
              ElementsAre("/tmp/ws/.git", "/tmp/ws/build", "/tmp/ws/node_modules"));
  EXPECT_THAT(scope.narrowed, ElementsAre("/tmp/ws"));
  EXPECT_TRUE(scope.not_writable.empty());
  EXPECT_TRUE(scope.writable_ancestor.empty());
}

TEST(PlanScope, LandlockIsNarrowedLikeTheMounts) {
  CompileResult result = CompilePlan(ScopedWorkspaceWrite(), Context(), Scope({"src"}));
  ASSERT_TRUE(result.ok()) << result.errors[0];
  const LandlockPlan& landlock = result.plan.landlock;
  EXPECT_EQ(LandlockAccess(landlock, "/tmp/ws"), kLandlockRead | kLandlockExecute);
  EXPECT_EQ(LandlockAccess(landlock, "/tmp/ws/src"),
            kLandlockRead | kLandlockWrite | kLandlockExecute);
  EXPECT_EQ(LandlockAccess(landlock, "/tmp/ws/.git"),
            kLandlockRead | kLandlockWrite | kLandlockExecute);
  // The rules that grant write in the workspace are exactly the writable binds.
  std::vector<std::string> writable;
  for (const LandlockRule& rule : landlock.rules) {
    if ((rule.access & kLandlockWrite) && rule.path.starts_with("/tmp/ws"))
      writable.push_back(rule.path);
  }
  EXPECT_EQ(writable, WritableBindsUnder(result.plan.mounts, "/tmp/ws"));
}

TEST(PlanScope, GitsProtectedChildrenStayReadOnlyAfterTheGitScratchBind) {
  CompileResult result = CompilePlan(ScopedWorkspaceWrite(), Context(), Scope({"src"}));
  ASSERT_TRUE(result.ok()) << result.errors[0];
  const MountPlan& mounts = result.plan.mounts;
  size_t git = IndexOf(mounts, MountOpKind::kBind, "/tmp/ws/.git");
  ASSERT_LT(git, mounts.ops.size());
  for (const char* path : {"/tmp/ws/.git/hooks", "/tmp/ws/.git/config"}) {
    size_t protect = IndexOf(mounts, MountOpKind::kProtect, path);
    ASSERT_LT(protect, mounts.ops.size()) << path;
    EXPECT_GT(protect, git) << path;
  }
  // .git is a mount point of its own now, so nothing needs pinning there.
  EXPECT_EQ(Find(mounts, MountOpKind::kPin, "/tmp/ws/.git"), nullptr);
  // A protected path in the read-only part needs nothing; inside the scope it is protected.
  EXPECT_EQ(Find(mounts, MountOpKind::kProtect, "/tmp/ws/.claude"), nullptr);
  CompileResult claude = CompilePlan(ScopedWorkspaceWrite(), Context(), Scope({".claude"}));
  ASSERT_TRUE(claude.ok()) << claude.errors[0];
  EXPECT_GT(IndexOf(claude.plan.mounts, MountOpKind::kProtect, "/tmp/ws/.claude"),
            IndexOf(claude.plan.mounts, MountOpKind::kBind, "/tmp/ws/.claude"));
  EXPECT_LT(IndexOf(claude.plan.mounts, MountOpKind::kProtect, "/tmp/ws/.claude"),
            claude.plan.mounts.ops.size());
}

TEST(PlanScope, AWritableParentOfTheWorkspaceStaysWritableAroundAReadOnlyWorkspace) {
  Profile profile = ScopedWorkspaceWrite();
  profile.filesystem.write = {P("{home}")};
  PlanContext context = Context();
  context.workspace = "/home/ann/src/proj";
  CompileResult result = CompilePlan(profile, context, Scope({"lib"}));
  ASSERT_TRUE(result.ok()) << result.errors[0];
  const MountPlan& mounts = result.plan.mounts;
  const MountOp* home = Find(mounts, MountOpKind::kBind, "/home/ann");
  ASSERT_NE(home, nullptr);
  EXPECT_TRUE(home->writable);
  const MountOp* ws = Find(mounts, MountOpKind::kBind, "/home/ann/src/proj");
  ASSERT_NE(ws, nullptr);
  EXPECT_FALSE(ws->writable);
  EXPECT_FALSE(ws->optional);
  EXPECT_TRUE(ws->exec);
  EXPECT_TRUE(Find(mounts, MountOpKind::kBind, "/home/ann/src/proj/lib")->writable);
  // The directory between is pinned once, before the workspace is mounted in it, with the flags
  // of the tree around it.
  size_t pin = IndexOf(mounts, MountOpKind::kPin, "/home/ann/src");
  ASSERT_LT(pin, mounts.ops.size());
  EXPECT_GT(pin, IndexOf(mounts, MountOpKind::kBind, "/home/ann"));
  EXPECT_LT(pin, IndexOf(mounts, MountOpKind::kBind, "/home/ann/src/proj"));
  EXPECT_FALSE(mounts.ops[pin].exec);
  EXPECT_EQ(std::count_if(mounts.ops.begin(), mounts.ops.end(),
                          [](const MountOp& op) {
                            return op.kind == MountOpKind::kPin && op.target == "/home/ann/src";
                          }),
            1);
  EXPECT_EQ(result.plan.scope.writable_ancestor, "/home/ann");
  EXPECT_THAT(WritableBindsUnder(mounts, "/home/ann/src/proj"),
              ElementsAre("/home/ann/src/proj/.git", "/home/ann/src/proj/build",
                          "/home/ann/src/proj/lib", "/home/ann/src/proj/node_modules"));
}

TEST(PlanScope, AScopePathThatDoesNotExistIsAnError) {
  CompileOptions options = Scope({"README.md", "src/new"});
  std::vector<std::string> asked;
  options.scope_path_exists = [&](const std::string& path) {
    asked.push_back(path);
    return false;
  };
  CompileResult result = CompilePlan(ScopedWorkspaceWrite(), Context(), options);
  ASSERT_EQ(result.errors.size(), 2u);
  EXPECT_THAT(result.errors[0],
              HasSubstr("scope path \"README.md\" does not exist (/tmp/ws/README.md)"));
  EXPECT_THAT(result.errors[0],
              HasSubstr("create it before the run, or name an existing directory"));
  EXPECT_THAT(result.errors[1], HasSubstr("scope path \"src/new\" does not exist"));
  EXPECT_THAT(result.errors[1], HasSubstr("name its parent \"src\" as the scope"));
  // Only scope paths are asked about: scratch paths that are absent are skipped at launch.
  EXPECT_THAT(asked, ElementsAre("/tmp/ws/README.md", "/tmp/ws/src/new"));
  // Even so, neither is writable.
  EXPECT_EQ(Find(result.plan.mounts, MountOpKind::kBind, "/tmp/ws/src/new"), nullptr);

  options.scope_path_exists = [](const std::string& path) { return path != "/tmp/ws/src/new"; };
  EXPECT_EQ(CompilePlan(ScopedWorkspaceWrite(), Context(), options).errors.size(), 1u);
}

TEST(PlanScope, ScopePathsAreCheckedAndNeverWiden) {
  for (const char* bad : {"../etc", "/etc", "a//b", "./a", "a/", ""}) {
    CompileResult result = CompilePlan(ScopedWorkspaceWrite(), Context(), Scope({bad, "src"}));
    ASSERT_EQ(result.errors.size(), 1u) << bad;
    EXPECT_THAT(result.errors[0], HasSubstr("scope path \"" + std::string(bad) + "\" is")) << bad;
    EXPECT_THAT(WritableBindsUnder(result.plan.mounts, "/tmp/ws"),
                ElementsAre("/tmp/ws/.git", "/tmp/ws/build", "/tmp/ws/node_modules", "/tmp/ws/src"))
        << bad;
    EXPECT_EQ(Find(result.plan.mounts, MountOpKind::kBind, "/etc")->writable, false) << bad;
  }
}

TEST(PlanScope, WhatTheProfileNeverWroteStaysReadOnly) {
  // A test-runner shape: the workspace read-only, build folders writable.
  Profile profile;
  profile.name = "runner";
  profile.filesystem.read = {P("/usr"), P("{workspace}")};
  profile.filesystem.write = {P("{workspace}/build"), P("{workspace}/out"),
                              P("{workspace}/src/gen")};
  profile.filesystem.scratch = {P("{workspace}/build")};
  CompileResult result = CompilePlan(profile, Context(), Scope({"src"}));
  ASSERT_TRUE(result.ok()) << result.errors[0];
  const MountPlan& mounts = result.plan.mounts;
  EXPECT_EQ(Find(mounts, MountOpKind::kBind, "/tmp/ws/src"), nullptr);
  // out is neither in the scope nor scratch: still visible, no longer writable.
  const MountOp* out = Find(mounts, MountOpKind::kBind, "/tmp/ws/out");
  ASSERT_NE(out, nullptr);
  EXPECT_FALSE(out->writable);
  EXPECT_THAT(WritableBindsUnder(mounts, "/tmp/ws"),
              ElementsAre("/tmp/ws/build", "/tmp/ws/src/gen"));
  const ScopeNarrowing& scope = result.plan.scope;
  EXPECT_THAT(scope.not_writable, ElementsAre("/tmp/ws/src"));
  EXPECT_THAT(scope.narrowed, ElementsAre("/tmp/ws/out"));
  EXPECT_THAT(scope.writable_by_scope, ElementsAre("/tmp/ws/src/gen"));
  EXPECT_THAT(scope.writable_by_scratch, ElementsAre("/tmp/ws/build"));
}

TEST(PlanScope, APathInsideAnotherScopePathGetsNoBindOfItsOwn) {
  CompileResult result =
      CompilePlan(ScopedWorkspaceWrite(), Context(), Scope({"src", "src/net", "build/docs"}));
  ASSERT_TRUE(result.ok()) << result.errors[0];
  EXPECT_EQ(Find(result.plan.mounts, MountOpKind::kBind, "/tmp/ws/src/net"), nullptr);
  EXPECT_THAT(result.plan.scope.writable_by_scope,
              ElementsAre("/tmp/ws/build/docs", "/tmp/ws/src"));
  EXPECT_THAT(result.plan.scope.scope, ElementsAre("build/docs", "src", "src/net"));
}

TEST(PlanScope, AScratchPathThatHoldsTheWorkspaceIsAnError) {
  Profile profile = ScopedWorkspaceWrite();
  profile.filesystem.scratch.push_back(P("{workspace}"));
  for (const CompileOptions& options : {CompileOptions{}, Scope({"src"})}) {
    CompileResult result = CompilePlan(profile, Context(), options);
    ASSERT_EQ(result.errors.size(), 1u);
    EXPECT_THAT(result.errors[0], HasSubstr("\"{workspace}\" holds the whole workspace"));
  }
}

TEST(PlanScope, WithoutAScopeScratchChangesNothing) {
  CompileResult plain = CompilePlan(WorkspaceWrite(), Context());
  CompileResult scratch = CompilePlan(ScopedWorkspaceWrite(), Context());
  ASSERT_TRUE(scratch.ok()) << scratch.errors[0];
  EXPECT_THAT(WritableBindsUnder(scratch.plan.mounts, "/tmp/ws"), ElementsAre("/tmp/ws"));
  EXPECT_TRUE(scratch.plan.scope.scope.empty());
  EXPECT_FALSE(PlanToJson(scratch.plan).contains("scope"));
  EXPECT_EQ(plain.plan.landlock.rules.size(), scratch.plan.landlock.rules.size());
}

TEST(PlanScope, IsDeterministicWhateverTheOrderOfTheScope) {
  CompileResult a = CompilePlan(ScopedWorkspaceWrite(), Context(), Scope({"src", "docs"}));
  CompileResult b = CompilePlan(ScopedWorkspaceWrite(), Context(), Scope({"docs", "src", "docs"}));
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(PlanToJson(a.plan).dump(), PlanToJson(b.plan).dump());
  EXPECT_EQ(ExplainPlan(ScopedWorkspaceWrite(), a.plan),
            ExplainPlan(ScopedWorkspaceWrite(), b.plan));
}

TEST(Explain, ShowsTheScopeNarrowingInWordsAndJson) {
  Profile profile = ScopedWorkspaceWrite();
  CompileResult result = CompilePlan(profile, Context(), Scope({"docs", "src"}));
  ASSERT_TRUE(result.ok()) << result.errors[0];
  std::string text = ExplainPlan(profile, result.plan);
  EXPECT_THAT(text, HasSubstr("Scope — the task names docs, src: in the workspace only these"));
  EXPECT_THAT(text, HasSubstr("  /tmp/ws/src  writable: in the task's scope\n"));
  EXPECT_THAT(text, HasSubstr("  /tmp/ws/.git  writable: scratch (filesystem.scratch"));
  EXPECT_THAT(text, HasSubstr("  /tmp/ws  narrowed: writable in the profile, read-only here\n"));
  nlohmann::json json = PlanToJson(result.plan);
  EXPECT_EQ(json["scope"]["paths"], nlohmann::json({"docs", "src"}));
  EXPECT_EQ(json["scope"]["writable_by_scope"], nlohmann::json({"/tmp/ws/docs", "/tmp/ws/src"}));
  EXPECT_EQ(json["scope"]["writable_by_scratch"][0], "/tmp/ws/.git");
  EXPECT_EQ(json["scope"]["narrowed"], nlohmann::json({"/tmp/ws"}));
}

TEST(Explain, ShowsTheEvidenceInWordsAndJson) {
  Profile profile = WorkspaceWrite();
  profile.evidence.test_results = {{"build/Testing/Temporary/LastTest.log", {}}, {"*.tap", {}}};
  profile.evidence.artifacts = {{"dist/*.tar.gz", {}}};
  CompileResult result = CompilePlan(profile, Context());
  ASSERT_TRUE(result.ok()) << result.errors[0];
  EXPECT_THAT(result.plan.evidence.test_results,
              ElementsAre("build/Testing/Temporary/LastTest.log", "*.tap"));
  std::string text = ExplainPlan(profile, result.plan);
  EXPECT_THAT(text, HasSubstr("evidence: test reports from build/Testing/Temporary/LastTest.log, "
                              "*.tap (parsed); artifacts dist/*.tar.gz (hashed)\n"));
  nlohmann::json json = PlanToJson(result.plan);
  EXPECT_EQ(json["evidence"]["test_results"][1], "*.tap");
  EXPECT_EQ(json["evidence"]["artifacts"], nlohmann::json({"dist/*.tar.gz"}));

  std::string none = ExplainPlan(WorkspaceWrite(), CompilePlan(WorkspaceWrite(), Context()).plan);
  EXPECT_THAT(none, HasSubstr("  evidence: none\n"));
}

}  // namespace
}  // namespace tollgate::policy

// --- bind sources inside the workspace: no symlink below it is followed ---

namespace tollgate::policy {
namespace {

// The `beneath` of every bind, by target.
std::map<std::string, std::string> BeneathByTarget(const MountPlan& plan) {
  std::map<std::string, std::string> out;
  for (const MountOp& op : plan.ops) {
    if (op.kind == MountOpKind::kBind) out[op.target] = op.beneath;
  }
  return out;
}

// A test-runner-like profile: the workspace readable, its build and cache folders writable (one
// executable, one below a directory an agent may have replaced), host paths around it.
Profile TestRunnerLike() {
  Profile profile;
  profile.name = "t";
  profile.filesystem.read = {P("/usr"), P("{workspace}"), P("{home}/.config/tool")};
  profile.filesystem.write = {P("{workspace}/build"), P("{workspace}/node_modules/.cache"),
                              P("{cache}/tool")};
  profile.filesystem.exec = {P("/usr"), P("{workspace}/build/bin")};
  profile.filesystem.scratch = {P("{workspace}/build"), P("{workspace}/node_modules/.cache")};
  return profile;
}

TEST(PlanBeneath, SourcesStrictlyInsideTheWorkspaceAreMarkedAndNoOthers) {
  CompileResult result = CompilePlan(TestRunnerLike(), Context());
  ASSERT_TRUE(result.ok()) << result.errors[0];
  std::map<std::string, std::string> beneath = BeneathByTarget(result.plan.mounts);
  // Write and exec entries under the workspace.
  EXPECT_EQ(beneath["/tmp/ws/build"], "/tmp/ws");
  EXPECT_EQ(beneath["/tmp/ws/build/bin"], "/tmp/ws");
  EXPECT_EQ(beneath["/tmp/ws/node_modules/.cache"], "/tmp/ws");
  // The workspace itself and host paths resolve as the supervisor names them.
  EXPECT_EQ(beneath.at("/tmp/ws"), "");
  EXPECT_EQ(beneath.at("/usr"), "");
  EXPECT_EQ(beneath.at("/home/ann/.config/tool"), "");
  EXPECT_EQ(beneath.at("/home/ann/.cache/tool"), "");
  EXPECT_EQ(beneath.at("/dev/null"), "");
  // A sibling whose name starts like the workspace is not inside it.
  Profile sibling = TestRunnerLike();
  sibling.filesystem.read.push_back(P("/tmp/ws2/data"));
  CompileResult other = CompilePlan(sibling, Context());
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(BeneathByTarget(other.plan.mounts).at("/tmp/ws2/data"), "");
  // Only binds carry it: protect, hide and pins resolve in the new root, refusing every symlink.
  for (const MountOp& op : result.plan.mounts.ops) {
    if (op.kind != MountOpKind::kBind) {
      EXPECT_EQ(op.beneath, "") << op.target;
    }
  }
}

TEST(PlanBeneath, ScopeAndScratchBindsAreMarked) {
  CompileResult result = CompilePlan(ScopedWorkspaceWrite(), Context(), Scope({"src/net"}));
  ASSERT_TRUE(result.ok()) << result.errors[0];
  std::map<std::string, std::string> beneath = BeneathByTarget(result.plan.mounts);
  const MountOp* scope = Find(result.plan.mounts, MountOpKind::kBind, "/tmp/ws/src/net");
  ASSERT_NE(scope, nullptr);
  EXPECT_FALSE(scope->optional);
  EXPECT_EQ(scope->beneath, "/tmp/ws");
  EXPECT_EQ(beneath["/tmp/ws/.git"], "/tmp/ws");
  EXPECT_EQ(beneath["/tmp/ws/build"], "/tmp/ws");
  EXPECT_EQ(beneath["/tmp/ws/node_modules"], "/tmp/ws");
  EXPECT_EQ(beneath.at("/tmp/ws"), "");  // the narrowed workspace itself
}

TEST(PlanBeneath, AWorkspaceInsideAWritableHomeMarksWhatIsInsideItOnly) {
  Profile profile = ScopedWorkspaceWrite();
  profile.filesystem.write = {P("{home}")};
  PlanContext context = Context();
  context.workspace = "/home/ann/src/proj";
  CompileResult result = CompilePlan(profile, context, Scope({"lib"}));
  ASSERT_TRUE(result.ok()) << result.errors[0];
  std::map<std::string, std::string> beneath = BeneathByTarget(result.plan.mounts);
  EXPECT_EQ(beneath.at("/home/ann"), "");
  EXPECT_EQ(beneath.at("/home/ann/src/proj"), "");
  EXPECT_EQ(beneath.at("/home/ann/src/proj/lib"), "/home/ann/src/proj");
  EXPECT_EQ(beneath.at("/home/ann/src/proj/.git"), "/home/ann/src/proj");
}

TEST(PlanBeneath, AWorkspaceThatIsTheRootMarksNothing) {
  PlanContext context = Context();
  context.workspace = "/";
  CompileResult result = CompilePlan(TestRunnerLike(), context);
  for (const MountOp& op : result.plan.mounts.ops) EXPECT_EQ(op.beneath, "") << op.target;
}

TEST(PlanBeneath, ExplainJsonShowsItDeterministically) {
  CompileResult a = CompilePlan(TestRunnerLike(), Context());
  CompileResult b = CompilePlan(TestRunnerLike(), Context());
  nlohmann::json json = PlanToJson(a.plan);
  EXPECT_EQ(json.dump(), PlanToJson(b.plan).dump());
  bool shown = false;
  for (const auto& mount : json["mounts"]) {
    if (mount["target"] == "/tmp/ws/node_modules/.cache") shown = mount["beneath"] == "/tmp/ws";
    if (mount["target"] == "/tmp/ws" || mount["target"] == "/usr") {
      EXPECT_FALSE(mount.contains("beneath")) << mount.dump();
    }
  }
  EXPECT_TRUE(shown) << json["mounts"].dump();
}

}  // namespace
}  // namespace tollgate::policy
