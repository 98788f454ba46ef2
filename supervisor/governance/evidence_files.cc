#include "supervisor/governance/evidence_files.h"

// The low-level SHA-256 of libcrypto, not EVP (as in supervisor/audit/record.cc): EVP loads
// providers and reads openssl.cnf, nothing a digest needs.
#define OPENSSL_SUPPRESS_DEPRECATED

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <nettle/sha2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <exception>
#include <map>
#include <set>
#include <utility>

#ifndef RESOLVE_NO_XDEV
#define RESOLVE_NO_XDEV 0x01
#endif
#ifndef RESOLVE_NO_MAGICLINKS
#define RESOLVE_NO_MAGICLINKS 0x02
#endif
#ifndef RESOLVE_NO_SYMLINKS
#define RESOLVE_NO_SYMLINKS 0x04
#endif
#ifndef RESOLVE_BENEATH
#define RESOLVE_BENEATH 0x08
#endif

namespace tollgate::governance {

namespace {

constexpr std::uint64_t kResolve =
    RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV;

constexpr std::size_t kMaxPatternBytes = 4096;
constexpr std::size_t kMaxPatternSegments = 64;
constexpr std::size_t kReadChunk = 64 * 1024;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      Reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { Reset(); }
  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }

 private:
  void Reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  int fd_;
};

// openat2(2) of one name beneath `dir_fd`; -1 with errno on failure.
int OpenBeneath(int dir_fd, const char* name, std::uint64_t flags) {
  struct open_how how;
  std::memset(&how, 0, sizeof how);
  how.flags = flags;
  how.resolve = kResolve;
  long fd = -1;
  do {
    fd = ::syscall(SYS_openat2, dir_fd, name, &how, sizeof how);
  } while (fd < 0 && errno == EINTR);
  return static_cast<int>(fd);
}

// strerrordesc_np, unlike strerror, is thread-safe.
std::string ErrnoText(int error) {
  const char* text = ::strerrordesc_np(error);
  return text != nullptr ? text : "error " + std::to_string(error);
}

const char* FileKind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  if (S_ISLNK(mode)) return "a symbolic link";
  return "not a regular file";
}

const char* DirentKind(unsigned char type) {
  switch (type) {
    case DT_DIR:
      return "a directory";
    case DT_FIFO:
      return "a FIFO";
    case DT_SOCK:
      return "a socket";
    case DT_CHR:
    case DT_BLK:
      return "a device";
    default:
      return "not a regular file";
  }
}

constexpr const char* kSymlinkReason = "symbolic link, not followed";
constexpr const char* kMountReason = "a mount point (another file system), not entered";

struct Segment {
  std::string text;
  bool globstar = false;  // the whole segment is "**"
  bool literal = false;   // no glob character: opened by name, not listed
};
using Pattern = std::vector<Segment>;

bool IsLiteral(std::string_view segment) {
  return segment.find_first_of("*?[\\") == std::string_view::npos;
}

// Splits a checked pattern, with consecutive "**" collapsed and a trailing "**" as "**/*".
Pattern SplitPattern(std::string_view pattern) {
  Pattern segments;
  while (true) {
    std::size_t slash = pattern.find('/');
    std::string_view text = pattern.substr(0, slash);
    Segment segment{std::string(text), text == "**", IsLiteral(text)};
    if (!(segment.globstar && !segments.empty() && segments.back().globstar)) {
      segments.push_back(std::move(segment));
    }
    if (slash == std::string_view::npos) break;
    pattern.remove_prefix(slash + 1);
  }
  if (segments.back().globstar) segments.push_back({"*", false, false});
  return segments;
}

struct Entry {
  std::string name;
  unsigned char type = DT_UNKNOWN;
};

class Walker {
 public:
  explicit Walker(const EvidenceOptions& options) : options_(options), limits_(options.limits) {}

  void Walk(int root_fd, const Pattern& pattern) {
    if (!stopped_) Match(root_fd, "", pattern, 0, 0);
  }

  EvidenceScan Take() {
    EvidenceScan scan;
    for (auto& [path, file] : files_) scan.files.push_back(std::move(file));
    for (auto& [path, file] : stale_) scan.stale.push_back(std::move(file));
    for (const auto& [path, reason] : skipped_) scan.skipped.push_back({path, reason});
    scan.bounds = bounds_;
    return scan;
  }

