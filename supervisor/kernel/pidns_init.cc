#include "supervisor/kernel/pidns_init.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>

#include "policy/plans.h"
#include "supervisor/kernel/fds.h"
#include "supervisor/kernel/launch_trace.h"

namespace tollgate::kernel {

void CopyTruncated(char* destination, std::size_t size, const std::string& source) {
  std::size_t n = source.size() < size - 1 ? source.size() : size - 1;
  std::memcpy(destination, source.data(), n);
  destination[n] = '\0';
}

void SendStatusMessage(int fd, const StatusMessage& message) {
  // Best effort: if the supervisor is gone there is no one left to tell.
  (void)WriteAll(fd, &message, sizeof message);
}

StatusMessage SetupErrorMessage(const Status& status) {
  StatusMessage message;
  message.type = StatusMessageType::kSetupError;
  message.error = status.error;
  std::string step = status.step;
  if (!status.detail.empty()) step += " (" + status.detail + ")";
  CopyTruncated(message.step, sizeof message.step, step);
  CopyTruncated(message.path, sizeof message.path, status.path);
  return message;
}

namespace {

using policy::LimitKind;

constexpr long kSampleIntervalNs = 50 * 1000 * 1000;

std::uint32_t Bit(LimitKind kind) {
  return 1u << static_cast<unsigned>(kind);
}

double CpuSeconds(const struct rusage& ru) {
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

class SandboxInit {
 public:
  explicit SandboxInit(const InitConfig& config)
      : config_(config), page_size_(::sysconf(_SC_PAGESIZE)) {}

  [[noreturn]] void Run() {
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGCHLD);
    for (int sig : config_.forwarded_signals) sigaddset(&mask, sig);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    int signal_fd = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signal_fd < 0) Fail(Status::Fail("signalfd", {}, errno));

    command_ = SpawnCommand(signal_fd);
    for (int fd : config_.close_after_command_start) ::close(fd);
    if (command_ < 0) Fail(Status::Fail("start the command", {}, errno));

    const InitSampling& s = config_.sampling;
    bool sampling = s.processes > 0 || s.memory_bytes > 0 || !s.tmpfs_paths.empty();
    int timer_fd = -1;
    if (sampling) {
      proc_fd_ = ::open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      timer_fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
      struct itimerspec interval {};
      interval.it_interval.tv_nsec = kSampleIntervalNs;
      interval.it_value.tv_nsec = kSampleIntervalNs;
      if (timer_fd >= 0) ::timerfd_settime(timer_fd, 0, &interval, nullptr);
    }

    while (!command_done_) {
      struct pollfd fds[2] = {{signal_fd, POLLIN, 0}, {timer_fd, POLLIN, 0}};
      int n = ::poll(fds, timer_fd >= 0 ? 2 : 1, -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[0].revents & POLLIN) HandleSignals(signal_fd);
      if (timer_fd >= 0 && (fds[1].revents & POLLIN)) {
        std::uint64_t expirations;
        (void)!::read(timer_fd, &expirations, sizeof expirations);
        Sample();
      }
    }
    Finish();
  }

 private:
  // The command starts as a vfork-style child (CLONE_VM | CLONE_VFORK, as posix_spawn does) on a
  // stack of its own: no copy of the init's page tables and no copy-on-write faults on either
  // side, and the init waits, suspended, until the command has called execve or _exit. The child
  // has its own file table, signal handlers, credentials and rlimits (no CLONE_FILES,
  // CLONE_SIGHAND or CLONE_THREAD), so closing fds, Landlock, seccomp and rlimits apply to it
  // alone; what it allocates on the shared heap before execve is only left behind in the init.
  //
  // AddressSanitizer cannot follow a process onto a stack it did not make (google/sanitizers#189:
  // its no-return handling on the failure paths aborts), so a sanitizer build forks instead.
  pid_t SpawnCommand(int signal_fd) {
    signal_fd_to_close_ = signal_fd;
#if defined(__SANITIZE_ADDRESS__)
    const bool fork_command = true;
#else
    const bool fork_command = config_.fork_command;
#endif
    if (fork_command) {
      pid_t forked = ::fork();
      if (forked == 0) CommandEntry(this);
      return forked;
    }
    constexpr std::size_t kStackSize = 256 * 1024;
    void* stack = ::mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (stack == MAP_FAILED) return -1;
    // x86-64 and the other architectures Linux runs this on grow the stack downwards.
    pid_t pid = ::clone(CommandEntry, static_cast<char*>(stack) + kStackSize,
                        CLONE_VM | CLONE_VFORK | SIGCHLD, this);
    int err = errno;
    ::munmap(stack, kStackSize);
    errno = err;
    return pid;
  }

