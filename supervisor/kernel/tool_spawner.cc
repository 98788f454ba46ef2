#include "supervisor/kernel/tool_spawner.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <linux/mount.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "supervisor/kernel/fd_passing.h"
#include "supervisor/kernel/fds.h"

namespace tollgate::kernel {
namespace {

// Frames from the supervisor: a fixed header, then the payload. A spawn's fds come with the
// header's bytes.
enum class FrameType : std::uint32_t { kSpawn = 1, kSignal = 2 };
struct FrameHeader {
  FrameType type;
  std::uint32_t payload_bytes;
  std::uint64_t call_id;
};
static_assert(sizeof(FrameHeader) == 16);
constexpr std::uint32_t kMaxSpawnPayload = 4u << 20;

void PutU32(std::string* out, std::uint32_t value) {
  out->append(reinterpret_cast<const char*>(&value), sizeof value);
}

void PutStrings(std::string* out, const std::vector<std::string>& items) {
  PutU32(out, static_cast<std::uint32_t>(items.size()));
  for (const std::string& item : items) {
    PutU32(out, static_cast<std::uint32_t>(item.size()));
    out->append(item);
  }
}

class PayloadReader {
 public:
  explicit PayloadReader(const std::string& bytes) : bytes_(bytes) {}
  bool U32(std::uint32_t* value) {
    if (bytes_.size() - at_ < sizeof *value) return false;
    std::memcpy(value, bytes_.data() + at_, sizeof *value);
    at_ += sizeof *value;
    return true;
  }
  bool Strings(std::vector<std::string>* items) {
    std::uint32_t count;
    if (!U32(&count) || count > (bytes_.size() - at_) / 4) return false;
    items->reserve(count);
    for (std::uint32_t i = 0; i < count; ++i) {
      std::uint32_t size;
      if (!U32(&size) || size > bytes_.size() - at_) return false;
      items->emplace_back(bytes_.data() + at_, size);
      at_ += size;
    }
    return true;
  }
  bool AtEnd() const { return at_ == bytes_.size(); }

 private:
  const std::string& bytes_;
  std::size_t at_ = 0;
};

void SendEvent(int channel, SpawnerEventType type, std::uint64_t call_id, std::int32_t value) {
  SpawnerEvent event;
  event.type = type;
  event.call_id = call_id;
  event.value = value;
  (void)WriteAll(channel, &event, sizeof event);
}

// What the tool's process needs; it shares the spawner's memory until it execs.
struct ToolStart {
  int real_fd;
  bool script;
  int fds[kSpawnFdCount];
  pid_t pgid;
  char** argv;
  char** envp;
  int exec_errno;  // written by the child when execveat fails
};

int ToolEntry(void* arg) {
  auto* start = static_cast<ToolStart*>(arg);
  sigset_t none;
  sigemptyset(&none);
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  if (start->pgid > 0) (void)::setpgid(0, start->pgid);  // a shim in another session: stay
  int rc = 0;
  for (int i = 0; i < 3 && rc == 0; ++i) rc = ::dup2(start->fds[i], i) < 0 ? -1 : 0;
  if (rc == 0) rc = ::fchdir(start->fds[3]);
  // Nothing else of the spawner's reaches the tool: the other real tools, the channel, the
  // shim's fds (all marked close-on-exec here, in this process's own fd table).
  if (rc == 0) rc = static_cast<int>(::syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC));
  // A script's interpreter opens it again through /proc/self/fd: that one fd must stay open.
  if (rc == 0 && start->script) rc = ::fcntl(start->real_fd, F_SETFD, 0);
  if (rc == 0) ::syscall(SYS_execveat, start->real_fd, "", start->argv, start->envp, AT_EMPTY_PATH);
  start->exec_errno = errno;
  ::_exit(127);
}

std::vector<char*> Pointers(std::vector<std::string>& items) {
  std::vector<char*> pointers;
  pointers.reserve(items.size() + 1);
  for (std::string& item : items) pointers.push_back(item.data());
  pointers.push_back(nullptr);
  return pointers;
}

class Spawner {
 public:
  Spawner(int channel, const std::vector<int>& real_fds) : channel_(channel), real_fds_(real_fds) {
    for (int fd : real_fds_) {
      char magic[2] = {};
      script_.push_back(fd >= 0 && ::pread(fd, magic, 2, 0) == 2 && magic[0] == '#' &&
                        magic[1] == '!');
    }
  }