 private:
  static std::string Join(const std::string& dir, const std::string& name) {
    return dir.empty() ? name : dir + "/" + name;
  }

  void Skip(const std::string& path, std::string reason) {
    if (skipped_.size() >= limits_.max_matches) {
      bounds_.matches = true;
      stopped_ = true;
      return;
    }
    skipped_.emplace(path, std::move(reason));
  }

  // The entries of a directory, sorted by name, counted against max_entries.
  bool List(int dir_fd, std::vector<Entry>* entries) {
    int copy = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) return false;
    DIR* dir = ::fdopendir(copy);
    if (dir == nullptr) {
      ::close(copy);
      return false;
    }
    ::rewinddir(dir);  // the copy shares its offset with `dir_fd`, which may have been listed
    while (true) {
      errno = 0;
      struct dirent* entry = ::readdir(dir);
      if (entry == nullptr) break;
      std::string_view name = entry->d_name;
      if (name == "." || name == "..") continue;
      if (entries_read_ >= limits_.max_entries) {
        bounds_.entries = true;
        stopped_ = true;
        break;
      }
      ++entries_read_;
      entries->push_back({std::string(name), entry->d_type});
    }
    ::closedir(dir);
    std::sort(entries->begin(), entries->end(),
              [](const Entry& a, const Entry& b) { return a.name < b.name; });
    return true;
  }

  // Opens the directory `name` of `dir_fd` at `depth` below the workspace. An invalid Fd when
  // it is not one; `report` says whether a reason to skip it goes to `skipped`.
  Fd EnterDirectory(int dir_fd, const std::string& name, const std::string& path, int depth,
                    bool report) {
    if (depth > limits_.max_depth) {
      bounds_.depth = true;
      return Fd();
    }
    Fd fd(OpenBeneath(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd.valid()) return fd;
    int error = errno;
    if (!report || error == ENOENT || error == ENOTDIR) return fd;
    if (error == ELOOP) {
      Skip(path, kSymlinkReason);
    } else if (error == EXDEV) {
      Skip(path, kMountReason);
    } else {
      Skip(path, "cannot open the directory: " + ErrnoText(error));
    }
    return fd;
  }

  // Matches pattern[index...] in the directory `dir_fd`. `listed`, when given, is its listing,
  // already made (and counted) by a `**` before this segment.
  void Match(int dir_fd, const std::string& dir_path, const Pattern& pattern, std::size_t index,
             int depth, const std::vector<Entry>* listed = nullptr) {
    if (stopped_) return;
    const Segment& segment = pattern[index];
    bool last = index + 1 == pattern.size();
    if (segment.globstar) {
      std::vector<Entry> entries;
      if (!List(dir_fd, &entries)) return;
      Match(dir_fd, dir_path, pattern, index + 1, depth, &entries);  // zero directories
      for (const Entry& entry : entries) {
        if (stopped_) return;
        if (entry.name == ".git") continue;
        if (entry.type != DT_DIR && entry.type != DT_UNKNOWN) continue;
        std::string path = Join(dir_path, entry.name);
        if (entry.type == DT_UNKNOWN && !IsDirectoryEntry(dir_fd, entry.name)) continue;
        Fd sub = EnterDirectory(dir_fd, entry.name, path, depth + 1, /*report=*/true);
        if (sub.valid()) Match(sub.get(), path, pattern, index, depth + 1);
      }
      return;
    }
    if (segment.literal) {
      std::string path = Join(dir_path, segment.text);
      if (last) {
        ConsiderFile(dir_fd, segment.text, path, DT_UNKNOWN);
      } else {
        Fd sub = EnterDirectory(dir_fd, segment.text, path, depth + 1, /*report=*/true);
        if (sub.valid()) Match(sub.get(), path, pattern, index + 1, depth + 1);
      }
      return;
    }
    std::vector<Entry> own_listing;
    if (listed == nullptr) {
      if (!List(dir_fd, &own_listing)) return;
      listed = &own_listing;
    }
    for (const Entry& entry : *listed) {
      if (stopped_) return;
      if (::fnmatch(segment.text.c_str(), entry.name.c_str(), FNM_PERIOD) != 0) continue;
      std::string path = Join(dir_path, entry.name);
      if (last) {
        ConsiderFile(dir_fd, entry.name, path, entry.type);
      } else if (entry.type == DT_LNK) {
        Skip(path, kSymlinkReason);
      } else if (entry.type == DT_DIR || entry.type == DT_UNKNOWN) {
        Fd sub = EnterDirectory(dir_fd, entry.name, path, depth + 1, /*report=*/true);
        if (sub.valid()) Match(sub.get(), path, pattern, index + 1, depth + 1);
      }
    }
  }

  // For a file system that does not fill in d_type; a symlink is not a directory here.
  static bool IsDirectoryEntry(int dir_fd, const std::string& name) {
    struct stat st;
    return ::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
  }

  void ConsiderFile(int dir_fd, const std::string& name, const std::string& path,
                    unsigned char type) {
    if (type == DT_LNK) return Skip(path, kSymlinkReason);
    if (type != DT_REG && type != DT_UNKNOWN) {
      return Skip(path, std::string(DirentKind(type)) + ", not a regular file");
    }
    if (type == DT_UNKNOWN) {
      // Not opened until known to be a regular file: a device is never opened at all.
      struct stat st;
      if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT && errno != ENOTDIR) {
          Skip(path, "cannot stat: " + ErrnoText(errno));
        }
        return;
      }
      if (S_ISLNK(st.st_mode)) return Skip(path, kSymlinkReason);
      if (!S_ISREG(st.st_mode)) {
        return Skip(path, std::string(FileKind(st.st_mode)) + ", not a regular file");
      }
    }
    if (files_.count(path) != 0 || stale_.count(path) != 0) return;  // matched by another pattern
    if (files_.size() + stale_.size() >= limits_.max_matches) {
      bounds_.matches = true;
      stopped_ = true;
      return;
    }
    Fd fd(OpenBeneath(dir_fd, name.c_str(),
                      O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid()) {
      int error = errno;
      if (error == ENOENT) return;  // gone since the listing
      if (error == ELOOP) return Skip(path, kSymlinkReason);
      if (error == EXDEV) return Skip(path, "a mount point (another file system), not read");
      return Skip(path, "cannot open: " + ErrnoText(error));
    }
    // What was opened, which is not necessarily what was listed.
    struct stat st;
    if (::fstat(fd.get(), &st) != 0) return Skip(path, "cannot stat: " + ErrnoText(errno));
    if (!S_ISREG(st.st_mode)) {
      return Skip(path, std::string(FileKind(st.st_mode)) + ", not a regular file");
    }
    EvidenceFile file;
    file.path = path;
    file.mtime_ns = static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 +
                    static_cast<std::int64_t>(st.st_mtim.tv_nsec);
    if (options_.modified_since_ns && file.mtime_ns < *options_.modified_since_ns) {
      file.size = static_cast<std::uint64_t>(st.st_size);
      stale_.emplace(path, std::move(file));
      return;
    }
    Read(fd.get(), std::move(file));
  }

  void Read(int fd, EvidenceFile file) {
    sha256_ctx context;
    sha256_init(&context);
    std::string content;
    std::array<char, kReadChunk> buffer;
    std::uint64_t size = 0;
    while (true) {
      // Never more than one byte past the per-file bound: enough to know the file is over it.
      std::uint64_t want =
          std::min<std::uint64_t>(buffer.size(), limits_.max_file_bytes + 1 - size);
      ssize_t got = ::read(fd, buffer.data(), want);
      if (got < 0 && errno == EINTR) continue;
      if (got < 0) return Skip(file.path, "read failed: " + ErrnoText(errno));
      if (got == 0) break;
      size += static_cast<std::uint64_t>(got);
      if (size > limits_.max_file_bytes) {
        bounds_.file_bytes = true;
        return Skip(file.path,
                    "larger than " + std::to_string(limits_.max_file_bytes) + " bytes, not read");
      }
      if (total_read_ + size > limits_.max_total_bytes) {
        bounds_.total_bytes = true;
        stopped_ = true;
        return Skip(file.path, "not read: " + std::to_string(limits_.max_total_bytes) +
                                   " bytes were read in all");
      }
      sha256_update(&context, static_cast<std::size_t>(got),
                    reinterpret_cast<const std::uint8_t*>(buffer.data()));
      if (options_.read_content) content.append(buffer.data(), static_cast<std::size_t>(got));
    }
    total_read_ += size;
    std::uint8_t digest[SHA256_DIGEST_SIZE];
    sha256_digest(&context, sizeof digest, digest);
    static constexpr char kHex[] = "0123456789abcdef";
    file.sha256.resize(2 * SHA256_DIGEST_SIZE);
    for (std::size_t i = 0; i < SHA256_DIGEST_SIZE; ++i) {
      file.sha256[2 * i] = kHex[digest[i] >> 4];
      file.sha256[2 * i + 1] = kHex[digest[i] & 15];
    }
    file.size = size;
    if (options_.read_content) file.content = std::move(content);
    std::string path = file.path;
    files_.emplace(std::move(path), std::move(file));
  }

  const EvidenceOptions& options_;
  const EvidenceLimits& limits_;
  bool stopped_ = false;
  std::size_t entries_read_ = 0;
  std::uint64_t total_read_ = 0;
  std::map<std::string, EvidenceFile> files_;
  std::map<std::string, EvidenceFile> stale_;
  std::set<std::pair<std::string, std::string>> skipped_;
  EvidenceBounds bounds_;
};

}  // namespace