  static int CommandEntry(void* arg) {
    auto* self = static_cast<SandboxInit*>(arg);
    ::close(self->signal_fd_to_close_);
    self->config_.command_main(self->config_.command_arg);
    ::_exit(125);
  }

  [[noreturn]] void Fail(const Status& status) {
    SendStatusMessage(config_.status_fd, SetupErrorMessage(status));
    ::_exit(125);
  }

  void HandleSignals(int signal_fd) {
    struct signalfd_siginfo info;
    while (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      int sig = static_cast<int>(info.ssi_signo);
      if (sig == SIGCHLD) {
        // Count before reaping: zombies still hold their place under RLIMIT_NPROC and in /proc,
        // so a burst that hit the limit and died at once is still seen.
        if (proc_fd_ >= 0 && config_.sampling.processes > 0) SampleProcesses(false);
        Reap();
        continue;
      }
      // Forward only what a process outside the sandbox sent (the supervisor): its pid is not
      // visible here (0). Terminal signals (SI_KERNEL) already reach the command through the
      // foreground process group, and signals from inside are the sandbox's own business.
      bool from_outside_process =
          info.ssi_pid == 0 && (info.ssi_code == SI_USER || info.ssi_code == SI_QUEUE);
      if (from_outside_process && command_ > 0 && !command_done_) ::kill(command_, sig);
    }
  }

  void Reap() {
    int status = 0;
    struct rusage ru {};
    pid_t pid;
    while ((pid = ::wait4(-1, &status, WNOHANG, &ru)) > 0) {
      Observe(pid, status, ru);
      if (pid == command_) {
        LaunchTrace("init reaped command");
        command_done_ = true;
        command_status_ = status;
      }
    }
  }

  void Observe(pid_t pid, int status, const struct rusage& ru) {
    const InitSampling& s = config_.sampling;
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (s.file_size && sig == SIGXFSZ) hits_ |= Bit(LimitKind::kFileSize);
    if (s.cpu_seconds > 0 &&
        (sig == SIGXCPU ||
         (sig == SIGKILL && CpuSeconds(ru) >= static_cast<double>(s.cpu_seconds)))) {
      hits_ |= Bit(LimitKind::kCpuSeconds);
    }
    if (s.memory_bytes > 0) {
      bool failed = sig != 0 || (WIFEXITED(status) && WEXITSTATUS(status) != 0);
      std::uint64_t peak = static_cast<std::uint64_t>(ru.ru_maxrss) * 1024;
      bool near_by_rss = peak >= s.memory_bytes / 10 * 9;
      auto it = near_limit_.find(pid);
      bool near_by_sample = it != near_limit_.end();
      if (failed && (near_by_rss || (near_by_sample && (sig == SIGSEGV || sig == SIGABRT ||
                                                        sig == SIGKILL || sig == SIGBUS)))) {
        hits_ |= Bit(LimitKind::kMemory);
      }
      if (near_by_sample) near_limit_.erase(it);
    }
  }

  void Sample() {
    const InitSampling& s = config_.sampling;
    if (proc_fd_ >= 0 && (s.processes > 0 || s.memory_bytes > 0))
      SampleProcesses(s.memory_bytes > 0);
    SampleTmpfs();
  }

