#include "supervisor/kernel/mountns.h"
#include "supervisor/kernel/launch_trace.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <algorithm>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace tollgate::kernel {

namespace {

using policy::MountOp;
using policy::MountOpKind;

// Where the base tmpfs goes before the first pivot_root; any directory of the host will do, it
// is only covered inside our private mount namespace.
constexpr const char* kBaseMountpoint = "/tmp";
constexpr const char* kHiddenFile = "/hidden-file";  // in the base tmpfs, for kHide of files

// Whether the sandbox path `path` is `dir` or lies below it.
bool IsAtOrBelow(const std::string& path, const std::string& dir) {
  return path == dir || (path.rfind(dir, 0) == 0 && (dir == "/" || path[dir.size()] == '/'));
}

constexpr std::uint64_t kResolveInRoot =
    RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

int OpenAt2(int dirfd, const char* path, std::uint64_t flags, std::uint64_t resolve) {
  struct open_how how {};
  how.flags = flags;
  how.resolve = resolve;
  // With RESOLVE_IN_ROOT, a ".." on the way (a symlink such as ../lib/node_modules/…) fails with
  // EAGAIN when any mount or rename on the machine raced the walk: the kernel asks for a retry.
  for (int attempt = 0;; ++attempt) {
    int fd = static_cast<int>(::syscall(SYS_openat2, dirfd, path, &how, sizeof how));
    if (fd >= 0 || errno != EAGAIN || attempt == 100) return fd;
  }
}

// A fd that closes itself.
class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = other.fd_;
      other.fd_ = -1;
    }
    return *this;
  }
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int Release() { return std::exchange(fd_, -1); }
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