std::string EvidenceBounds::Describe(const EvidenceLimits& limits) const {
  std::string out;
  auto add = [&](bool hit, const std::string& what) {
    if (!hit) return;
    if (!out.empty()) out += ", ";
    out += what;
  };
  add(matches, std::to_string(limits.max_matches) + " matches");
  add(entries, std::to_string(limits.max_entries) + " directory entries");
  add(depth, "depth " + std::to_string(limits.max_depth));
  add(total_bytes, std::to_string(limits.max_total_bytes) + " bytes read in all");
  add(file_bytes, std::to_string(limits.max_file_bytes) + " bytes in one file");
  return out;
}

std::string CheckEvidencePattern(std::string_view pattern) {
  if (pattern.empty()) return "empty pattern";
  if (pattern.size() > kMaxPatternBytes) {
    return "longer than " + std::to_string(kMaxPatternBytes) + " bytes";
  }
  if (pattern.find('\0') != std::string_view::npos) return "a NUL byte";
  if (pattern.front() == '/') return "absolute: patterns are relative to the workspace";
  std::size_t segments = 0;
  while (true) {
    std::size_t slash = pattern.find('/');
    std::string_view segment = pattern.substr(0, slash);
    if (segment.empty()) return "an empty segment (\"//\" or a trailing '/')";
    if (segment == "..") return "a \"..\" segment: patterns stay inside the workspace";
    if (segment == ".") return "a \".\" segment";
    if (++segments > kMaxPatternSegments) {
      return "more than " + std::to_string(kMaxPatternSegments) + " segments";
    }
    if (slash == std::string_view::npos) break;
    pattern.remove_prefix(slash + 1);
  }
  return "";
}

