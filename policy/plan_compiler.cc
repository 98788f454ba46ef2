// Compiling a profile into plans. Everything here is a pure function of (profile, context,
// options); nothing looks at the disk, so the same inputs always give the same plan, and the
// kernel layer decides at launch only what depends on the disk (does a source exist, is it a
// symlink) — and reports it.
#include "policy/plan_compiler.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "policy/seccomp_plan.h"

namespace tollgate::policy {
namespace {

constexpr std::uint64_t kDefaultTmpSize = 1ull << 30;
constexpr std::uint64_t kDevSize = 64 * 1024;

// Host variables that never enter a sandbox unless a profile names them exactly in env.keep
// or sets them: they carry credentials or reach host services.
const std::vector<std::string> kDefaultEnvDrops = {"*TOKEN*",    "*SECRET*",     "*KEY*",
                                                   "*PASSWORD*", "*CREDENTIAL*", "SSH_AUTH_SOCK"};

int Depth(const std::string& path) {
  if (path == "/") return 0;
  return static_cast<int>(std::count(path.begin(), path.end(), '/'));
}

// True when `path` is `root` or lies below it.
bool IsWithin(const std::string& path, const std::string& root) {
  if (root == "/") return true;
  return path == root || (path.size() > root.size() && path.compare(0, root.size(), root) == 0 &&
                          path[root.size()] == '/');
}

std::string Describe(const SourceRef& where, const std::string& field) {
  std::string out = field;
  if (!where.file.empty()) out += " (" + where.ToString() + ")";
  return out;
}

// Case-insensitive glob with '*' only, as environment patterns are written.
bool GlobMatch(const std::string& pattern, const std::string& text) {
  size_t p = 0, t = 0, star = std::string::npos, mark = 0;
  // ASCII folding inline: what toupper does in the "C" locale tollgate runs in, without a libc
  // call per character (this runs for every host variable against every pattern).
  auto upper = [](char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; };
  auto eq = [&upper](char a, char b) { return upper(a) == upper(b); };
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
    } else if (p < pattern.size() && eq(pattern[p], text[t])) {
      ++p;
      ++t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

// A view operation (tmpfs or bind) before ordering.
struct ViewEntry {
  MountOp op;
  int priority;  // among ops at the same target: tmpfs (0) is laid before a bind (1) on top
};

class Compiler {
 public:
  Compiler(const Profile& profile, const PlanContext& context, const CompileOptions& options)
      : profile_(profile), context_(context), options_(options) {}

  CompileResult Run() {
    CompileResult result;
    SandboxPlan& plan = result.plan;
    plan.profile_name = profile_.name;
    plan.cwd = context_.workspace;
    if (context_.workspace.empty() || context_.workspace[0] != '/') {
      errors_.push_back("the workspace must be an absolute path, got \"" + context_.workspace +
                        "\"");
    }
    plan.mounts = CompileMounts();
    plan.seccomp = CompileSeccompPlan(profile_.syscalls);
    plan.landlock = CompileLandlock(plan.mounts);
    plan.limits = CompileLimits();
    plan.env = CompileEnv();
    plan.scope = std::move(scope_);
    plan.evidence = CompileEvidence();
    plan.network = CompileNetwork();
    if (plan.network.mode == NetworkMode::kProxy) AddProxyEnvironment(plan.env);
    for (const auto& [name, tool] : profile_.tools)
      plan.tools[name] = ExpandToolSpec(tool, context_);
    // Network none is a private namespace with only loopback: TCP there reaches nothing but the
    // sandbox's own listeners, which test suites need (a local HTTP server, a database).
    plan.landlock.deny_tcp = false;
    result.errors = std::move(errors_);
    return result;
  }

 private:
  std::string Expand(const PathEntry& entry, const char* field) {
    std::string path = ExpandPlaceholders(entry.path, context_);
    if (path.empty() || path[0] != '/') {
      errors_.push_back(Describe(entry.where, field) + ": \"" + entry.path +
                        "\" does not expand to an absolute path (is the placeholder's value set?)");
      return {};
    }
    return path;
  }

  MountPlan CompileMounts() {
    std::vector<ViewEntry> view;
    const FilesystemSpec& fs = profile_.filesystem;
    const std::uint64_t tmp_size = fs.tmp_size.value_or(kDefaultTmpSize);

    // The private tmp and home are tmpfs; binds below them are laid on top.
    view.push_back({MountOp{.kind = MountOpKind::kTmpfs,
                            .target = context_.tmp,
                            .writable = true,
                            .size = tmp_size,
                            .mode = 01777,
                            .why = "filesystem.tmp: private /tmp"},
                    0});
    if (fs.home.value_or(HomeMode::kEmpty) == HomeMode::kEmpty && !context_.home.empty() &&
        context_.home != "/") {
      view.push_back({MountOp{.kind = MountOpKind::kTmpfs,
                              .target = context_.home,
                              .writable = true,
                              .size = tmp_size,
                              .mode = 0700,
                              .why = "filesystem.home: private, empty home"},
                      0});
    }

    // Binds: one per target; write wins over read, exec is added where listed.
    std::map<std::string, MountOp> binds;
    auto add_bind = [&](const PathEntry& entry, const char* field, bool writable) {
      std::string target = Expand(entry, field);
      if (target.empty()) return;
      auto [it, inserted] = binds.try_emplace(target);
      MountOp& op = it->second;
      if (inserted) {
        op = MountOp{.kind = MountOpKind::kBind,
                     .source = target,
                     .target = target,
                     .optional = true,
                     .why = Describe(entry.where, field)};
      }
      if (writable && !op.writable) {
        op.writable = true;
        op.why = Describe(entry.where, field);
      }
    };
    for (const PathEntry& entry : fs.read) add_bind(entry, "filesystem.read", false);
    std::vector<std::pair<std::string, const PathEntry*>> scratch = ExpandScratch();
    if (options_.scope.empty()) {
      for (const PathEntry& entry : fs.write) add_bind(entry, "filesystem.write", true);
    } else {
      NarrowWrites(add_bind, scratch, binds);
    }
    // A socket is reached by connect(), which a read-only mount does not refuse.
    for (const PathEntry& entry : profile_.network.sockets)
      add_bind(entry, "network.sockets", false);
    if (!context_.git_common_dir.empty()) {
      // A worktree's repository lives outside it: make it readable so git works.
      add_bind(PathEntry{context_.git_common_dir, {}}, "git worktree: repository", false);
      if (!IsWithin(context_.git_dir, context_.git_common_dir) && !context_.git_dir.empty()) {
        add_bind(PathEntry{context_.git_dir, {}}, "git worktree: git dir", false);
      }
    }
    for (const PathEntry& entry : fs.exec) {
      std::string target = Expand(entry, "filesystem.exec");
      if (target.empty()) continue;
      auto it = binds.find(target);
      if (it != binds.end()) {
        it->second.exec = true;
        continue;
      }
      // An exec path below a bind gets its own bind, as writable as the tree around it.
      const MountOp* parent = nullptr;
      for (const auto& [path, op] : binds) {
        if (IsWithin(target, path) && (parent == nullptr || path.size() > parent->target.size())) {
          parent = &op;
        }
      }
      if (parent == nullptr) continue;  // not visible: nothing to execute
      MountOp op = *parent;
      op.source = op.target = target;
      op.exec = true;
      op.why = Describe(entry.where, "filesystem.exec");
      binds.emplace(target, op);
    }
    for (auto& [target, op] : binds) view.push_back({op, 1});
    PinAboveTheWorkspace(view);

    // /proc and a minimal /dev.
    auto add = [&](MountOp op, int priority = 1) { view.push_back({std::move(op), priority}); };
    add({.kind = MountOpKind::kProc, .target = "/proc", .why = "a procfs of the sandbox's own"}, 0);
    for (const char* path : {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"}) {
      add({.kind = MountOpKind::kReadOnly,
           .target = path,
           .optional = true,
           .why = "kernel tunables stay read-only"});
    }
    add({.kind = MountOpKind::kTmpfs,
         .target = "/dev",
         .writable = true,
         .size = kDevSize,
         .mode = 0755,
         .why = "a minimal /dev"},
        0);
    for (const char* node : {"null", "zero", "full", "random", "urandom", "tty"}) {
      std::string path = std::string("/dev/") + node;
      add({.kind = MountOpKind::kBind,
           .source = path,
           .target = path,
           .writable = true,
           .device = true,
           .optional = std::string(node) == "tty",
           .why = "a minimal /dev"});
    }
    add({.kind = MountOpKind::kDevpts, .target = "/dev/pts", .why = "private pseudo-terminals"});
    add({.kind = MountOpKind::kTmpfs,
         .target = "/dev/shm",
         .writable = true,
         .size = tmp_size,
         .mode = 01777,
         .why = "private shared memory"},
        0);
    const std::pair<const char*, const char*> links[] = {{"/dev/ptmx", "pts/ptmx"},
                                                         {"/dev/fd", "/proc/self/fd"},
                                                         {"/dev/stdin", "/proc/self/fd/0"},
                                                         {"/dev/stdout", "/proc/self/fd/1"},
                                                         {"/dev/stderr", "/proc/self/fd/2"}};
    for (const auto& [link, content] : links) {
      add({.kind = MountOpKind::kSymlink,
           .source = content,
           .target = link,
           .why = "a minimal /dev"});
    }
    if (!context_.workspace_alias.empty() && context_.workspace_alias != context_.workspace) {
      add({.kind = MountOpKind::kSymlink,
           .source = context_.workspace,
           .target = context_.workspace_alias,
           .why = "the workspace as it was named (a symlink)"});
    }

    // Parents before children; at one target, a tmpfs before what is laid on it.
    std::stable_sort(view.begin(), view.end(), [](const ViewEntry& a, const ViewEntry& b) {
      int da = Depth(a.op.target), db = Depth(b.op.target);
      if (da != db) return da < db;
      if (a.op.target != b.op.target) return a.op.target < b.op.target;
      return a.priority < b.priority;
    });

    MountPlan plan;
    for (ViewEntry& entry : view) plan.ops.push_back(std::move(entry.op));
    const std::vector<MountOp> layout = plan.ops;

    // Protected paths under a writable tree: pin the directories between the tree and the path
    // so they cannot be renamed away, then make the path read-only (or a read-only placeholder).
    std::set<std::string> pinned = workspace_pins_;  // never cloned again over the workspace
    std::set<std::string> protected_targets;
    for (const PathEntry& entry : fs.protect) {
      std::string target = Expand(entry, "filesystem.protect");
      if (target.empty()) continue;
      const MountOp* cover = Covering(layout, target);
      // Invisible, already read-only, or on the sandbox's own tmpfs (the private home, /tmp),
      // where nothing outlives the run.
      if (cover == nullptr || !cover->writable || cover->kind == MountOpKind::kTmpfs) continue;
      // Pin the directories between the writable tree and the path, outermost first.
      std::string dir = target.substr(0, target.rfind('/'));
      std::vector<std::string> between;
      for (; dir.size() > cover->target.size() && IsWithin(dir, cover->target);
           dir = dir.substr(0, dir.rfind('/'))) {
        between.push_back(dir);
      }
      for (auto it = between.rbegin(); it != between.rend(); ++it) {
        if (!pinned.insert(*it).second) continue;
        plan.ops.push_back({.kind = MountOpKind::kPin,
                            .source = *it,
                            .target = *it,
                            .writable = true,
                            .exec = cover->exec,
                            .why = "keeps " + target + " where it is"});
      }
      if (!protected_targets.insert(target).second) continue;  // listed twice
      // An absent path gets a read-only placeholder. In the workspace a directory, which git
      // shows in no status; elsewhere, a name with an extension (`~/.codex/config.toml`) a file,
      // because a program that finds a directory where its configuration file goes refuses to
      // start, where an empty file reads as no configuration.
      const std::string name = target.substr(target.rfind('/') + 1);
      const bool file =
          !IsWithin(target, context_.workspace) && name.find('.', 1) != std::string::npos;
      plan.ops.push_back({.kind = MountOpKind::kProtect,
                          .source = target,
                          .target = target,
                          .file = file,
                          .why = Describe(entry.where, "filesystem.protect")});
    }
    for (const PathEntry& entry : fs.hide) {
      std::string target = Expand(entry, "filesystem.hide");
      const MountOp* cover = target.empty() ? nullptr : Covering(layout, target);
      // Nothing to hide where nothing is shown. A tmpfs of the sandbox's own (the private home)
      // starts empty, so the op is skipped at launch; it stays in the plan all the same, so
      // that an access there (`cat ~/.ssh/id_rsa`) is judged and recorded as the profile means
      // it: hidden.
      if (cover == nullptr) continue;
      plan.ops.push_back({.kind = MountOpKind::kHide,
                          .target = target,
                          .why = Describe(entry.where, "filesystem.hide")});
    }
    // The audit log must never be in reach of the agent it records, whatever the profile binds.
    std::vector<std::string> privates = context_.supervisor_private;
    std::sort(privates.begin(), privates.end());
    for (std::size_t i = 0; i < privates.size(); ++i) {
      const std::string& path = privates[i];
      // One cover over a directory hides what is inside it too (and a mount point inside a
      // cover would not exist).
      bool inside_another = false;
      for (std::size_t j = 0; j < i; ++j)
        inside_another = inside_another || IsWithin(path, privates[j]);
      if (inside_another) continue;
      const MountOp* cover = Covering(layout, path);
      if (cover == nullptr || cover->kind == MountOpKind::kTmpfs) continue;
      plan.ops.push_back({.kind = MountOpKind::kHide,
                          .target = path,
                          .why = "the supervisor's own state (the audit log)"});
    }
    plan.ops.push_back({.kind = MountOpKind::kRootReadOnly,
                        .target = "/",
                        .why = "nothing but the listed paths is writable"});
    MarkWorkspaceSources(plan);
    return plan;
  }

  // A bind source strictly inside the workspace names a path in a tree the agent wrote in earlier
  // runs: any directory on the way may be a symlink it planted (node_modules -> /home/user). The
  // kernel layer opens such a source below the workspace without following a symlink (plans.h,
  // MountOp::beneath). The workspace itself, and host paths the profile names, resolve as
  // given. A workspace that is "/" holds every host path and marks none.
  void MarkWorkspaceSources(MountPlan& plan) const {
    const std::string& workspace = context_.workspace;
    if (workspace.empty() || workspace == "/") return;
    for (MountOp& op : plan.ops) {
      if (op.kind == MountOpKind::kBind && op.source != workspace &&
          IsWithin(op.source, workspace)) {
        op.beneath = workspace;
      }
    }
  }

  // filesystem.scratch, expanded: the paths inside the workspace, with their entries. A scratch
  // path that is the workspace or holds it would undo any narrowing: an error, scope or not.
  std::vector<std::pair<std::string, const PathEntry*>> ExpandScratch() {
    std::vector<std::pair<std::string, const PathEntry*>> out;
    const std::string& workspace = context_.workspace;
    for (const PathEntry& entry : profile_.filesystem.scratch) {
      std::string path = Expand(entry, "filesystem.scratch");
      if (path.empty()) continue;
      if (IsWithin(workspace, path)) {
        errors_.push_back(Describe(entry.where, "filesystem.scratch") + ": \"" + entry.path +
                          "\" holds the whole workspace; scratch paths name build and cache "
                          "folders inside it, such as \"{workspace}/build\"");
        continue;
      }
      // Outside the workspace a scope changes nothing: the write list alone decides there.
      if (IsWithin(path, workspace)) out.emplace_back(path, &entry);
    }
    return out;
  }

  static std::optional<std::string> ScopePathProblem(const std::string& path) {
    if (path.empty()) return "it is empty";
    if (path[0] == '/') return "it is absolute; scope paths are relative to the workspace";
    if (path.back() == '/') return "it ends in '/'";
    for (char c : path) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return "it holds a control character";
    }
    std::size_t start = 0;
    while (start <= path.size()) {
      std::size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      std::string_view segment = std::string_view(path).substr(start, end - start);
      if (segment.empty()) return "it has an empty segment ('//')";
      if (segment == "." || segment == "..") {
        return "it has a '" + std::string(segment) +
               "' segment; scope paths are written without them and stay inside the workspace";
      }
      start = end + 1;
    }
    return std::nullopt;
  }

  // A task's scope narrows the workspace's write access (CompileOptions::scope): the workspace
  // becomes read-only, and only the scope paths and the profile's scratch paths that the write
  // list made writable stay writable, each as a bind of its own. Entries outside the workspace
  // are untouched; an entry above it ({home}) stays writable around a read-only workspace.
  template <typename AddBind>
  void NarrowWrites(AddBind& add_bind,
                    const std::vector<std::pair<std::string, const PathEntry*>>& scratch,
                    std::map<std::string, MountOp>& binds) {
    const std::string& workspace = context_.workspace;
    ScopeNarrowing& out = scope_;
    auto in_workspace = [&](const std::string& relative) {
      return workspace == "/" ? "/" + relative : workspace + "/" + relative;
    };

    // The scope, checked (it is normalised by the caller; a bad path must not widen anything)
    // and without paths that lie inside another.
    std::set<std::string> given(options_.scope.begin(), options_.scope.end());
    std::vector<std::pair<std::string, std::string>> scope;  // absolute, as given
    for (const std::string& relative : given) {
      if (auto problem = ScopePathProblem(relative)) {
        errors_.push_back("scope path \"" + relative + "\" is not usable: " + *problem);
        continue;
      }
      out.scope.push_back(relative);
      std::string path = in_workspace(relative);
      bool inside_another = std::any_of(scope.begin(), scope.end(), [&](const auto& other) {
        return IsWithin(path, other.first);
      });
      if (!inside_another) scope.emplace_back(path, relative);
    }
    auto in_scope = [&](const std::string& path) {
      return std::any_of(scope.begin(), scope.end(),
                         [&](const auto& entry) { return IsWithin(path, entry.first); });
    };
    auto in_scratch = [&](const std::string& path) {
      return std::any_of(scratch.begin(), scratch.end(),
                         [&](const auto& entry) { return IsWithin(path, entry.first); });
    };
    std::vector<std::string> exec_paths;
    for (const PathEntry& entry : profile_.filesystem.exec) {
      exec_paths.push_back(ExpandPlaceholders(entry.path, context_));
    }
    auto executable = [&](const std::string& path) {
      return std::any_of(exec_paths.begin(), exec_paths.end(),
                         [&](const std::string& root) { return IsWithin(path, root); });
    };
    // A read-only bind where the write list had a writable one (or nothing, below a writable
    // parent): what was visible stays visible, and nothing under it is writable but what is
    // bound writable on top.
    auto read_only = [&](const std::string& target, const std::string& why, bool optional) {
      auto [it, inserted] = binds.try_emplace(target);
      if (!inserted) return;
      it->second = MountOp{.kind = MountOpKind::kBind,
                           .source = target,
                           .target = target,
                           .exec = executable(target),
                           .optional = optional,
                           .why = why};
    };

    std::vector<std::string> written;  // every write entry, expanded: what narrowing may keep
    std::string ancestor;              // the innermost write entry above the workspace
    std::string ancestor_entry;
    for (const PathEntry& entry : profile_.filesystem.write) {
      std::string path = Expand(entry, "filesystem.write");
      if (path.empty()) continue;
      written.push_back(path);
      const std::string field = Describe(entry.where, "filesystem.write");
      if (path != workspace && IsWithin(workspace, path)) {
        add_bind(entry, "filesystem.write", true);
        if (path.size() > ancestor.size()) {
          ancestor = path;
          ancestor_entry = field + " \"" + entry.path + "\"";
        }
      } else if (!IsWithin(path, workspace)) {
        add_bind(entry, "filesystem.write", true);
      } else if (path != workspace && (in_scope(path) || in_scratch(path))) {
        add_bind(entry, "filesystem.write", true);
        (in_scope(path) ? out.writable_by_scope : out.writable_by_scratch).push_back(path);
      } else {
        out.narrowed.push_back(path);
        read_only(path, field + ", narrowed to the task's scope: read-only outside it",
                  /*optional=*/path != workspace);
      }
    }
    if (!ancestor.empty()) {
      out.writable_ancestor = ancestor;
      read_only(workspace,
                "the task's scope: the workspace is read-only below " + ancestor_entry +
                    ", which stays writable",
                /*optional=*/false);
    }

    auto writable_before = [&](const std::string& path) {
      return std::any_of(written.begin(), written.end(),
                         [&](const std::string& root) { return IsWithin(path, root); });
    };
    auto make_writable = [&](const std::string& target, const std::string& why, bool optional) {
      auto [it, inserted] = binds.try_emplace(target);
      MountOp& op = it->second;
      if (inserted) {
        op = MountOp{
            .kind = MountOpKind::kBind, .source = target, .target = target, .optional = optional};
      }
      op.writable = true;
      op.exec = op.exec || executable(target);
      op.optional = op.optional && optional;
      op.why = why;
    };
    for (const auto& [path, relative] : scope) {
      if (!writable_before(path)) {
        out.not_writable.push_back(path);
        continue;
      }
      if (options_.scope_path_exists && !options_.scope_path_exists(path)) {
        std::size_t slash = relative.rfind('/');
        std::string instead = slash == std::string::npos
                                  ? std::string("name an existing directory")
                                  : "name its parent \"" + relative.substr(0, slash) + "\"";
        errors_.push_back("scope path \"" + relative + "\" does not exist (" + path +
                          "): create it before the run, or " + instead +
                          " as the scope; the task's work cannot land in a path that is not there");
        continue;
      }
      // Required: a scope bind that is skipped would leave the task's own paths read-only.
      make_writable(path, "the task's scope: " + relative, /*optional=*/false);
      out.writable_by_scope.push_back(path);
    }
    for (const auto& [path, entry] : scratch) {
      if (!writable_before(path) || in_scope(path)) continue;
      // Optional, as build folders are: one that does not exist yet is skipped.
      make_writable(path, Describe(entry->where, "filesystem.scratch"), /*optional=*/true);
      out.writable_by_scratch.push_back(path);
    }
    for (std::vector<std::string>* list :
         {&out.writable_by_scope, &out.writable_by_scratch, &out.not_writable, &out.narrowed}) {
      std::sort(list->begin(), list->end());
      list->erase(std::unique(list->begin(), list->end()), list->end());
    }
  }

  // Below a write entry that holds the workspace, the directories between that entry and the
  // read-only workspace are pinned so the workspace cannot be renamed aside and a writable
  // directory made in its place. The pins come before the workspace's bind (they are shallower):
  // a pin clones its tree, and a clone made later would carry the pin's flags onto it.
  void PinAboveTheWorkspace(std::vector<ViewEntry>& view) {
    const std::string& workspace = context_.workspace;
    if (scope_.writable_ancestor.empty() || workspace == "/") return;
    std::vector<MountOp> ops;
    for (const ViewEntry& entry : view) ops.push_back(entry.op);
    std::string parent = workspace.substr(0, std::max<std::size_t>(1, workspace.rfind('/')));
    const MountOp* cover = Covering(ops, parent);
    if (cover == nullptr || !cover->writable || cover->kind != MountOpKind::kBind) return;
    for (std::string dir = parent;
         dir.size() > cover->target.size() && IsWithin(dir, cover->target);
         dir = dir.substr(0, dir.rfind('/'))) {
      workspace_pins_.insert(dir);
      view.push_back({MountOp{.kind = MountOpKind::kPin,
                              .source = dir,
                              .target = dir,
                              .writable = true,
                              .exec = cover->exec,
                              .why = "keeps the workspace " + workspace + " where it is"},
                      1});
    }
  }

  // The innermost tmpfs or bind that makes `path` visible, or nullptr.
  static const MountOp* Covering(const std::vector<MountOp>& ops, const std::string& path) {
    const MountOp* best = nullptr;
    for (const MountOp& op : ops) {
      if (op.kind != MountOpKind::kBind && op.kind != MountOpKind::kTmpfs) continue;
      if (!IsWithin(path, op.target)) continue;
      if (best == nullptr || op.target.size() >= best->target.size()) best = &op;
    }
    return best;
  }

  LandlockPlan CompileLandlock(const MountPlan& mounts) {
    LandlockPlan plan;
    plan.mode = options_.landlock;
    std::map<std::string, LandlockRule> rules;
    for (const MountOp& op : mounts.ops) {
      std::uint32_t access = 0;
      switch (op.kind) {
        case MountOpKind::kBind:
        case MountOpKind::kTmpfs:
          access = kLandlockRead | (op.writable ? kLandlockWrite : 0u) |
                   (op.exec ? kLandlockExecute : 0u) | (op.device ? kLandlockDevice : 0u);
          break;
        case MountOpKind::kProc:
          access = kLandlockRead;
          break;
        case MountOpKind::kDevpts:
          access = kLandlockRead | kLandlockWrite | kLandlockDevice;
          break;
        default:
          continue;
      }
      LandlockRule& rule = rules[op.target];
      rule.path = op.target;
      rule.access |= access;
      if (rule.why.empty()) rule.why = op.why;
    }
    // Every directory of the view may be listed (`ls /` works): what is visible is already
    // decided by the mounts; file contents stay governed by the rules above.
    LandlockRule& root = rules["/"];
    root.path = "/";
    root.access |= kLandlockListDirectories;
    if (root.why.empty()) root.why = "directories of the view can be listed";
    for (auto& [path, rule] : rules) plan.rules.push_back(std::move(rule));
    return plan;
  }

  EvidencePlan CompileEvidence() const {
    EvidencePlan plan;
    for (const EvidencePattern& pattern : profile_.evidence.test_results)
      plan.test_results.push_back(pattern.glob);
    for (const EvidencePattern& pattern : profile_.evidence.artifacts)
      plan.artifacts.push_back(pattern.glob);
    return plan;
  }

  LimitsPlan CompileLimits() {
    LimitsPlan plan;
    plan.require_enforced = options_.require_limits;
    const LimitsSpec& spec = profile_.limits;
    auto add = [&](LimitKind kind, const std::optional<std::uint64_t>& value, const char* field) {
      if (value) plan.limits.push_back({kind, *value, std::string("limits.") + field});
    };
    add(LimitKind::kMemory, spec.memory, "memory");
    add(LimitKind::kProcesses, spec.processes, "processes");
    add(LimitKind::kCpuSeconds, spec.cpu_seconds, "cpu");
    add(LimitKind::kWallSeconds, spec.wall_seconds, "wall");
    add(LimitKind::kFileSize, spec.file_size, "file_size");
    add(LimitKind::kOpenFiles, spec.open_files, "open_files");
    plan.limits.push_back({LimitKind::kTmpfs,
                           profile_.filesystem.tmp_size.value_or(kDefaultTmpSize),
                           "filesystem.tmp (each of /tmp and /dev/shm)"});
    return plan;
  }

  EnvPlan CompileEnv() {
    EnvPlan plan;
    const EnvSpec& spec = profile_.env;
    std::vector<std::string> drops = kDefaultEnvDrops;
    drops.insert(drops.end(), spec.drop.begin(), spec.drop.end());
    std::map<std::string, std::string> vars;
    for (const auto& [name, value] : context_.host_env) {
      if (spec.set.count(name)) continue;  // replaced below
      bool named_exactly = std::find(spec.keep.begin(), spec.keep.end(), name) != spec.keep.end();
      auto drop = std::find_if(drops.begin(), drops.end(),
                               [&](const std::string& p) { return GlobMatch(p, name); });
      if (drop != drops.end() && !named_exactly) {
        plan.dropped.emplace_back(name, "matches the drop pattern " + *drop);
        continue;
      }
      bool kept = named_exactly || std::any_of(spec.keep.begin(), spec.keep.end(),
                                               [&](auto& p) { return GlobMatch(p, name); });
      if (!kept) {
        plan.dropped.emplace_back(name, "not kept by the profile");
        continue;
      }
      vars[name] = value;
    }
    for (const auto& [name, value] : spec.set) vars[name] = ExpandPlaceholders(value, context_);
    plan.vars.assign(vars.begin(), vars.end());
    return plan;
  }

  NetworkPlan CompileNetwork() {
    const NetworkSpec& spec = profile_.network;
    NetworkPlan plan;
    plan.mode = spec.mode.value_or(NetworkMode::kNone);
    plan.new_namespace = plan.mode != NetworkMode::kHost;
    if (plan.mode != NetworkMode::kProxy && (!spec.allow.empty() || !spec.deny.empty())) {
      // Rules that nothing enforces would read as a promise: refuse them.
      const HostRule& first = spec.allow.empty() ? spec.deny.front() : spec.allow.front();
      errors_.push_back(
          Describe(first.where, spec.allow.empty() ? "network.deny" : "network.allow") +
          ": host rules such as \"" + first.pattern.text +
          "\" need network mode \"proxy\" (mode \"" +
          (plan.mode == NetworkMode::kHost ? "host" : "none") +
          "\" does not filter by host); set \"mode\": \"proxy\" or remove them");
    }
    for (const HostRule& rule : spec.allow) plan.rules.allow.push_back(rule.pattern);
    for (const HostRule& rule : spec.deny) plan.rules.deny.push_back(rule.pattern);
    const ProxyLimitsSpec& limits = spec.limits;
    plan.limits.connections = limits.connections.value_or(plan.limits.connections);
    plan.limits.idle_seconds = limits.idle_seconds.value_or(plan.limits.idle_seconds);
    plan.limits.header_seconds = limits.header_seconds.value_or(plan.limits.header_seconds);
    plan.limits.header_bytes = limits.header_bytes.value_or(plan.limits.header_bytes);
    plan.limits.connect_seconds = limits.connect_seconds.value_or(plan.limits.connect_seconds);
    for (const PathEntry& entry : spec.sockets) {
      std::string path = Expand(entry, "network.sockets");
      if (!path.empty()) plan.sockets.push_back(path);
    }
    return plan;
  }

  // Every way the common clients look for a proxy, pointed at the supervisor's: curl, wget, git,
  // pip and most libraries read the http(s)_proxy pair (some only the lower-case form); npm and
  // yarn 1 read npm_config_*; yarn 2+ reads YARN_*; Node.js's own fetch reads them with
  // NODE_USE_ENV_PROXY. The sandbox's loopback is its own, so it is never proxied.
  static void AddProxyEnvironment(EnvPlan& env) {
    const std::string http = "http://127.0.0.1:" + std::to_string(kHttpProxyPort);
    const std::string socks = "socks5h://127.0.0.1:" + std::to_string(kSocksProxyPort);
    const std::string local = "localhost,127.0.0.1,::1";
    std::map<std::string, std::string> vars(env.vars.begin(), env.vars.end());
    for (const char* name :
         {"HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "npm_config_proxy",
          "npm_config_https_proxy", "YARN_HTTP_PROXY", "YARN_HTTPS_PROXY", "PIP_PROXY"})
      vars[name] = http;
    vars["ALL_PROXY"] = vars["all_proxy"] = socks;
    vars["NO_PROXY"] = vars["no_proxy"] = vars["npm_config_noproxy"] = local;
    vars["NODE_USE_ENV_PROXY"] = "1";
    env.vars.assign(vars.begin(), vars.end());
  }

  const Profile& profile_;
  const PlanContext& context_;
  const CompileOptions& options_;
  std::vector<std::string> errors_;
  ScopeNarrowing scope_;                  // filled by NarrowWrites
  std::set<std::string> workspace_pins_;  // filled by PinAboveTheWorkspace
};

}  // namespace

std::string ExpandPlaceholders(const std::string& text, const PlanContext& context) {
  const std::pair<const char*, const std::string*> table[] = {{"{workspace}", &context.workspace},
                                                              {"{home}", &context.home},
                                                              {"{tmp}", &context.tmp},
                                                              {"{cache}", &context.cache}};
  std::string out;
  for (size_t i = 0; i < text.size();) {
    bool replaced = false;
    for (const auto& [name, value] : table) {
      size_t n = std::char_traits<char>::length(name);
      if (text.compare(i, n, name) == 0) {
        out += *value;
        i += n;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += text[i++];
  }
  return out;
}

CompileResult CompilePlan(const Profile& profile, const PlanContext& context,
                          const CompileOptions& options) {
  return Compiler(profile, context, options).Run();
}

}  // namespace tollgate::policy