  void SampleProcesses(bool memory) {
    const InitSampling& s = config_.sampling;
    ::lseek(proc_fd_, 0, SEEK_SET);
    char buffer[16384];
    std::uint64_t count = 0;
    for (;;) {
      long n = ::syscall(SYS_getdents64, proc_fd_, buffer, sizeof buffer);
      if (n <= 0) break;
      for (long offset = 0; offset < n;) {
        auto* entry = reinterpret_cast<struct dirent64*>(buffer + offset);
        offset += entry->d_reclen;
        const char* name = entry->d_name;
        if (name[0] < '1' || name[0] > '9') continue;
        ++count;
        // Not the init itself: its memory is not the command's (and in a sanitizer build it maps
        // terabytes of shadow memory).
        if (memory && std::strcmp(name, "1") != 0) SampleMemory(name);
      }
    }
    // The init itself is one of them and is not the command's.
    if (s.processes > 0 && count > 0 && count - 1 >= s.processes)
      hits_ |= Bit(LimitKind::kProcesses);
  }

  void SampleMemory(const char* pid_name) {
    char path[300];  // d_name is at most 255 bytes
    std::snprintf(path, sizeof path, "%s/statm", pid_name);
    int fd = ::openat(proc_fd_, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char text[128] = {};
    ssize_t n = ::read(fd, text, sizeof text - 1);
    ::close(fd);
    if (n <= 0) return;
    // size resident shared text lib data dt: data (6th) is data + stack, what RLIMIT_DATA counts.
    unsigned long fields[6] = {};
    if (std::sscanf(text, "%lu %lu %lu %lu %lu %lu", &fields[0], &fields[1], &fields[2], &fields[3],
                    &fields[4], &fields[5]) != 6) {
      return;
    }
    std::uint64_t data =
        static_cast<std::uint64_t>(fields[5]) * static_cast<std::uint64_t>(page_size_);
    const std::uint64_t limit = config_.sampling.memory_bytes;
    // RLIMIT_DATA keeps a process from mapping past the limit, so more than the limit was mapped
    // before it applied (a process between fork and execve): not a hit.
    if (data > limit) return;
    if (data >= limit / 100 * 95) hits_ |= Bit(LimitKind::kMemory);
    if (data >= limit / 10 * 9) near_limit_[static_cast<pid_t>(std::atol(pid_name))] = data;
  }

  void SampleTmpfs() {
    for (const auto& path : config_.sampling.tmpfs_paths) {
      struct statfs st {};
      if (::statfs(path.c_str(), &st) == 0 && st.f_blocks > 0 && st.f_bavail == 0) {
        hits_ |= Bit(LimitKind::kTmpfs);
      }
    }
  }

  [[noreturn]] void Finish() {
    // The command is gone: nothing else in the sandbox may outlive it.
    ::kill(-1, SIGKILL);
    int status;
    for (;;) {
      pid_t pid = ::wait4(-1, &status, 0, nullptr);
      if (pid < 0 && errno == EINTR) continue;
      if (pid < 0) break;
    }
    SampleTmpfs();
    StatusMessage message;
    message.type = StatusMessageType::kFinal;
    message.wait_status = command_status_;
    message.limits_hit = hits_;
    struct rusage children {};
    if (::getrusage(RUSAGE_CHILDREN, &children) == 0) {
      message.user_usec = static_cast<std::uint64_t>(children.ru_utime.tv_sec) * 1000000u +
                          static_cast<std::uint64_t>(children.ru_utime.tv_usec);
      message.system_usec = static_cast<std::uint64_t>(children.ru_stime.tv_sec) * 1000000u +
                            static_cast<std::uint64_t>(children.ru_stime.tv_usec);
      message.max_rss_kib = static_cast<std::uint64_t>(children.ru_maxrss);
    }
    SendStatusMessage(config_.status_fd, message);
    LaunchTrace("init final sent");
    ::_exit(0);
  }

  const InitConfig& config_;
  const long page_size_;
  pid_t command_ = -1;
  bool command_done_ = false;
  int command_status_ = 0;
  std::uint32_t hits_ = 0;
  int proc_fd_ = -1;
  int signal_fd_to_close_ = -1;                // read by the command process, before it execs
  std::map<pid_t, std::uint64_t> near_limit_;  // pids whose last sample was >= 90% of the limit
};

}  // namespace

void RunSandboxInit(const InitConfig& config) {
  SandboxInit(config).Run();
}

}  // namespace tollgate::kernel
