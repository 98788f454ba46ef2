// The plan compiler: profile + context -> plans, without a kernel.
#include "policy/plan_compiler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "policy/explain.h"

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

TEST(PlanCompiler, HideOnlyWhatIsVisible) {
  CompileResult result = CompilePlan(WorkspaceWrite(), Context());
  EXPECT_NE(Find(result.plan.mounts, MountOpKind::kHide, "/tmp/ws/.env"), nullptr);
  EXPECT_EQ(Find(result.plan.mounts, MountOpKind::kHide, "/srv/secret"), nullptr);
  // The private home is an empty tmpfs: there is nothing to hide, nothing to protect.
  EXPECT_EQ(Find(result.plan.mounts, MountOpKind::kHide, "/home/ann/.ssh"), nullptr);
  EXPECT_EQ(Find(result.plan.mounts, MountOpKind::kProtect, "/home/ann/.bashrc"), nullptr);
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