std::string Dirname(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  if (slash == std::string::npos || slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Basename(const std::string& path) {
  std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

unsigned BindAttributes(const MountOp& op) {
  unsigned attrs = MOUNT_ATTR_NOSUID;
  if (!op.writable) attrs |= MOUNT_ATTR_RDONLY;
  if (!op.device) attrs |= MOUNT_ATTR_NODEV;
  if (!op.exec) attrs |= MOUNT_ATTR_NOEXEC;
  return attrs;
}

Status EnterBase(MountBase* base) {
  // Nothing we mount may propagate back to the host; host unmounts still reach us (slave),
  // so the sandbox does not keep removable media busy.
  if (::mount(nullptr, "/", nullptr, MS_SLAVE | MS_REC, nullptr) != 0) {
    return Status::Fail("make / a slave mount", "/", errno);
  }
  if (::mount("tmpfs", kBaseMountpoint, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
    return Status::Fail("mount base tmpfs", kBaseMountpoint, errno);
  }
  if (::chdir(kBaseMountpoint) != 0) return Status::Fail("chdir", kBaseMountpoint, errno);
  if (::mkdir("newroot", 0755) != 0) return Status::Fail("mkdir", "newroot", errno);
  if (::mkdir("oldroot", 0755) != 0) return Status::Fail("mkdir", "oldroot", errno);
  if (::syscall(SYS_pivot_root, ".", "oldroot") != 0)
    return Status::Fail("pivot_root", "oldroot", errno);
  if (::chdir("/") != 0) return Status::Fail("chdir", "/", errno);
  if (::mount("tmpfs", "/newroot", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0) {
    return Status::Fail("mount new root tmpfs", "/newroot", errno);
  }
  base->newroot = ::open("/newroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (base->newroot < 0) return Status::Fail("open", "/newroot", errno);
  base->oldroot = ::open("/oldroot", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (base->oldroot < 0) return Status::Fail("open", "/oldroot", errno);
  return Status::Ok();
}

class MountBuilder {
 public:
  MountBuilder(const policy::MountPlan& plan, const MountBase& base, MountOutcome* outcome)
      : plan_(plan), outcome_(outcome), newroot_(base.newroot), oldroot_(base.oldroot) {}

  Status Build() {
    if (!newroot_.valid() || !oldroot_.valid())
      return Status::Fail("mount base", "/newroot", EBADF, "the base was not entered");
    for (std::size_t i = 0; i < plan_.ops.size(); ++i) {
      bool skipped = false;
      skip_reason_ = SkipReason::kNotThere;
      current_ = i;
      TOLLGATE_RETURN_IF_ERROR(Apply(plan_.ops[i], &skipped));
      if (skipped) {
        outcome_->skipped_ops.push_back(i);
        outcome_->skip_reasons.push_back(skip_reason_);
      }
    }
    LaunchTrace("mnt ops done");
    return PivotIntoNewRoot();
  }

 private:
  // ------------------------------------------------------------------ base and pivots

  Status PivotIntoNewRoot() {
    // The host's root is never opened again: drop the fds before it goes.
    oldroot_.Reset();
    newroot_.Reset();
    if (::chdir("/newroot") != 0) return Status::Fail("chdir", "/newroot", errno);
    // pivot_root(".", ".") stacks the base on top of the new root. The base still holds the
    // host's root at /oldroot, and a lazy unmount takes a mount and everything mounted below it:
    // one umount2 detaches the base and the host's whole tree (one RCU grace period, not two).
    if (::syscall(SYS_pivot_root, ".", ".") != 0)
      return Status::Fail("pivot_root", "/newroot", errno);
    if (::umount2(".", MNT_DETACH) != 0)
      return Status::Fail("detach the base and the old root", "/", errno);
    LaunchTrace("mnt old root detached");
    if (::chdir("/") != 0) return Status::Fail("chdir", "/", errno);
    return Status::Ok();
  }

  // ------------------------------------------------------------------ path helpers

  // The O_PATH fd of `path` inside the new root, refusing symlinks anywhere on the way.
  int OpenInNewRoot(const std::string& path, std::uint64_t extra_flags = 0) {
    return OpenAt2(newroot_.get(), path.c_str(), O_PATH | O_CLOEXEC | extra_flags, kResolveInRoot);
  }

  Status SymlinkRefused(const std::string& path) {
    return Status::Fail("resolve mount destination", path, ELOOP,
                        "a symlink at or above a mount destination is refused, not followed");
  }

  // An O_PATH fd of directory `path` in the new root, creating missing components (0755).
  Status EnsureDirectory(const std::string& path, Fd* out) {
    int fd = OpenInNewRoot(path, O_DIRECTORY);
    if (fd >= 0) {
      *out = Fd(fd);
      return Status::Ok();
    }
    if (errno == ELOOP) return SymlinkRefused(path);
    if (errno != ENOENT) return Status::Fail("open mountpoint parent", path, errno);
    return CreateDirectory(path, out);
  }

  // Like EnsureDirectory, for a `path` just found missing: straight to its parent.
  Status CreateDirectory(const std::string& path, Fd* out) {
    Fd parent;
    TOLLGATE_RETURN_IF_ERROR(EnsureDirectory(Dirname(path), &parent));
    std::string name = Basename(path);
    if (::mkdirat(parent.get(), name.c_str(), 0755) != 0 && errno != EEXIST) {
      return Status::Fail("create mountpoint directory", path, errno);
    }
    int fd = OpenAt2(parent.get(), name.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC,
                     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    if (fd < 0) return errno == ELOOP ? SymlinkRefused(path) : Status::Fail("open", path, errno);
    *out = Fd(fd);
    return Status::Ok();
  }

  // An O_PATH fd of the mount destination, creating it (a directory, or an empty file) and its
  // parents when missing.
  Status EnsureMountpoint(const std::string& path, bool directory, Fd* out) {
    int fd = OpenInNewRoot(path);
    if (fd >= 0) {
      *out = Fd(fd);
      return Status::Ok();
    }
    if (errno == ELOOP) return SymlinkRefused(path);
    if (errno != ENOENT) return Status::Fail("open mount destination", path, errno);
    if (directory) return CreateDirectory(path, out);
    Fd parent;
    TOLLGATE_RETURN_IF_ERROR(EnsureDirectory(Dirname(path), &parent));
    std::string name = Basename(path);
    int created = ::openat(parent.get(), name.c_str(),
                           O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (created >= 0) {
      // The file this call just made (O_EXCL): a mount destination as good as an O_PATH fd, and
      // no second lookup of the name.
      *out = Fd(created);
      return Status::Ok();
    }
    if (errno != EEXIST) return Status::Fail("create mountpoint file", path, errno);
    fd = OpenAt2(parent.get(), name.c_str(), O_PATH | O_CLOEXEC,
                 RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
    if (fd < 0) return errno == ELOOP ? SymlinkRefused(path) : Status::Fail("open", path, errno);
    *out = Fd(fd);
    return Status::Ok();
  }

  // ------------------------------------------------------------------ mount primitives

  // Clone the tree at `source_fd` (recursively), set `attrs` on all of it, and put it on `dest`.
  Status CloneOnto(int source_fd, unsigned attrs, int dest_fd, const char* step,
                   const std::string& path) {
    Fd tree(static_cast<int>(::open_tree(
        source_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE | AT_EMPTY_PATH)));
    if (!tree.valid()) return Status::Fail(std::string(step) + ": open_tree", path, errno);
    struct mount_attr attr {};
    attr.attr_set = attrs;
    if (::mount_setattr(tree.get(), "", AT_EMPTY_PATH | AT_RECURSIVE, &attr, sizeof attr) != 0) {
      return Status::Fail(std::string(step) + ": mount_setattr", path, errno);
    }
    if (::move_mount(tree.get(), "", dest_fd, "",
                     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
      return Status::Fail(std::string(step) + ": move_mount", path, errno);
    }
    return Status::Ok();
  }

  // A new file system instance of `type` configured by `options` (name, value; value null for a
  // flag), attached at `dest_fd`.
  Status MountNew(const char* type,
                  std::initializer_list<std::pair<const char*, const char*>> options,
                  unsigned attrs, int dest_fd, const std::string& path) {
    Fd fs(::fsopen(type, FSOPEN_CLOEXEC));
    if (!fs.valid()) return Status::Fail(std::string("fsopen ") + type, path, errno);
    for (const auto& [key, value] : options) {
      int rc = value ? ::fsconfig(fs.get(), FSCONFIG_SET_STRING, key, value, 0)
                     : ::fsconfig(fs.get(), FSCONFIG_SET_FLAG, key, nullptr, 0);
      if (rc != 0) return Status::Fail(std::string("fsconfig ") + type + " " + key, path, errno);
    }
    if (::fsconfig(fs.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
      return Status::Fail(std::string("create ") + type, path, errno);
    }
    Fd mnt(::fsmount(fs.get(), FSMOUNT_CLOEXEC, attrs));
    if (!mnt.valid()) return Status::Fail(std::string("fsmount ") + type, path, errno);
    if (::move_mount(mnt.get(), "", dest_fd, "",
                     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
      return Status::Fail(std::string("attach ") + type, path, errno);
    }
    return Status::Ok();
  }

  Status CreateSymlink(const std::string& content, const std::string& path) {
    Fd parent;
    TOLLGATE_RETURN_IF_ERROR(EnsureDirectory(Dirname(path), &parent));
    std::string name = Basename(path);
    if (::symlinkat(content.c_str(), parent.get(), name.c_str()) == 0) return Status::Ok();
    int err = errno;
    if (err == EEXIST) {  // the same link twice is fine (a plan may mirror a host link)
      char existing[4096];
      ssize_t n = ::readlinkat(parent.get(), name.c_str(), existing, sizeof existing - 1);
      if (n >= 0 && content == std::string(existing, static_cast<std::size_t>(n)))
        return Status::Ok();
    }
    return Status::Fail("create symlink", path, err);
  }

  // ------------------------------------------------------------------ ops

  Status Apply(const MountOp& op, bool* skipped) {
    switch (op.kind) {
      case MountOpKind::kTmpfs:
        return ApplyTmpfs(op);
      case MountOpKind::kBind:
        return ApplyBind(op, skipped);
      case MountOpKind::kProc: {
        Fd dest;
        TOLLGATE_RETURN_IF_ERROR(EnsureMountpoint(op.target, true, &dest));
        return MountNew("proc", {}, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
                        dest.get(), op.target);
      }
      case MountOpKind::kDevpts: {
        Fd dest;
        TOLLGATE_RETURN_IF_ERROR(EnsureMountpoint(op.target, true, &dest));
        return MountNew("devpts",
                        {{"newinstance", nullptr}, {"ptmxmode", "0666"}, {"mode", "0620"}},
                        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, dest.get(), op.target);
      }
      case MountOpKind::kSymlink:
        return CreateSymlink(op.source, op.target);
      case MountOpKind::kReadOnly:
        return ApplyReadOnly(op, skipped);
      case MountOpKind::kPin:
        return ApplyPin(op, skipped);
      case MountOpKind::kProtect:
        return ApplyProtect(op, skipped);
      case MountOpKind::kHide:
        return ApplyHide(op, skipped);
      case MountOpKind::kShim:
        return ApplyShim(op, skipped);
      case MountOpKind::kRootReadOnly: {
        struct mount_attr attr {};
        attr.attr_set = MOUNT_ATTR_RDONLY;
        if (::mount_setattr(newroot_.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) {
          return Status::Fail("make the new root read-only", "/", errno);
        }
        return Status::Ok();
      }
    }
    return Status::Fail("unknown mount op", op.target, EINVAL);
  }

  // Tmpfs is always writable (plans.h: "writable unless read_only", and MountOp has no
  // read_only); a read-only tmpfs is expressed as a later kReadOnly op.
  Status ApplyTmpfs(const MountOp& op) {
    Fd dest;
    TOLLGATE_RETURN_IF_ERROR(EnsureMountpoint(op.target, true, &dest));
    char mode[16];
    std::snprintf(mode, sizeof mode, "%o", op.mode & 07777);
    char size[32];
    if (op.size)
      std::snprintf(size, sizeof size, "%llu", static_cast<unsigned long long>(*op.size));
    unsigned attrs = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (op.exec ? 0 : MOUNT_ATTR_NOEXEC);
    if (op.size)
      return MountNew("tmpfs", {{"mode", mode}, {"size", size}}, attrs, dest.get(), op.target);
    return MountNew("tmpfs", {{"mode", mode}}, attrs, dest.get(), op.target);
  }

  Status ApplyBind(const MountOp& op, bool* skipped) {
    Fd source;
    int error = 0;
    if (!op.beneath.empty()) {
      TOLLGATE_RETURN_IF_ERROR(OpenSourceBeneath(op, &source, &error, skipped));
      if (*skipped) return Status::Ok();
    } else {
      // Resolve the host source inside /oldroot, so absolute symlinks on the host resolve
      // against the host root, and see the last component itself (O_NOFOLLOW).
      source = Fd(OpenAt2(oldroot_.get(), op.source.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC,
                          RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS));
      error = errno;
    }
    if (!source.valid()) {
      if ((error == ENOENT || error == ENOTDIR) && op.optional) {
        *skipped = true;
        return Status::Ok();
      }
      return Status::Fail("open bind source", op.source, error);
    }
    struct stat st {};
    if (::fstat(source.get(), &st) != 0) return Status::Fail("stat bind source", op.source, errno);
    if (S_ISLNK(st.st_mode)) {  // e.g. /bin -> usr/bin: mirror the link, do not bind its target
      char content[4096];
      ssize_t n = ::readlinkat(source.get(), "", content, sizeof content - 1);
      if (n < 0) return Status::Fail("read bind source link", op.source, errno);
      return CreateSymlink(std::string(content, static_cast<std::size_t>(n)), op.target);
    }
    Fd dest;
    TOLLGATE_RETURN_IF_ERROR(EnsureMountpoint(op.target, S_ISDIR(st.st_mode), &dest));
    return CloneOnto(source.get(), BindAttributes(op), dest.get(), "bind", op.target);
  }

  // The source of a bind that lies below `op.beneath` (the workspace): `beneath` is resolved as
  // the supervisor named it (inside the host root, like any host path), the rest below it with
  // no symlink followed, not even the last component. A workspace may hold mount points (a
  // volume, a tmpfs for build/): only the host can place them, never the sandbox, so crossing one
  // is allowed (no RESOLVE_NO_XDEV). On return, `source` is the fd (or invalid, with `error`
  // for the caller's missing-source handling), or `skipped` is set.
  Status OpenSourceBeneath(const MountOp& op, Fd* source, int* error, bool* skipped) {
    const std::string& root = op.beneath;
    if (root.empty() || root[0] != '/' || op.source.size() <= root.size() + 1 ||
        op.source.compare(0, root.size(), root) != 0 ||
        (root != "/" && op.source[root.size()] != '/')) {
      return Status::Fail("open bind source", op.source, EINVAL,
                          "the plan says it lies below " + root + ", and it does not");
    }
    const std::string rest = op.source.substr(root == "/" ? 1 : root.size() + 1);
    Fd base(OpenAt2(oldroot_.get(), root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC,
                    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS));
    if (!base.valid()) {
      // As for any source: the caller decides on ENOENT and ENOTDIR.
      *error = errno;
      if (*error == ENOENT || *error == ENOTDIR) return Status::Ok();
      return Status::Fail("open bind source: the directory above it", root, *error);
    }
    *source = Fd(OpenAt2(base.get(), rest.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC,
                         RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS));
    *error = errno;
    if (source->valid()) {
      // With O_PATH | O_NOFOLLOW a symlink as the last component comes back as itself.
      struct stat st {};
      if (::fstat(source->get(), &st) != 0)
        return Status::Fail("stat bind source", op.source, errno);
      if (!S_ISLNK(st.st_mode)) return Status::Ok();
      source->Reset();
      return SymlinkInWorkspace(op, op.source, skipped);
    }
    // ELOOP: a symlink on the way. EXDEV: an escape from below `beneath`, which only a symlink
    // can make (plan paths have no ".." component). Anything else goes to the caller.
    if (*error != ELOOP && *error != EXDEV) return Status::Ok();
    return SymlinkInWorkspace(op, FirstSymlinkBelow(base.get(), root, rest), skipped);
  }

  // An optional bind is skipped (and reported why); a required one fails the launch, naming the
  // link and what to do.
  Status SymlinkInWorkspace(const MountOp& op, const std::string& link, bool* skipped) {
    if (op.optional) {
      *skipped = true;
      skip_reason_ = SkipReason::kSymlinkInWorkspace;
      return Status::Ok();
    }
    // The words go in the path field: it is the part of a setup error that is not cut short.
    return Status::Fail(
        "bind",
        op.source + ": " + link + " is a symbolic link inside the workspace, and a bind " +
            (link == op.source ? "of it" : "below it") +
            " is not followed; replace the link with a directory, or name the real path",
        0);
  }

  // The first component of `rest` below `base` (the directory `root`) that is a symlink, as a
  // host path; the whole path when none is found (the tree changed since the walk failed).
  static std::string FirstSymlinkBelow(int base, const std::string& root, const std::string& rest) {
    std::string path = root == "/" ? "" : root;
    Fd dir(::fcntl(base, F_DUPFD_CLOEXEC, 0));
    std::size_t pos = 0;
    while (dir.valid() && pos < rest.size()) {
      std::size_t next = rest.find('/', pos);
      if (next == std::string::npos) next = rest.size();
      const std::string name = rest.substr(pos, next - pos);
      pos = next + 1;
      path += "/" + name;
      struct stat st {};
      if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) break;
      if (S_ISLNK(st.st_mode)) return path;
      dir = Fd(OpenAt2(dir.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
                       RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS));
    }
    return (root == "/" ? "" : root) + "/" + rest;
  }

  Status ApplyReadOnly(const MountOp& op, bool* skipped) {
    Fd target(OpenInNewRoot(op.target));
    if (!target.valid()) {
      if (errno == ELOOP) return SymlinkRefused(op.target);
      if (errno == ENOENT) {
        *skipped = true;
        return Status::Ok();
      }
      return Status::Fail("open read-only target", op.target, errno);
    }
    return CloneOnto(target.get(), MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV,
                     target.get(), "read-only rebind", op.target);
  }

  Status ApplyPin(const MountOp& op, bool* skipped) {
    Fd target(OpenInNewRoot(op.target, O_DIRECTORY));
    if (!target.valid()) {
      // Absent, a symlink, or not a directory: nothing to pin.
      *skipped = true;
      return Status::Ok();
    }
    return CloneOnto(target.get(), BindAttributes(op), target.get(), "pin", op.target);
  }

  Status ApplyProtect(const MountOp& op, bool* skipped) {
    const unsigned attrs =
        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    Fd target(OpenInNewRoot(op.target));
    if (target.valid()) return CloneOnto(target.get(), attrs, target.get(), "protect", op.target);
    if (errno == ELOOP) {
      return Status::Fail("protect", op.target, ELOOP,
                          "the protected path is (or passes through) a symlink");
    }
    if (errno != ENOENT && errno != ENOTDIR) return Status::Fail("protect: open", op.target, errno);
    // The plan protects paths in writable host trees only. When that tree's bind was skipped
    // (`{home}/.codex` on a machine that has none), the path lies on the sandbox's own tmpfs
    // instead, where nothing outlives the run: a read-only placeholder there would only take
    // the tree away from the program it was made writable for.
    if (CoveredByOwnTmpfs(op.target)) {
      skip_reason_ = SkipReason::kOnOwnTmpfs;
      *skipped = true;
      return Status::Ok();
    }

    // Find the first component that is missing. A component that exists but is not a
    // directory stops the path from being created too, as long as it cannot be replaced:
    // protect that file instead.
    std::string prefix;
    Fd parent(OpenInNewRoot("/", O_DIRECTORY));
    std::size_t pos = 1;
    while (pos <= op.target.size()) {
      std::size_t next = op.target.find('/', pos);
      if (next == std::string::npos) next = op.target.size();
      std::string name = op.target.substr(pos, next - pos);
      pos = next + 1;
      if (name.empty()) continue;
      prefix += "/" + name;
      Fd component(OpenInNewRoot(prefix));
      if (component.valid()) {
        struct stat st {};
        if (::fstat(component.get(), &st) != 0) return Status::Fail("protect: stat", prefix, errno);
        if (!S_ISDIR(st.st_mode))
          return CloneOnto(component.get(), attrs, component.get(), "protect", prefix);
        parent = std::move(component);
        continue;
      }
      if (errno == ELOOP) {
        return Status::Fail("protect", prefix, ELOOP,
                            "the protected path passes through a symlink");
      }
      if (errno != ENOENT) return Status::Fail("protect: open", prefix, errno);
      return CreatePlaceholder(parent.get(), name, prefix, prefix == op.target, op.file, attrs);
    }
    return Status::Fail("protect: no missing component", op.target, ENOENT);
  }

  // Whether the deepest bind or tmpfs applied so far that holds `path` is a tmpfs.
  bool CoveredByOwnTmpfs(const std::string& path) const {
    const std::vector<std::size_t>& skipped = outcome_->skipped_ops;
    const MountOp* best = nullptr;
    for (std::size_t i = 0; i < current_; ++i) {
      const MountOp& op = plan_.ops[i];
      if (op.kind != MountOpKind::kBind && op.kind != MountOpKind::kTmpfs) continue;
      if (std::find(skipped.begin(), skipped.end(), i) != skipped.end()) continue;
      const std::string& t = op.target;
      if (IsAtOrBelow(path, t) && (best == nullptr || t.size() >= best->target.size())) best = &op;
    }
    return best != nullptr && best->kind == MountOpKind::kTmpfs;
  }

  // The placeholder is an empty directory when it lies in a host tree (git and most tools ignore
  // an empty directory, so it appears in no `git status` or `git add -A`) or stands for a missing
  // parent directory; an empty file when it stands for the path itself on one of the sandbox's
  // own tmpfs (an empty ~/.gitconfig or ~/.bashrc reads as empty, a directory would not), or
  // where the plan asks for one (`file`: a configuration file outside the workspace).
  Status CreatePlaceholder(int parent_fd, const std::string& name, const std::string& path,
                           bool is_last_component, bool file, unsigned attrs) {
    const bool as_file = is_last_component && (file || HostPathForSandboxPath(plan_, path).empty());
    int made = as_file ? ::openat(parent_fd, name.c_str(),
                                  O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0444)
                       : ::mkdirat(parent_fd, name.c_str(), 0555);
    if (made < 0) {
      // A read-only parent already keeps the path from being created.
      if (errno == EROFS) return Status::Ok();
      return Status::Fail("protect: create placeholder", path, errno);
    }
    if (as_file) ::close(made);
    Fd placeholder(::openat(parent_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    if (!placeholder.valid()) return Status::Fail("protect: open placeholder", path, errno);
    struct stat st {};
    if (::fstat(placeholder.get(), &st) != 0)
      return Status::Fail("protect: stat placeholder", path, errno);
    outcome_->placeholders.push_back({path, st.st_dev, st.st_ino});
    return CloneOnto(placeholder.get(), attrs, placeholder.get(), "protect placeholder", path);
  }

  Status ApplyHide(const MountOp& op, bool* skipped) {
    Fd target(OpenInNewRoot(op.target));
    if (!target.valid()) {
      if (errno == ELOOP)
        return Status::Fail("hide", op.target, ELOOP, "the hidden path is a symlink");
      if (errno == ENOENT || errno == ENOTDIR) {
        *skipped = true;
        return Status::Ok();
      }
      return Status::Fail("hide: open", op.target, errno);
    }
    struct stat st {};
    if (::fstat(target.get(), &st) != 0) return Status::Fail("hide: stat", op.target, errno);
    const unsigned attrs =
        MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
    if (S_ISDIR(st.st_mode)) {
      return MountNew("tmpfs", {{"mode", "0"}, {"size", "4096"}, {"nr_inodes", "1"}}, attrs,
                      target.get(), op.target);
    }
    if (!hidden_file_.valid()) {
      hidden_file_ = Fd(::open(kHiddenFile, O_CREAT | O_EXCL | O_RDONLY | O_CLOEXEC, 0));
      if (!hidden_file_.valid()) return Status::Fail("hide: create empty file", kHiddenFile, errno);
    }
    return CloneOnto(hidden_file_.get(), attrs, target.get(), "hide", op.target);
  }

  // The real tool stays reachable only through the fd kept here (handed to the tool spawner,
  // never to the command); its path shows the shim. Opened with symlinks refused, like every
  // destination, so the fd is the file the plan named.
  Status ApplyShim(const MountOp& op, bool* skipped) {
    outcome_->shim_real_fds.push_back(-1);
    // The destination itself, never followed: a symlink (/usr/bin/npm) is covered as a link, so
    // the script it names stays readable at its own path for its interpreter, while every start
    // through the link reaches the shim.
    Fd dest(OpenAt2(newroot_.get(), op.target.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC,
                    kResolveInRoot));
    if (!dest.valid()) {
      if (errno == ENOENT || errno == ENOTDIR) {
        *skipped = true;
        return Status::Ok();
      }
      if (errno == ELOOP) return SymlinkRefused(op.target);
      return Status::Fail("shim: open destination", op.target, errno);
    }
    // The real program: what the path names, following a last symlink inside the new root.
    Fd real(OpenAt2(newroot_.get(), op.target.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY,
                    RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS));
    if (!real.valid()) {
      if (errno == ENOENT || errno == ENOTDIR) {
        *skipped = true;
        return Status::Ok();
      }
      return Status::Fail("shim: open the real tool", op.target, errno);
    }
    struct stat st {};
    if (::fstat(real.get(), &st) != 0) return Status::Fail("shim: stat", op.target, errno);
    if (!S_ISREG(st.st_mode))
      return Status::Fail("shim: the real tool is not a regular file", op.target, EINVAL);
    // One detached, read-only, nosuid mount of the shim, made at the first op; every op puts a
    // clone of it in place (two syscalls, not a lookup in the host tree and four).
    if (!shim_tree_.valid() || shim_source_ != op.source) {
      Fd shim(OpenAt2(oldroot_.get(), op.source.c_str(), O_PATH | O_CLOEXEC,
                      RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS));
      if (!shim.valid()) return Status::Fail("shim: open the shim", op.source, errno);
      shim_tree_ = Fd(static_cast<int>(
          ::open_tree(shim.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH)));
      if (!shim_tree_.valid()) return Status::Fail("shim: open_tree", op.source, errno);
      struct mount_attr attr {};
      attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
      if (::mount_setattr(shim_tree_.get(), "", AT_EMPTY_PATH, &attr, sizeof attr) != 0)
        return Status::Fail("shim: mount_setattr", op.source, errno);
      shim_source_ = op.source;
    }
    Fd clone(static_cast<int>(
        ::open_tree(shim_tree_.get(), "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH)));
    if (!clone.valid()) return Status::Fail("shim: clone", op.target, errno);
    if (::move_mount(clone.get(), "", dest.get(), "",
                     MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) != 0) {
      return Status::Fail("shim: move_mount", op.target, errno);
    }
    outcome_->shim_real_fds.back() = real.Release();
    return Status::Ok();
  }

  const policy::MountPlan& plan_;
  MountOutcome* outcome_;
  Fd newroot_;  // taken over from the MountBase
  Fd oldroot_;
  Fd hidden_file_;
  Fd shim_tree_;  // the detached shim mount kShim ops clone
  std::string shim_source_;
  SkipReason skip_reason_ = SkipReason::kNotThere;  // why the current op was skipped
  std::size_t current_ = 0;                         // the index of the op being applied
};

}  // namespace

const char* SkipReasonText(SkipReason reason) {
  switch (reason) {
    case SkipReason::kNotThere:
      return "not there at launch";
    case SkipReason::kSymlinkInWorkspace:
      return "a symbolic link inside the workspace, not followed";
    case SkipReason::kOnOwnTmpfs:
      return "its tree was not there at launch: it lies on the sandbox's own tmpfs";
  }
  return "skipped";
}

Status EnterMountBase(MountBase* base) {
  return EnterBase(base);
}

Status BuildMountNamespace(const policy::MountPlan& plan, const MountBase& base,
                           MountOutcome* outcome) {
  return MountBuilder(plan, base, outcome).Build();
}

std::string HostPathForSandboxPath(const policy::MountPlan& plan, const std::string& sandbox_path) {
  const MountOp* best = nullptr;
  for (const auto& op : plan.ops) {
    if (op.kind != MountOpKind::kBind) continue;
    const std::string& t = op.target;
    bool under = IsAtOrBelow(sandbox_path, t);
    // Later binds cover earlier ones at the same target, so >= keeps the last one.
    if (under && (!best || t.size() >= best->target.size())) best = &op;
  }
  if (!best) return {};
  // Something mounted after the bind at a deeper target (a tmpfs, say) hides the host path.
  for (const auto& op : plan.ops) {
    if (&op == best || op.kind == MountOpKind::kSymlink || op.kind == MountOpKind::kReadOnly ||
        op.kind == MountOpKind::kPin || op.kind == MountOpKind::kProtect ||
        op.kind == MountOpKind::kRootReadOnly) {
      continue;
    }
    if (op.target.size() > best->target.size() && sandbox_path.rfind(op.target, 0) == 0 &&
        (sandbox_path.size() == op.target.size() || sandbox_path[op.target.size()] == '/') &&
        &op > best) {
      return {};
    }
  }
  std::string rest = sandbox_path.substr(best->target == "/" ? 0 : best->target.size());
  return best->source + rest;
}

bool RemoveProtectPlaceholder(const std::string& host_path, dev_t device, ino_t inode) {
  if (host_path.empty() || host_path[0] != '/') return false;
  std::string dir = Dirname(host_path);
  std::string name = Basename(host_path);
  // The directory chain may have been changed by the sandbox: never follow a symlink in it.
  Fd parent(OpenAt2(AT_FDCWD, dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC,
                    RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS));
  if (!parent.valid()) return false;
  struct stat st {};
  if (::fstatat(parent.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  if (st.st_dev != device || st.st_ino != inode) return false;
  // rmdir removes only an empty directory: anything put there stays.
  if (S_ISDIR(st.st_mode)) return ::unlinkat(parent.get(), name.c_str(), AT_REMOVEDIR) == 0;
  if (!S_ISREG(st.st_mode) || st.st_size != 0) return false;
  return ::unlinkat(parent.get(), name.c_str(), 0) == 0;
}

}  // namespace tollgate::kernel