  [[noreturn]] void Run() {
    sigset_t child;
    sigemptyset(&child);
    sigaddset(&child, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &child, nullptr);
    int signal_fd = ::signalfd(-1, &child, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd < 0) ::_exit(125);
    for (;;) {
      struct pollfd fds[2] = {{channel_, POLLIN, 0}, {signal_fd, POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        ::_exit(125);
      }
      if (fds[1].revents & POLLIN) Reap(signal_fd);
      if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
        if (!ReadFrame()) break;
      }
    }
    // The supervisor is gone: so is every tool it started.
    for (const auto& [pid, id] : running_) ::kill(pid, SIGKILL);
    ::_exit(0);
  }

 private:
  bool ReadFrame() {
    FrameHeader header{};
    int fds[kSpawnFdCount] = {-1, -1, -1, -1};
    int fd_count = 0;
    std::size_t received = 0;
    Status status =
        ReceiveWithFds(channel_, &header, sizeof header, &received, fds, kSpawnFdCount, &fd_count);
    if (!status.ok || received == 0) return false;
    auto close_fds = [&] {
      for (int i = 0; i < fd_count; ++i) ::close(fds[i]);
    };
    if (received < sizeof header &&
        !ReceiveAll(channel_, reinterpret_cast<char*>(&header) + received,
                    sizeof header - received)) {
      close_fds();
      return false;
    }
    if (header.payload_bytes > kMaxSpawnPayload) {
      close_fds();
      return false;
    }
    std::string payload(header.payload_bytes, '\0');
    if (!ReceiveAll(channel_, payload.data(), payload.size())) {
      close_fds();
      return false;
    }
    if (header.type == FrameType::kSignal) {
      close_fds();
      std::int32_t signo = 0;
      if (payload.size() == sizeof signo) std::memcpy(&signo, payload.data(), sizeof signo);
      for (const auto& [pid, id] : running_) {
        if (id == header.call_id && signo > 0 && signo < NSIG) ::kill(pid, signo);
      }
      return true;
    }
    if (header.type != FrameType::kSpawn || fd_count != kSpawnFdCount) {
      close_fds();
      SendEvent(channel_, SpawnerEventType::kStarted, header.call_id, -EBADMSG);
      return true;
    }
    Spawn(header.call_id, payload, fds);
    close_fds();
    return true;
  }

  void Spawn(std::uint64_t call_id, const std::string& payload, const int fds[kSpawnFdCount]) {
    PayloadReader reader(payload);
    std::uint32_t tool_index = 0, pgid = 0;
    std::vector<std::string> argv, env;
    if (!reader.U32(&tool_index) || !reader.U32(&pgid) || !reader.Strings(&argv) ||
        !reader.Strings(&env) || !reader.AtEnd() || argv.empty() ||
        tool_index >= real_fds_.size() || real_fds_[tool_index] < 0) {
      SendEvent(channel_, SpawnerEventType::kStarted, call_id, -EINVAL);
      return;
    }
    std::vector<char*> argv_pointers = Pointers(argv);
    std::vector<char*> env_pointers = Pointers(env);
    ToolStart start{real_fds_[tool_index],
                    script_[tool_index],
                    {fds[0], fds[1], fds[2], fds[3]},
                    static_cast<pid_t>(pgid),
                    argv_pointers.data(),
                    env_pointers.data(),
                    0};
    pid_t pid = StartTool(&start);
    if (pid < 0) {
      SendEvent(channel_, SpawnerEventType::kStarted, call_id, -errno);
      return;
    }
    if (start.exec_errno != 0) {
      // The child is gone (exit 127); reap it here so no Exited follows.
      ::waitpid(pid, nullptr, 0);
      SendEvent(channel_, SpawnerEventType::kStarted, call_id, -start.exec_errno);
      return;
    }
    // No event for a start that worked: the supervisor already told the shim, and one message
    // less per call is one wakeup less on both sides.
    running_[pid] = call_id;
  }

  // vfork-style (as posix_spawn does): no copy of the spawner's page tables, and the spawner
  // waits until the tool has called execve, so exec_errno is known on return. The tool's
  // process shares the spawner's memory, which is not dumpable, until the exec: nothing in the
  // sandbox can read its fds meanwhile. AddressSanitizer cannot follow a process onto a stack it
  // did not make, so a sanitizer build forks (the error then shows as exit 127 alone).
  static pid_t StartTool(ToolStart* start) {
#if defined(__SANITIZE_ADDRESS__)
    pid_t pid = ::fork();
    if (pid == 0) ToolEntry(start);
    return pid;
#else
    constexpr std::size_t kStackSize = 128 * 1024;
    void* stack = ::mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -1;
    pid_t pid = ::clone(ToolEntry, static_cast<char*>(stack) + kStackSize,
                        CLONE_VM | CLONE_VFORK | SIGCHLD, start);
    int err = errno;
    ::munmap(stack, kStackSize);
    errno = err;
    return pid;
#endif
  }