EvidenceResult FindEvidence(int workspace_fd, const std::vector<std::string>& patterns,
                            const EvidenceOptions& options) {
  try {
    std::string errors;
    for (const std::string& pattern : patterns) {
      std::string error = CheckEvidencePattern(pattern);
      if (error.empty()) continue;
      if (!errors.empty()) errors += "; ";
      errors += "pattern \"" + pattern.substr(0, 200) + "\": " + error;
    }
    if (!errors.empty()) return {std::nullopt, errors};
    // A descriptor that can be listed, whatever `workspace_fd` was opened with.
    Fd root(OpenBeneath(workspace_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) {
      return {std::nullopt, "cannot open the workspace: " + ErrnoText(errno)};
    }
    Walker walker(options);
    for (const std::string& pattern : patterns) walker.Walk(root.get(), SplitPattern(pattern));
    return {walker.Take(), ""};
  } catch (const std::exception& e) {
    return {std::nullopt, std::string("collecting evidence failed: ") + e.what()};
  }
}

EvidenceResult FindEvidence(const std::string& workspace, const std::vector<std::string>& patterns,
                            const EvidenceOptions& options) {
  try {
    Fd fd(::open(workspace.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd.valid()) {
      return {std::nullopt, "cannot open the workspace " + workspace + ": " + ErrnoText(errno)};
    }
    return FindEvidence(fd.get(), patterns, options);
  } catch (const std::exception& e) {
    return {std::nullopt, std::string("collecting evidence failed: ") + e.what()};
  }
}

}  // namespace tollgate::governance