  void Reap(int signal_fd) {
    struct signalfd_siginfo info;
    while (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    }
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      auto it = running_.find(pid);
      if (it == running_.end()) continue;
      SendEvent(channel_, SpawnerEventType::kExited, it->second, status);
      running_.erase(it);
    }
  }

  const int channel_;
  const std::vector<int>& real_fds_;
  std::vector<bool> script_;
  std::map<pid_t, std::uint64_t> running_;  // tool pid -> call id
};

}  // namespace

std::string EncodeSpawnRequest(const SpawnRequest& request) {
  std::string frame(sizeof(FrameHeader), '\0');
  PutU32(&frame, request.tool_index);
  PutU32(&frame, static_cast<std::uint32_t>(request.pgid));
  PutStrings(&frame, request.argv);
  PutStrings(&frame, request.env);
  FrameHeader header{FrameType::kSpawn,
                     static_cast<std::uint32_t>(frame.size() - sizeof(FrameHeader)),
                     request.call_id};
  std::memcpy(frame.data(), &header, sizeof header);
  return frame;
}

std::string EncodeSpawnSignal(std::uint64_t call_id, int signo) {
  std::string frame(sizeof(FrameHeader) + sizeof(std::int32_t), '\0');
  FrameHeader header{FrameType::kSignal, sizeof(std::int32_t), call_id};
  std::int32_t value = signo;
  std::memcpy(frame.data(), &header, sizeof header);
  std::memcpy(frame.data() + sizeof header, &value, sizeof value);
  return frame;
}

bool SpawnerEventReader::Read(int channel, std::vector<SpawnerEvent>* events) {
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(channel, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (n <= 0) return false;
    pending_.append(buffer, static_cast<std::size_t>(n));
  }
  std::size_t at = 0;
  while (pending_.size() - at >= sizeof(SpawnerEvent)) {
    SpawnerEvent event;
    std::memcpy(&event, pending_.data() + at, sizeof event);
    events->push_back(event);
    at += sizeof event;
  }
  pending_.erase(0, at);
  return true;
}

Status CreateBrokerListener(const char* dir, const char* socket_path, int* listener) {
  *listener = -1;
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return Status::Fail("broker socket", socket_path, errno);
  struct sockaddr_un address {};
  address.sun_family = AF_UNIX;
  if (std::strlen(socket_path) >= sizeof address.sun_path) {
    ::close(fd);
    return Status::Fail("broker socket", socket_path, ENAMETOOLONG);
  }
  std::strcpy(address.sun_path, socket_path);
  if (::bind(fd, reinterpret_cast<struct sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(fd, SOMAXCONN) != 0) {
    int err = errno;
    ::close(fd);
    return Status::Fail("broker socket: bind and listen", socket_path, err);
  }
  // Read-only from now on: the socket can be neither removed nor replaced by a fake broker.
  int dir_fd = ::open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  struct mount_attr attr {};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC;
  if (dir_fd < 0 ||
      ::syscall(SYS_mount_setattr, dir_fd, "", AT_EMPTY_PATH, &attr, sizeof attr) != 0) {
    int err = errno;
    if (dir_fd >= 0) ::close(dir_fd);
    ::close(fd);
    return Status::Fail("broker socket: make its directory read-only", dir, err);
  }
  ::close(dir_fd);
  *listener = fd;
  return Status::Ok();
}

void RunToolSpawner(int channel, const std::vector<int>& real_fds) {
  // Not dumpable: its memory and fds stay out of reach of everything else in the sandbox.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) ::_exit(125);
  ::prctl(PR_SET_NAME, "tollgate-spawn", 0, 0, 0);
  // A process group of its own in the command's session: the terminal's ^C and ^Z are not for
  // it, and the tools it starts can still join their shim's group (setpgid needs one session).
  (void)::setpgid(0, 0);
  for (int sig : {SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGHUP, SIGPIPE})
    ::signal(sig, SIG_IGN);
  Spawner(channel, real_fds).Run();
}

Status StartToolSpawner(int channel, const std::vector<int>& real_fds) {
  // CLONE_PARENT: the spawner is the init's child from the start (no intermediate to fork and
  // reap), so no program of the agent finds an unexpected child. A plain clone, not fork(): the
  // command process has one thread and holds no lock, and the child never returns here.
  long pid = ::syscall(SYS_clone, CLONE_PARENT | SIGCHLD, nullptr, nullptr, nullptr, nullptr);
  if (pid < 0) return Status::Fail("start the tool spawner", {}, errno);
  if (pid == 0) RunToolSpawner(channel, real_fds);
  return Status::Ok();
}

}  // namespace tollgate::kernel
