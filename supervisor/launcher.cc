// Launch: the supervisor half (prepare, clone3, id maps, event loop, result) and the sandbox
// half (ChildMain: become pid 1 of the sandbox; CommandMain: the command process), as a readable
// list of steps. Each step lives in supervisor/kernel/, one file per concern.
//
// The clone needs nothing of the plan: the init is cloned with only its ids and its fds, and
// receives what it needs of the plan over the sync socket (a SandboxSetup, computed here: exec
// paths, envp, rlimits, Landlock ABI), then the seccomp program; it only applies prepared data.
// The supervisor is single-threaded while it clones: the child is a fork-like copy and may
// allocate.
#include "supervisor/launcher.h"

#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "policy/seccomp_plan.h"
#include "shims/protocol.h"
#include "supervisor/kernel/caps.h"
#include "supervisor/kernel/env.h"
#include "supervisor/kernel/fd_passing.h"
#include "supervisor/kernel/fds.h"
#include "supervisor/kernel/kernel_features.h"
#include "supervisor/kernel/landlock.h"
#include "supervisor/kernel/launch_trace.h"
#include "supervisor/kernel/limits.h"
#include "supervisor/kernel/mountns.h"
#include "supervisor/kernel/netns.h"
#include "supervisor/kernel/pidns_init.h"
#include "supervisor/kernel/sandbox_setup.h"
#include "supervisor/kernel/seccomp.h"
#include "supervisor/kernel/tool_spawner.h"
#include "supervisor/kernel/userns.h"
#include "supervisor/net/proxy.h"
#include "supervisor/placeholder_ledger.h"
#include "supervisor/seccomp_observer.h"
#include "supervisor/tool_broker.h"

namespace tollgate {

namespace {

using kernel::Status;
using kernel::StatusMessage;
using kernel::StatusMessageType;
using policy::LimitKind;

constexpr int kForwardedSignals[] = {SIGTERM, SIGINT,  SIGHUP,   SIGQUIT,
                                     SIGUSR1, SIGUSR2, SIGWINCH, SIGCONT};
constexpr char kReleaseByte = 'g';
// A prepared sandbox's command process sends this when all but its exec is done
// (DeferredCommand).
constexpr char kReadyByte = 'r';

// Fixed when the init is cloned; the child's copy is all it starts with.
struct InitStart {
  uid_t host_uid = 0;
  gid_t host_gid = 0;
  bool drop_supplementary_groups = false;
  // No terminal: the sandbox gets a process group of its own, so kill(0, …) inside cannot reach
  // the supervisor's group (Landlock's signal scope does that too, from ABI 6 on). With a
  // terminal it stays in the foreground group, where the terminal's job control needs it.
  bool new_process_group = false;
  bool forward_signals = true;
  // Audited runs: the command installs its filter with a listener and sends it to the supervisor
  // (seccomp_observer.h) over notify_send.
  bool seccomp_listener = false;
  int status_write = -1;
  int sync_read = -1;
  int supervisor_pidfd = -1;  // the supervisor itself: lets the child see that it already died
  int netns_read = -1;        // where the network namespace arrives, if the plan asks (netns.h)
  int notify_send = -1;       // with seccomp_listener
  // Tool mediation: the init sends the broker's listening socket over it, and the tool spawner
  // it then starts talks to the supervisor over it (tool_spawner.h). Closed when the plan
  // mediates no tool.
  int broker_channel = -1;
};

InitStart InitStartFor(uid_t uid, gid_t gid, bool forward_signals, bool seccomp_listener) {
  InitStart start;
  start.host_uid = uid;
  start.host_gid = gid;
  start.drop_supplementary_groups = ::geteuid() == 0;
  start.new_process_group = !::isatty(STDIN_FILENO);
  start.forward_signals = forward_signals;
  start.seccomp_listener = seccomp_listener;
  return start;
}

bool SameStart(const InitStart& a, const InitStart& b) {
  return a.host_uid == b.host_uid && a.host_gid == b.host_gid &&
         a.drop_supplementary_groups == b.drop_supplementary_groups &&
         a.new_process_group == b.new_process_group && a.forward_signals == b.forward_signals &&
         a.seccomp_listener == b.seccomp_listener;
}

// What the init holds once it has its setup; lives in the init only.
struct InitState {
  InitStart start;
  kernel::SandboxSetup setup;
  std::vector<sock_filter> seccomp_filter;
  kernel::InitConfig init;
  std::vector<int> shim_real_fds;  // the real tools under the shims, for the tool spawner
};

[[noreturn]] void ReportAndExit(int status_fd, const Status& status) {
  kernel::SendStatusMessage(status_fd, kernel::SetupErrorMessage(status));
  ::_exit(125);
}

// ---------------------------------------------------------------- the command process

bool ReceiveCommand(int fd, kernel::ExecSpec* exec);  // a prepared sandbox's, below

[[noreturn]] void CommandMain(void* arg) {
  const InitState& s = *static_cast<const InitState*>(arg);
  kernel::LaunchTrace("command start");
  // The init blocks signals for its signalfd and may have inherited ignored ones from the
  // supervisor's caller: the command starts from defaults.
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);

  const int report = s.start.status_write;
  // The status pipe is O_CLOEXEC: it reports failures below and is gone after execve. So are the
  // real tools and the broker channel, kept only to hand them to the tool spawner.
  std::vector<int> keep = {report, s.start.notify_send, s.start.broker_channel, s.start.sync_read};
  keep.insert(keep.end(), s.shim_real_fds.begin(), s.shim_real_fds.end());
  Status status = kernel::CloseFdsExcept(keep.data(), keep.size());
  // A sanitizer build's tool spawner allocates after the limits apply, and AddressSanitizer's
  // shadow memory alone exceeds any RLIMIT_DATA: there the data limit waits until the spawner
  // is started (and a prepared sandbox's command line received), and binds the command only
  // (release builds apply it to both, before the fork).
  kernel::RlimitSettings limits = s.setup.rlimits;
  kernel::RlimitSettings data_limit_later;
#if defined(__SANITIZE_ADDRESS__)
  if (s.start.broker_channel >= 0 || s.start.sync_read >= 0) {
    kernel::RlimitSettings without_data;
    for (std::size_t i = 0; i < limits.count; ++i) {
      if (limits.items[i].resource == RLIMIT_DATA) {
        data_limit_later.Add(RLIMIT_DATA, limits.items[i].soft, limits.items[i].hard);
      } else {
        without_data.Add(limits.items[i].resource, limits.items[i].soft, limits.items[i].hard);
      }
    }
    limits = without_data;
  }
#endif
  if (status.ok) status = kernel::ApplyRlimits(limits);
  // no_new_privs and the empty capability sets are inherited from the init (set before fork).
  int applied_abi = 0;
  if (status.ok)
    status = kernel::ApplyLandlock(s.setup.landlock, s.setup.landlock_abi, &applied_abi);
  // The init made itself non-dumpable; a copy of it stays so until execve, and the supervisor
  // of an ordinary user could then not read what the first execve is given (its memory belongs
  // to the host's user namespace until the exec). This process holds nothing worth hiding: the
  // capabilities are gone, and execve makes it dumpable again anyway. Only ever in a command
  // with memory of its own (InitConfig::fork_command): dumpable is a property of the memory,
  // and the init's must stay non-dumpable.
  if (status.ok && s.start.notify_send >= 0 && ::prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0)
    status = Status::Fail("prctl(PR_SET_DUMPABLE)", {}, errno);
  // Seccomp last: the filter need not allow anything the steps above do.
  if (status.ok) status = kernel::InstallSeccompFilter(s.seccomp_filter, s.start.notify_send);
  // The spawner inherits everything above: the tools it starts are as confined as the command.
  if (status.ok && s.start.broker_channel >= 0) {
    status = kernel::StartToolSpawner(s.start.broker_channel, s.shim_real_fds);
    // The command goes one Landlock domain below the spawner and its tools: nothing it starts
    // can open a running tool's /proc/PID/exe (the real program) or its fds and memory.
    if (status.ok && applied_abi > 0) status = kernel::NestLandlockDomain(applied_abi);
  }
  if (!status.ok) ReportAndExit(report, status);
  // A prepared sandbox: all but the exec is done. Say so, and wait for the command line and
  // its stdio. End of file: the sandbox is abandoned unused (or the supervisor died).
  const kernel::ExecSpec* exec = &s.setup.exec;
  kernel::ExecSpec deferred;
  if (s.start.sync_read >= 0) {
    if (::send(s.start.sync_read, &kReadyByte, 1, MSG_NOSIGNAL) != 1) ::_exit(125);
    kernel::LaunchTrace("command ready");
    if (!ReceiveCommand(s.start.sync_read, &deferred)) ::_exit(125);
    ::close(s.start.sync_read);
    exec = &deferred;
  }
  // Last before the exec: receiving a prepared sandbox's command allocates too.
  if (Status data = kernel::ApplyRlimits(data_limit_later); !data.ok) ReportAndExit(report, data);
  kernel::LaunchTrace("command exec");
  int err = kernel::ExecFirstCandidate(*exec);
  const auto& argv = exec->argv_storage;
  ReportAndExit(report, Status::Fail("execve", argv.empty() ? "" : argv[0], err,
                                     err == ENOENT ? "not found in the sandbox's PATH" : ""));
}

// ---------------------------------------------------------------- the seccomp program

// The program goes over the sync socket as a count and the instructions. Reading it fully is the
// only way on: a supervisor that failed to compile it kills the child instead of sending.
using kernel::ReceiveAll;
using kernel::SendAll;

bool SendSeccompProgram(int fd, const std::vector<sock_filter>& program) {
  std::uint32_t count = static_cast<std::uint32_t>(program.size());
  return SendAll(fd, &count, sizeof count) &&
         SendAll(fd, program.data(), program.size() * sizeof(sock_filter));
}

bool ReceiveSeccompProgram(int fd, std::vector<sock_filter>* program) {
  std::uint32_t count = 0;
  if (!ReceiveAll(fd, &count, sizeof count) || count == 0 || count > BPF_MAXINSNS) return false;
  program->resize(count);
  return ReceiveAll(fd, program->data(), count * sizeof(sock_filter));
}

// The setup goes as a length and the encoded bytes (sandbox_setup.h).
constexpr std::uint32_t kMaxSetupBytes = 64u << 20;

bool SendSetup(int fd, const std::string& bytes) {
  std::uint32_t size = static_cast<std::uint32_t>(bytes.size());
  return SendAll(fd, &size, sizeof size) && SendAll(fd, bytes.data(), bytes.size());
}

bool ReceiveSetup(int fd, kernel::SandboxSetup* setup) {
  std::uint32_t size = 0;
  if (!ReceiveAll(fd, &size, sizeof size) || size > kMaxSetupBytes) return false;
  std::string bytes(size, '\0');
  return ReceiveAll(fd, bytes.data(), size) && kernel::DecodeSandboxSetup(bytes, setup);
}

// A prepared sandbox's command: the length of an encoded SandboxSetup holding only `exec`, with
// the command's stdin, stdout and stderr attached, then the bytes. The command process, waiting
// at its exec, takes the three fds as its 0, 1, 2.
bool SendCommand(int fd, const std::string& bytes, const int stdio[3]) {
  std::uint32_t size = static_cast<std::uint32_t>(bytes.size());
  return kernel::SendWithFds(fd, &size, sizeof size, stdio, 3).ok &&
         SendAll(fd, bytes.data(), bytes.size());
}

bool ReceiveCommand(int fd, kernel::ExecSpec* exec) {
  std::uint32_t size = 0;
  std::size_t received = 0;
  int fds[3] = {-1, -1, -1};
  int count = 0;
  if (!kernel::ReceiveWithFds(fd, &size, sizeof size, &received, fds, 3, &count).ok ||
      received == 0 || count != 3) {
    return false;
  }
  if (received < sizeof size &&
      !ReceiveAll(fd, reinterpret_cast<char*>(&size) + received, sizeof size - received)) {
    return false;
  }
  std::string bytes(size <= kMaxSetupBytes ? size : 0, '\0');
  kernel::SandboxSetup command;
  if (size > kMaxSetupBytes || !ReceiveAll(fd, bytes.data(), size) ||
      !kernel::DecodeSandboxSetup(bytes, &command)) {
    return false;
  }
  for (int i = 0; i < 3; ++i) {
    if (fds[i] != i && ::dup2(fds[i], i) != i) return false;  // dup2 clears O_CLOEXEC
    if (fds[i] != i) ::close(fds[i]);
  }
  // The vectors move whole: the views in argv and envp keep pointing at the same strings.
  *exec = std::move(command.exec);
  return true;
}

// ---------------------------------------------------------------- the sandbox init (pid 1)

// What the init hands the supervisor over the broker channel, in one message once its view and
// network namespace exist: listening sockets, announced by a byte of flags in this fd order.
// EOF instead: nothing to hand over.
constexpr std::uint8_t kHandoverBroker = 1;      // the tool broker's, /run/tollgate/broker.sock
constexpr std::uint8_t kHandoverHttpProxy = 2;   // 127.0.0.1:kHttpProxyPort
constexpr std::uint8_t kHandoverSocksProxy = 4;  // 127.0.0.1:kSocksProxyPort

struct Handover {
  std::uint8_t flags = 0;
  int fds[3] = {-1, -1, -1};
  int count = 0;
  void Add(std::uint8_t flag, int fd) {
    flags |= flag;
    fds[count++] = fd;
  }
  Status Send(int socket) const { return kernel::SendWithFds(socket, &flags, 1, fds, count); }
  void CloseAll() {
    for (int i = 0; i < count; ++i) ::close(fds[i]);
    count = 0;
  }
};

[[noreturn]] void ChildMain(const InitStart& start) {
  kernel::LaunchTrace("init start");
  const int report = start.status_write;
  auto check = [report](const Status& status) {
    if (!status.ok) ReportAndExit(report, status);
  };
  // Nothing the supervisor holds stays open in the sandbox, leaked or not.
  check(kernel::CloseFdsExcept({start.status_write, start.sync_read, start.supervisor_pidfd,
                                start.netns_read, start.notify_send, start.broker_channel}));
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
    check(Status::Fail("prctl(PR_SET_PDEATHSIG)", {}, errno));

  // Wait until the supervisor has written our id maps. EOF: it failed or died.
  char byte = 0;
  ssize_t n;
  do {
    n = ::read(start.sync_read, &byte, 1);
  } while (n < 0 && errno == EINTR);
  if (n != 1 || byte != kReleaseByte) ::_exit(125);
  kernel::LaunchTrace("init released");

  check(kernel::BecomeMappedIds(start.host_uid, start.host_gid, start.drop_supplementary_groups));
  // A change of effective uid clears the parent-death signal: set it again, then make sure the
  // supervisor did not die before that (getppid() is 0 across a pid namespace, so ask its pidfd).
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
    check(Status::Fail("prctl(PR_SET_PDEATHSIG)", {}, errno));
  struct pollfd parent {
    start.supervisor_pidfd, POLLIN, 0
  };
  if (::poll(&parent, 1, 0) != 0) ::_exit(125);
  ::close(start.supervisor_pidfd);
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0)
    check(Status::Fail("prctl(PR_SET_DUMPABLE)", {}, errno));

  // The base of the view needs no plan: enter it while the supervisor may still compile one.
  kernel::MountBase base;
  check(kernel::EnterMountBase(&base));
  kernel::LaunchTrace("init base entered");
  if (start.netns_read >= 0) kernel::AllowNetworkNamespace(start.netns_read);

  // The plan, as far as this process needs it; with an early clone the supervisor is still
  // compiling it. EOF: it failed (an invalid profile) or died.
  auto state = std::make_unique<InitState>();
  state->start = start;
  kernel::SandboxSetup& setup = state->setup;
  if (!ReceiveSetup(start.sync_read, &setup)) ::_exit(125);
  kernel::LaunchTrace("init setup received");

  kernel::MountOutcome outcome;
  Status mounts = kernel::BuildMountNamespace(setup.mounts, base, &outcome);
  // Placeholders first, even on failure: the supervisor must be able to remove them.
  for (const auto& placeholder : outcome.placeholders) {
    StatusMessage message;
    message.type = StatusMessageType::kPlaceholder;
    message.device = placeholder.device;
    message.inode = placeholder.inode;
    kernel::CopyTruncated(message.path, sizeof message.path, placeholder.sandbox_path);
    kernel::SendStatusMessage(report, message);
  }
  // Skipped ops go in batches of indices: one message each would cost a pipe round trip per op.
  constexpr std::size_t kIndicesPerMessage = sizeof(StatusMessage::path) / sizeof(std::uint32_t);
  for (std::size_t first = 0; first < outcome.skipped_ops.size(); first += kIndicesPerMessage) {
    StatusMessage message;
    message.type = StatusMessageType::kSkippedOps;
    message.index = std::min(kIndicesPerMessage, outcome.skipped_ops.size() - first);
    for (std::size_t i = 0; i < message.index; ++i) {
      std::uint32_t index = static_cast<std::uint32_t>(outcome.skipped_ops[first + i]);
      std::memcpy(message.path + i * sizeof index, &index, sizeof index);
    }
    kernel::SendStatusMessage(report, message);
  }
  check(mounts);
  kernel::LaunchTrace("init mounts done");
  // Tool mediation: the broker's socket, made while this process may still mount (it makes its
  // directory read-only), goes to the supervisor; the real tools wait for the spawner.
  for (int fd : outcome.shim_real_fds) {
    if (fd >= 0) state->shim_real_fds.push_back(fd);
  }
  Handover handover;
  if (!state->shim_real_fds.empty() && state->start.broker_channel >= 0) {
    int listener = -1;
    check(kernel::CreateBrokerListener(kBrokerDirectory, shim_protocol::kSocketPath, &listener));
    handover.Add(kHandoverBroker, listener);
  }
  if (!setup.cwd.empty() && ::chdir(setup.cwd.c_str()) != 0)
    check(Status::Fail("chdir", setup.cwd, errno));
  if (::sethostname(setup.hostname.data(), setup.hostname.size()) != 0) {
    check(Status::Fail("sethostname", setup.hostname, errno));
  }
  if (setup.new_network_namespace) check(kernel::JoinNetworkNamespace(start.netns_read));
  if (start.netns_read >= 0) ::close(start.netns_read);
  kernel::LaunchTrace("init netns joined");
  // Network proxy: the supervisor serves these sockets of the sandbox's loopback.
  if (setup.proxy_listeners) {
    int http = -1, socks = -1;
    check(kernel::ListenOnLoopback(policy::kHttpProxyPort, &http));
    handover.Add(kHandoverHttpProxy, http);
    check(kernel::ListenOnLoopback(policy::kSocksProxyPort, &socks));
    handover.Add(kHandoverSocksProxy, socks);
  }
  if (state->start.broker_channel >= 0) {
    if (handover.count > 0) check(handover.Send(state->start.broker_channel));
    // Without tools the channel has done its work; with them it goes to the tool spawner.
    if (state->shim_real_fds.empty()) {
      ::close(state->start.broker_channel);
      state->start.broker_channel = -1;
    }
  }
  handover.CloseAll();
  // The seccomp program, compiled by the supervisor while this process built the view.
  if (!ReceiveSeccompProgram(start.sync_read, &state->seccomp_filter)) ::_exit(125);
  // A prepared sandbox's command process waits on it for its command (CommandMain).
  if (!setup.deferred_command) {
    ::close(start.sync_read);
    state->start.sync_read = -1;
  }
  kernel::LaunchTrace("init seccomp received");

  // From here on neither the init nor the command holds any capability.
  check(kernel::DropAllCapabilities());
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    check(Status::Fail("prctl(PR_SET_NO_NEW_PRIVS)", {}, errno));

  if (start.new_process_group && ::setpgid(0, 0) != 0) check(Status::Fail("setpgid", {}, errno));
  kernel::InitConfig& init = state->init;
  init.status_fd = report;
  init.sampling = setup.sampling;
  if (start.forward_signals)
    init.forwarded_signals.assign(std::begin(kForwardedSignals), std::end(kForwardedSignals));
  // With a seccomp listener the command makes itself dumpable (CommandMain): it must be forked,
  // not share this process's memory.
  // A prepared sandbox's command waits for its command line before it execs: in a process of
  // its own, not one that keeps the init suspended until then.
  init.fork_command =
      start.notify_send >= 0 || state->start.broker_channel >= 0 || setup.deferred_command;
  // Only the spawner keeps the broker channel and the real tools; only the command the sync
  // socket of a prepared sandbox.
  if (state->start.broker_channel >= 0) {
    init.close_after_command_start = state->shim_real_fds;
    init.close_after_command_start.push_back(state->start.broker_channel);
  }
  if (state->start.sync_read >= 0) init.close_after_command_start.push_back(state->start.sync_read);
  init.command_main = CommandMain;
  init.command_arg = state.get();
  kernel::LaunchTrace("init run");
  kernel::RunSandboxInit(state.release()->init);
}

// ---------------------------------------------------------------- supervisor helpers

RunResult SetupError(const Status& status, std::string reason = {}) {
  RunResult result;
  result.status = RunStatus::kSetupError;
  result.failed_step = status.step;
  result.failed_path = status.path;
  result.failed_errno = status.error;
  result.reason = reason.empty() ? "sandbox setup failed: " + status.ToString() : std::move(reason);
  return result;
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double Seconds(const struct timeval& tv) {
  return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6;
}

kernel::InitSampling SamplingFor(const policy::SandboxPlan& plan) {
  kernel::InitSampling sampling;
  const policy::LimitsPlan& limits = plan.limits;
  sampling.processes = limits.Get(LimitKind::kProcesses).value_or(0);
  sampling.memory_bytes = limits.Get(LimitKind::kMemory).value_or(0);
  sampling.cpu_seconds = limits.Get(LimitKind::kCpuSeconds).value_or(0);
  sampling.file_size = limits.Get(LimitKind::kFileSize).has_value();
  for (const auto& op : plan.mounts.ops) {
    if (op.kind == policy::MountOpKind::kTmpfs && op.size)
      sampling.tmpfs_paths.push_back(op.target);
  }
  return sampling;
}

// Restores what Launch changed in the supervisor's signal state, whatever path it returns by.
class SignalState {
 public:
  explicit SignalState(bool forward) {
    sigemptyset(&forwarded_);
    if (forward) {
      for (int sig : kForwardedSignals) sigaddset(&forwarded_, sig);
    }
    ::sigprocmask(SIG_BLOCK, &forwarded_, &saved_mask_);
    // With SIGCHLD ignored the kernel would reap the init for us and take its status away.
    struct sigaction current {};
    ::sigaction(SIGCHLD, nullptr, &current);
    if (current.sa_handler == SIG_IGN) {
      restore_sigchld_ = true;
      saved_sigchld_ = current;
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      ::sigaction(SIGCHLD, &dfl, nullptr);
    }
  }
  ~SignalState() {
    // Signals that arrived for forwarding were consumed by the signalfd; drain the rest so
    // unblocking does not deliver them to the supervisor.
    struct timespec zero {};
    while (drain_ && !sigisemptyset(&forwarded_) &&
           ::sigtimedwait(&forwarded_, nullptr, &zero) > 0) {
    }
    ::sigprocmask(SIG_SETMASK, &saved_mask_, nullptr);
    if (restore_sigchld_) ::sigaction(SIGCHLD, &saved_sigchld_, nullptr);
  }
  const sigset_t& forwarded() const { return forwarded_; }
  // No sandbox ran: what arrived meanwhile is the supervisor's own, delivered on unblocking.
  void DeliverPending() { drain_ = false; }

 private:
  sigset_t forwarded_;
  sigset_t saved_mask_;
  bool restore_sigchld_ = false;
  bool drain_ = true;
  struct sigaction saved_sigchld_ {};
};

struct Messages {
  bool setup_failed = false;
  StatusMessage setup_error;
  bool final_received = false;
  StatusMessage final_report;
  std::vector<std::size_t> skipped_ops;
  std::vector<kernel::ProtectPlaceholder> placeholders;
  std::string pending;  // bytes of a message not read completely yet

  void Read(int fd) {
    char buffer[sizeof(StatusMessage) * 4];
    for (;;) {
      ssize_t n = ::read(fd, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      pending.append(buffer, static_cast<std::size_t>(n));
      while (pending.size() >= sizeof(StatusMessage)) {
        StatusMessage message;
        std::memcpy(&message, pending.data(), sizeof message);
        pending.erase(0, sizeof message);
        message.step[sizeof message.step - 1] = '\0';
        message.path[sizeof message.path - 1] = '\0';
        Take(message);
      }
    }
  }

  void Take(const StatusMessage& message) {
    switch (message.type) {
      case StatusMessageType::kSetupError:
        if (!setup_failed) {
          setup_failed = true;
          setup_error = message;
        }
        break;
      case StatusMessageType::kSkippedOps:
        for (std::size_t i = 0;
             i < message.index && (i + 1) * sizeof(std::uint32_t) <= sizeof message.path; ++i) {
          std::uint32_t index;
          std::memcpy(&index, message.path + i * sizeof index, sizeof index);
          skipped_ops.push_back(index);
        }
        break;
      case StatusMessageType::kPlaceholder:
        placeholders.push_back(
            {message.path, static_cast<dev_t>(message.device), static_cast<ino_t>(message.inode)});
        break;
      case StatusMessageType::kFinal:
        final_received = true;
        final_report = message;
        break;
    }
  }
};

int StartWallTimer(std::uint64_t seconds) {
  int fd = ::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
  if (fd < 0) return -1;
  struct itimerspec spec {};
  spec.it_value.tv_sec = static_cast<time_t>(seconds);
  ::timerfd_settime(fd, 0, &spec, nullptr);
  return fd;
}

void AddToEpoll(int epoll_fd, int fd) {
  if (fd < 0) return;
  struct epoll_event event {};
  event.events = EPOLLIN;
  event.data.fd = fd;
  ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &event);
}

// ---------------------------------------------------------------- cloning the init

// The supervisor's side of a cloned init.
struct InitHandle {
  pid_t pid = -1;
  int pidfd = -1;
  int status_read = -1;
  int sync_write = -1;  // release byte, then the setup, then the seccomp program
  pid_t netns_helper = -1;
  int notify_read = -1;     // audited runs: where the command's seccomp listener arrives
  int broker_channel = -1;  // the broker's listener, then the tool spawner (tool_spawner.h)
  // The sandbox's pid namespace (stat of /proc/PID/ns/pid), taken while the init is still
  // dumpable: the broker tells its callers by it.
  dev_t pid_ns_dev = 0;
  ino_t pid_ns_ino = 0;
  Status error = Status::Ok();  // the init could not be cloned (pid < 0)
  int clone_errno = 0;          // when clone3 itself failed
  Status maps = Status::Ok();   // the id maps could not be written: the init was killed
};

void CloseIfOpen(int* fd) {
  if (*fd >= 0) ::close(*fd);
  *fd = -1;
}

// The network helper is reaped as soon as it is done: as a zombie it would still count against
// the sandbox user's RLIMIT_NPROC (it joined the sandbox's user namespace).
void ReapNetworkHelper(InitHandle* init) {
  if (init->netns_helper <= 0) return;
  while (::waitpid(init->netns_helper, nullptr, 0) < 0 && errno == EINTR) {
  }
  init->netns_helper = -1;
}

// Clones the init (into `cgroup_fd` unless -1), forks the network helper when `network_helper`
// (it starts on the namespace when the init lets it, see netns.h), writes the id maps and
// releases the init.
// The caller checks error, then maps.
InitHandle CloneInit(InitStart start, int cgroup_fd, bool network_helper) {
  InitHandle h;
  int status_pipe[2];
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) {
    h.error = Status::Fail("pipe2", {}, errno);
    return h;
  }
  int sync[2];  // a socket, not a pipe: a send to a dead child fails with EPIPE, no SIGPIPE
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sync) != 0) {
    h.error = Status::Fail("socketpair", {}, errno);
    for (int fd : status_pipe) ::close(fd);
    return h;
  }
  int netns_socket[2] = {-1, -1};
  if (network_helper &&
      ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, netns_socket) != 0) {
    h.error = Status::Fail("socketpair", {}, errno);
    for (int fd : {status_pipe[0], status_pipe[1], sync[0], sync[1]}) ::close(fd);
    return h;
  }
  // Audited runs: the command sends its seccomp listener over this socket (seccomp_observer.h).
  int notify_socket[2] = {-1, -1};
  if (start.seccomp_listener &&
      ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, notify_socket) != 0) {
    h.error = Status::Fail("socketpair", {}, errno);
    for (int fd :
         {status_pipe[0], status_pipe[1], sync[0], sync[1], netns_socket[0], netns_socket[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return h;
  }
  // Always made: an init cloned early does not know yet whether its plan mediates tools.
  int broker_socket[2] = {-1, -1};
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, broker_socket) != 0) {
    h.error = Status::Fail("socketpair", {}, errno);
    for (int fd : {status_pipe[0], status_pipe[1], sync[0], sync[1], netns_socket[0],
                   netns_socket[1], notify_socket[0], notify_socket[1]}) {
      if (fd >= 0) ::close(fd);
    }
    return h;
  }
  start.broker_channel = broker_socket[1];
  start.notify_send = notify_socket[1];
  start.status_write = status_pipe[1];
  start.sync_read = sync[1];
  start.netns_read = netns_socket[1];
  start.supervisor_pidfd = static_cast<int>(::syscall(SYS_pidfd_open, ::getpid(), 0));

  kernel::LaunchTrace("clone3");
  struct clone_args args {};
  args.flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
               CLONE_NEWCGROUP | CLONE_PIDFD;
  if (cgroup_fd >= 0) {
    args.flags |= CLONE_INTO_CGROUP;
    args.cgroup = static_cast<std::uint64_t>(cgroup_fd);
  }
  args.pidfd = reinterpret_cast<std::uint64_t>(&h.pidfd);
  args.exit_signal = SIGCHLD;
  long child = ::syscall(SYS_clone3, &args, sizeof args);
  if (child == 0) ChildMain(start);  // never returns
  int clone_errno = errno;
  kernel::LaunchTrace("clone3 returned");
  ::close(status_pipe[1]);
  ::close(sync[1]);
  if (notify_socket[1] >= 0) ::close(notify_socket[1]);
  ::close(broker_socket[1]);
  if (child > 0) {
    struct stat ns {};
    std::string path = "/proc/" + std::to_string(child) + "/ns/pid";
    if (::stat(path.c_str(), &ns) == 0) {
      h.pid_ns_dev = ns.st_dev;
      h.pid_ns_ino = ns.st_ino;
    }
  }
  if (network_helper) {
    if (child > 0) {
      // Opened now, while the child still waits for its maps and is still dumpable.
      std::string path = "/proc/" + std::to_string(child) + "/ns/user";
      int user_ns = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      h.netns_helper = ::fork();
      if (h.netns_helper == 0) kernel::CreateNetworkNamespaceFor(user_ns, netns_socket[0]);
      if (user_ns >= 0) ::close(user_ns);
    }
    // Without a helper the init reads EOF and fails closed.
    ::close(netns_socket[0]);
    ::close(netns_socket[1]);
  }
  if (start.supervisor_pidfd >= 0) ::close(start.supervisor_pidfd);
  if (child < 0) {
    ::close(status_pipe[0]);
    ::close(sync[0]);
    if (notify_socket[0] >= 0) ::close(notify_socket[0]);
    ::close(broker_socket[0]);
    h.clone_errno = clone_errno;
    h.error = Status::Fail("clone3", {}, clone_errno);
    return h;
  }
  h.pid = static_cast<pid_t>(child);
  h.status_read = status_pipe[0];
  h.sync_write = sync[0];
  h.notify_read = notify_socket[0];
  h.broker_channel = broker_socket[0];

  h.maps = kernel::WriteIdMaps(h.pid, start.host_uid, start.host_gid, ::geteuid() == 0);
  if (h.maps.ok) {
    if (::send(h.sync_write, &kReleaseByte, 1, MSG_NOSIGNAL) != 1) {
      // The child is already gone; the event loop collects whatever it reported.
    }
  } else {
    ::syscall(SYS_pidfd_send_signal, h.pidfd, SIGKILL, nullptr, 0);
  }
  kernel::LaunchTrace("maps written");
  return h;
}

// An init that will never get its plan: killed, reaped, with its helper.
void AbandonInit(InitHandle* init) {
  CloseIfOpen(&init->sync_write);
  if (init->pid > 0) {
    ::syscall(SYS_pidfd_send_signal, init->pidfd, SIGKILL, nullptr, 0);
    while (::waitpid(init->pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    init->pid = -1;
  }
  ReapNetworkHelper(init);
  CloseIfOpen(&init->pidfd);
  CloseIfOpen(&init->status_read);
  CloseIfOpen(&init->notify_read);
  CloseIfOpen(&init->broker_channel);
}

// A prepared sandbox's command process says it is ready (kReadyByte) on the sync socket. False
// when the sandbox ended instead (a setup error: the event loop collects its report).
bool WaitForSandboxReady(const InitHandle& init) {
  struct pollfd fds[2] = {{init.sync_write, POLLIN, 0}, {init.pidfd, POLLIN, 0}};
  for (;;) {
    int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || !(fds[0].revents & POLLIN)) return false;
    char byte = 0;
    ssize_t got = ::recv(init.sync_write, &byte, 1, 0);
    if (got < 0 && errno == EINTR) continue;
    return got == 1 && byte == kReadyByte;
  }
}

}  // namespace

// ---------------------------------------------------------------- ids

SandboxIds ChooseSandboxIds(const std::string& workspace, long requested_uid) {
  if (::geteuid() != 0) return {::getuid(), ::getgid(), "the invoking user"};
  // The group is always the chosen user's primary group, never a file's group: a workspace in a
  // privileged group (shadow, adm, a setgid parent's) must not hand that group to the sandbox.
  auto primary_gid = [](uid_t uid) -> gid_t {
    struct passwd* pw = ::getpwuid(uid);
    return pw && pw->pw_gid != 0 ? pw->pw_gid : static_cast<gid_t>(65534);
  };
  if (requested_uid > 0) {
    uid_t uid = static_cast<uid_t>(requested_uid);
    return {uid, primary_gid(uid), "requested with --sandbox-uid"};
  }
  struct stat st {};
  if (!workspace.empty() && ::stat(workspace.c_str(), &st) == 0 && st.st_uid != 0) {
    return {st.st_uid, primary_gid(st.st_uid), "the owner of the workspace " + workspace};
  }
  const char* sudo_uid = std::getenv("SUDO_UID");
  if (sudo_uid && std::atol(sudo_uid) > 0) {
    uid_t uid = static_cast<uid_t>(std::atol(sudo_uid));
    return {uid, primary_gid(uid), "SUDO_UID of the user who ran sudo"};
  }
  return {65534, 65534,
          requested_uid == 0 ? "nobody (uid 0 was requested; the sandbox never runs as host root)"
                             : "nobody (root supervisor, root-owned workspace, no SUDO_UID)"};
}

// ---------------------------------------------------------------- early clone

struct EarlySandbox::Impl {
  explicit Impl(const InitStart& init_start)
      : start(init_start), signals(init_start.forward_signals) {}
  InitStart start;
  SignalState signals;  // blocked from before the clone, as in a launch that clones late
  InitHandle init;
};

EarlySandbox::EarlySandbox(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

EarlySandbox::~EarlySandbox() {
  if (impl_->init.pid < 0 && impl_->init.netns_helper < 0) return;  // Launch() took it
  AbandonInit(&impl_->init);
  impl_->signals.DeliverPending();
}

std::unique_ptr<EarlySandbox> StartEarlySandbox(uid_t host_uid, gid_t host_gid,
                                                bool forward_signals, bool seccomp_listener) {
  auto impl = std::make_unique<EarlySandbox::Impl>(
      InitStartFor(host_uid, host_gid, forward_signals, seccomp_listener));
  if (host_uid == 0 || host_gid == 0) {
    // Launch() refuses these ids; never write a map that makes root inside host root.
    impl->init.error = Status::Fail("choose sandbox ids", {}, EPERM);
  } else {
    impl->init = CloneInit(impl->start, /*cgroup_fd=*/-1, /*network_helper=*/true);
  }
  return std::make_unique<EarlySandbox>(std::move(impl));
}

// ---------------------------------------------------------------- Launch

RunResult Launch(const LaunchOptions& options, std::unique_ptr<EarlySandbox> early) {
  auto start = std::chrono::steady_clock::now();
  const policy::SandboxPlan& plan = options.plan;
  const bool deferred = static_cast<bool>(options.await_command);

  // ---- prepare everything the sandbox side needs
  if (!deferred && options.argv.empty())
    return SetupError(Status::Fail("prepare", {}, EINVAL), "no command to run");
  if (options.host_uid == 0 || options.host_gid == 0) {
    return SetupError(Status::Fail("choose sandbox ids", {}, EPERM),
                      "refusing to run the sandbox as host uid/gid 0; choose an unprivileged id");
  }
  // Audited runs: denials and execs go through the supervisor, which records them first.
  const bool observe = options.audit != nullptr && options.audit_observe;
  std::optional<policy::SeccompPlan> observed_seccomp;
  if (observe)
    observed_seccomp = policy::ObserveSeccompPlan(plan.seccomp, options.audit_files,
                                                  plan.network.mode == policy::NetworkMode::kHost);
  const InitStart init_start =
      InitStartFor(options.host_uid, options.host_gid, options.forward_signals, observe);
  // An early init made with other ids or settings is not this launch's.
  if (early && !SameStart(early->impl().start, init_start)) early.reset();

  kernel::CgroupV2Probe cgroup_probe;
  bool wants_cgroup = plan.limits.Get(LimitKind::kMemory) || plan.limits.Get(LimitKind::kProcesses);
  if (wants_cgroup)
    cgroup_probe = options.cgroup_probe ? *options.cgroup_probe : kernel::ProbeCgroupV2();
  kernel::SandboxSetup setup;
  kernel::LimitSetup limits = kernel::PlanLimits(plan.limits, plan.mounts, cgroup_probe);
  std::vector<LimitEnforcement> enforcement;
  for (const auto& m : limits.mechanisms)
    enforcement.push_back({m.kind, m.value, m.mechanism, m.enforced});
  auto with_enforcement = [&enforcement](RunResult result) {
    result.enforcement = enforcement;
    return result;
  };
  if (plan.limits.require_enforced) {
    for (const auto& m : limits.mechanisms) {
      if (!m.enforced) {
        return with_enforcement(SetupError(Status::Fail("enforce limits", {}, ENOTSUP),
                                           std::string("the ") + policy::LimitName(m.kind) +
                                               " limit cannot be enforced here (" + m.mechanism +
                                               ") and --require-limits was given"));
      }
    }
  }
  setup.landlock_abi =
      plan.landlock.mode == policy::LandlockMode::kOff ? 0 : kernel::LandlockAbiVersion();
  if (plan.landlock.mode == policy::LandlockMode::kRequire && setup.landlock_abi == 0) {
    return with_enforcement(
        SetupError(Status::Fail("landlock", {}, EOPNOTSUPP),
                   "the profile requires Landlock, and this kernel does not offer it "
                   "(CONFIG_SECURITY_LANDLOCK and lsm=landlock are needed)"));
  }
  // CLONE_INTO_CGROUP happens at the clone: an init cloned early cannot join the cgroup after.
  if (early && limits.use_cgroup) early.reset();
  setup.mounts = plan.mounts;
  setup.cwd = plan.cwd;
  setup.hostname = plan.hostname;
  setup.new_network_namespace = plan.network.new_namespace;
  setup.proxy_listeners = plan.network.mode == policy::NetworkMode::kProxy;
  if (setup.proxy_listeners && options.audit == nullptr) {
    return with_enforcement(SetupError(Status::Fail("network proxy", {}, EINVAL),
                                       "network mode proxy records every connection: it needs "
                                       "the audit log"));
  }
  setup.landlock = plan.landlock;
  if (!deferred) setup.exec = kernel::BuildExecSpec(options.argv, plan.env);
  setup.deferred_command = deferred;
  setup.rlimits = limits.rlimits;
  setup.sampling = SamplingFor(plan);

  kernel::SandboxCgroup cgroup;
  if (limits.use_cgroup) {
    if (Status s = kernel::CreateSandboxCgroup(cgroup_probe, plan.limits, &cgroup); !s.ok) {
      kernel::RemoveSandboxCgroup(&cgroup);
      return with_enforcement(SetupError(s));
    }
  }

  std::optional<SignalState> own_signals;
  if (!early) own_signals.emplace(options.forward_signals);
  const SignalState& signals = early ? early->impl().signals : *own_signals;

  // Held for the whole run, from before the init can make a placeholder: concurrent runs on one
  // workspace share protect placeholders.
  std::optional<PlaceholderLedger> ledger;
  if (std::any_of(plan.mounts.ops.begin(), plan.mounts.ops.end(), [](const policy::MountOp& op) {
        return op.kind == policy::MountOpKind::kProtect;
      })) {
    ledger.emplace(kernel::HostPathForSandboxPath(plan.mounts, plan.cwd));
  }

  // ---- the init: cloned early, or now (it becomes pid 1 of the new namespaces)
  InitHandle init;
  if (early) {
    init = std::exchange(early->impl().init, InitHandle{});
    // Cloned before the audit log existed: its batch-sync thread may start now (writer.h).
    if (options.audit != nullptr) options.audit->ResumeBackgroundSync();
  } else {
    // The child is a fork-like copy: no other thread may exist now (the audit log's batch sync).
    if (options.audit != nullptr) options.audit->SuspendBackgroundSync();
    init = CloneInit(init_start, cgroup.dir_fd, plan.network.new_namespace);
    if (options.audit != nullptr) options.audit->ResumeBackgroundSync();
  }
  RunResult result;
  result.enforcement = enforcement;
  if (init.pid < 0) {
    ReapNetworkHelper(&init);
    kernel::RemoveSandboxCgroup(&cgroup);
    result = SetupError(init.error, init.clone_errno == 0
                                        ? std::string()
                                        : kernel::ExplainNamespaceFailure(
                                              init.clone_errno, kernel::ProbeKernelFeatures()));
    result.enforcement = enforcement;
    return result;
  }
  const pid_t init_pid = init.pid;

  // ---- the plan to the init; the seccomp filter is compiled while it builds its view
  Status seccomp = Status::Ok();
  if (init.maps.ok) {
    if (!SendSetup(init.sync_write, kernel::EncodeSandboxSetup(setup))) {
      // The child is already gone; the event loop below collects whatever it reported.
    }
    kernel::LaunchTrace("setup sent");
    std::vector<sock_filter> filter;
    seccomp =
        kernel::CompileSeccompFilter(observed_seccomp ? *observed_seccomp : plan.seccomp, &filter);
    if (!seccomp.ok)
      ::syscall(SYS_pidfd_send_signal, init.pidfd, SIGKILL, nullptr, 0);
    else if (!SendSeccompProgram(init.sync_write, filter)) {
      // The child is gone: the event loop collects whatever it reported.
    }
  }
  kernel::LaunchTrace("seccomp sent");
  ReapNetworkHelper(&init);
  // ---- a prepared sandbox: the command line, once the command process waits for it
  int control_fd = -1;
  bool client_gone = false;
  if (deferred && init.maps.ok && seccomp.ok && WaitForSandboxReady(init)) {
    std::optional<DeferredCommand> command = options.await_command();
    kernel::SandboxSetup go;
    if (command) go.exec = kernel::BuildExecSpec(command->argv, plan.env);
    if (command && SendCommand(init.sync_write, kernel::EncodeSandboxSetup(go), command->stdio)) {
      control_fd = command->control_fd;
      start = std::chrono::steady_clock::now();
      kernel::LaunchTrace("command sent");
    } else {
      ::syscall(SYS_pidfd_send_signal, init.pidfd, SIGKILL, nullptr, 0);
    }
  }
  CloseIfOpen(&init.sync_write);

  // ---- event loop: init exit (pidfd), status pipe, signals to forward, wall clock
  ::fcntl(init.status_read, F_SETFL, O_NONBLOCK);
  int epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
  int signal_fd = options.forward_signals
                      ? ::signalfd(-1, &signals.forwarded(), SFD_CLOEXEC | SFD_NONBLOCK)
                      : -1;
  auto wall = plan.limits.Get(LimitKind::kWallSeconds);
  int timer_fd = wall ? StartWallTimer(*wall) : -1;
  AddToEpoll(epoll_fd, init.pidfd);
  AddToEpoll(epoll_fd, init.status_read);
  AddToEpoll(epoll_fd, signal_fd);
  AddToEpoll(epoll_fd, timer_fd);
  AddToEpoll(epoll_fd, init.notify_read);
  AddToEpoll(epoll_fd, control_fd);
  ::fcntl(init.broker_channel, F_SETFL, O_NONBLOCK);
  AddToEpoll(epoll_fd, init.broker_channel);
  bool broker_listener_received = false;
  std::optional<ToolBroker> broker;
  if (!options.tool_paths.empty()) {
    BrokerOptions broker_options;
    broker_options.tools = &plan.tools;
    broker_options.paths = options.tool_paths;
    broker_options.profile = plan.profile_name;
    broker_options.audit = options.audit;
    broker_options.pid_ns_dev = init.pid_ns_dev;
    broker_options.pid_ns_ino = init.pid_ns_ino;
    broker_options.ask_is_deny = options.ask_is_deny;
    broker_options.run = options.run_id.empty() ? std::to_string(::getpid()) : options.run_id;
    broker_options.approval_timeout = options.approval_timeout;
    broker_options.mounts = &plan.mounts;
    broker_options.host_uid = options.host_uid;
    broker_options.host_gid = options.host_gid;
    broker_options.notify = [](const std::string& line) {
      std::string text = line + "\n";
      (void)!::write(STDERR_FILENO, text.data(), text.size());
    };
    broker.emplace(std::move(broker_options), epoll_fd, init.broker_channel);
    // Every call passes four fds through the supervisor: the kernel counts fds in flight per
    // user against the sender's open-file limit (ETOOMANYREFS), so a burst of calls needs the
    // hard limit, not the soft one. The sandbox was cloned with the limit as it was.
    struct rlimit files {};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
      files.rlim_cur = files.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &files);
    }
  }
  std::optional<net::NetworkProxy> proxy;
  if (setup.proxy_listeners) {
    // Two fds per proxied connection: the limit the profile allows needs the hard limit.
    struct rlimit files {};
    if (::getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
      files.rlim_cur = files.rlim_max;
      ::setrlimit(RLIMIT_NOFILE, &files);
    }
    net::ProxyOptions proxy_options;
    proxy_options.network = &plan.network;
    proxy_options.profile = plan.profile_name;
    proxy_options.audit = options.audit;
    proxy.emplace(std::move(proxy_options), epoll_fd);
  }
  int listener = -1;
  std::optional<SeccompObserver> observer;
  if (observe)
    observer.emplace(options.audit, &*observed_seccomp, options.audit_files ? &plan : nullptr);
  bool audit_failed = false;

  Messages messages;
  bool init_exited = false;
  bool timed_out = false;
  // With skip_teardown_wait, the init's final report ends the loop: it is written after every
  // other process of the sandbox was killed and reaped.
  const bool stop_at_report = options.skip_teardown_wait && cgroup.dir_fd < 0;
  while (!init_exited && !(stop_at_report && messages.final_received)) {
    struct epoll_event events[32];
    int n = ::epoll_wait(epoll_fd, events, 32, -1);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == init.pidfd) {
        init_exited = true;
      } else if (fd == init.status_read) {
        messages.Read(fd);
      } else if (fd == signal_fd) {
        struct signalfd_siginfo info;
        while (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
          // Terminal signals (SI_KERNEL: ^C, window resize) already reach the command through
          // the foreground process group; forwarding them too would deliver them twice.
          if (info.ssi_code == SI_KERNEL) continue;
          ::syscall(SYS_pidfd_send_signal, init.pidfd, static_cast<int>(info.ssi_signo), nullptr,
                    0);
        }
      } else if (fd == control_fd) {
        // Whoever waits for a prepared sandbox's run: signals to forward, or gone.
        unsigned char numbers[64];
        ssize_t got = ::read(control_fd, numbers, sizeof numbers);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (got <= 0) {
          client_gone = true;
          ::syscall(SYS_pidfd_send_signal, init.pidfd, SIGKILL, nullptr, 0);
          ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, control_fd, nullptr);
          continue;
        }
        for (ssize_t k = 0; k < got; ++k) {
          if (sigismember(&signals.forwarded(), numbers[k]) == 1)
            ::syscall(SYS_pidfd_send_signal, init.pidfd, static_cast<int>(numbers[k]), nullptr, 0);
        }
      } else if (fd == timer_fd) {
        timed_out = true;
        ::syscall(SYS_pidfd_send_signal, init.pidfd, SIGKILL, nullptr, 0);
      } else if (fd == init.broker_channel && !broker_listener_received) {
        // The init's listening sockets, once (see Handover); EOF when it has none.
        broker_listener_received = true;
        std::uint8_t flags = 0;
        int fds[3] = {-1, -1, -1};
        int count = 0;
        std::size_t received = 0;
        (void)::fcntl(fd, F_SETFL, 0);
        if (!kernel::ReceiveWithFds(fd, &flags, 1, &received, fds, 3, &count).ok || received != 1)
          count = 0;
        int next = 0;
        auto take = [&](std::uint8_t flag) {
          return (flags & flag) && next < count ? fds[next++] : -1;
        };
        int broker_listener = take(kHandoverBroker);
        int http_listener = take(kHandoverHttpProxy);
        int socks_listener = take(kHandoverSocksProxy);
        if (broker_listener >= 0 && broker) {
          broker->SetListener(broker_listener);
        } else {
          if (broker_listener >= 0) ::close(broker_listener);
          ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
        }
        if (proxy) {
          proxy->SetListeners(http_listener, socks_listener);
        } else {
          for (int extra : {http_listener, socks_listener})
            if (extra >= 0) ::close(extra);
        }
        (void)::fcntl(fd, F_SETFL, O_NONBLOCK);
      } else if (proxy && proxy->Owns(fd)) {
        if (!proxy->OnReady(fd, events[i].events) && !audit_failed) {
          audit_failed = true;
          ::syscall(SYS_pidfd_send_signal, init.pidfd, SIGKILL, nullptr, 0);
        }
      } else if (broker && broker->Owns(fd)) {
        if (!broker->OnReady(fd, events[i].events) && !audit_failed) {
          audit_failed = true;
          ::syscall(SYS_pidfd_send_signal, init.pidfd, SIGKILL, nullptr, 0);
        }
      } else if (fd == init.notify_read) {
        // The command's seccomp listener, once; EOF when the sandbox ended without sending one.
        if (kernel::ReceiveFd(fd, &listener).ok && listener >= 0) AddToEpoll(epoll_fd, listener);
        ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
      } else if (fd == listener) {
        if (events[i].events & EPOLLIN) {
          if (!observer->OnListenerReadable(listener) && !audit_failed) {
            // No record, no action: the sandbox stops with the action it asked for refused.
            audit_failed = true;
            ::syscall(SYS_pidfd_send_signal, init.pidfd, SIGKILL, nullptr, 0);
          }
        } else {  // EPOLLHUP: every process under the filter is gone
          ::epoll_ctl(epoll_fd, EPOLL_CTL_DEL, fd, nullptr);
        }
      }
    }
    // Fds the proxy gave up during this batch are closed only now: an event of the batch for
    // such a number must not reach the next owner of the number.
    if (proxy) proxy->EndOfBatch();
  }
  kernel::LaunchTrace("loop done");
  int wait_status = 0;
  struct rusage usage {};
  if (!(stop_at_report && messages.final_received)) {
    while (::wait4(init_pid, &wait_status, 0, &usage) < 0 && errno == EINTR) {
    }
    messages.Read(init.status_read);  // the final report was written before the init exited
  }
  broker.reset();
  proxy.reset();
  for (int fd : {epoll_fd, signal_fd, timer_fd, init.pidfd, init.status_read, init.notify_read,
                 init.broker_channel, listener}) {
    if (fd >= 0) ::close(fd);
  }

  // ---- after the run: nothing of the sandbox is alive any more
  if (ledger) {
    std::vector<HostPlaceholder> made;
    for (const auto& placeholder : messages.placeholders) {
      std::string host = kernel::HostPathForSandboxPath(plan.mounts, placeholder.sandbox_path);
      if (!host.empty()) made.push_back({host, placeholder.device, placeholder.inode});
    }
    ledger->Finish(made);
  }
  bool cgroup_memory_hit = false;
  bool cgroup_processes_hit = false;
  if (cgroup.dir_fd >= 0)
    kernel::ReadCgroupLimitEvents(cgroup, &cgroup_memory_hit, &cgroup_processes_hit);
  kernel::RemoveSandboxCgroup(&cgroup);

  // ---- the result
  if (audit_failed) {
    result.status = RunStatus::kAuditFailed;
    result.reason = "the audit log could not be written (" + options.audit->failure() +
                    "); the sandbox was stopped";
  } else if (!init.maps.ok) {
    result = SetupError(init.maps);
  } else if (!seccomp.ok) {
    result = SetupError(seccomp);
  } else if (messages.setup_failed) {
    const StatusMessage& e = messages.setup_error;
    result = SetupError(Status::Fail(e.step, e.path, e.error));
  } else if (client_gone && !messages.final_received) {
    result.status = RunStatus::kSignaled;
    result.signal = SIGKILL;
    result.reason = "whoever waited for this prepared run went away: the sandbox was killed";
  } else if (timed_out) {
    result.status = RunStatus::kTimeout;
    result.reason = "the wall-clock limit of " + std::to_string(*wall) + " s ended the run";
  } else if (messages.final_received) {
    int st = messages.final_report.wait_status;
    if (WIFSIGNALED(st)) {
      result.status = RunStatus::kSignaled;
      result.signal = WTERMSIG(st);
      result.reason =
          std::string("the command was ended by signal ") + ::sigabbrev_np(result.signal);
    } else {
      result.status = RunStatus::kExited;
      result.exit_code = WEXITSTATUS(st);
      result.reason = "the command exited with status " + std::to_string(result.exit_code);
    }
  } else {
    result.status = RunStatus::kInternalError;
    result.reason = WIFSIGNALED(wait_status)
                        ? std::string("the sandbox init was killed by signal ") +
                              ::sigabbrev_np(WTERMSIG(wait_status))
                        : "the sandbox init ended without a report (status " +
                              std::to_string(WEXITSTATUS(wait_status)) + ")";
  }
  result.enforcement = enforcement;
  result.landlock_abi = result.status == RunStatus::kSetupError ? 0 : setup.landlock_abi;
  if (plan.landlock.mode == policy::LandlockMode::kOff) result.landlock_abi = 0;
  std::uint32_t hits = messages.final_received ? messages.final_report.limits_hit : 0;
  if (timed_out) hits |= 1u << static_cast<unsigned>(LimitKind::kWallSeconds);
  if (cgroup_memory_hit) hits |= 1u << static_cast<unsigned>(LimitKind::kMemory);
  if (cgroup_processes_hit) hits |= 1u << static_cast<unsigned>(LimitKind::kProcesses);
  for (unsigned kind = 0; kind <= static_cast<unsigned>(LimitKind::kTmpfs); ++kind) {
    if (hits & (1u << kind)) result.limits_hit.push_back(static_cast<LimitKind>(kind));
  }
  for (std::size_t index : messages.skipped_ops) {
    if (index < plan.mounts.ops.size()) {
      const policy::MountOp& op = plan.mounts.ops[index];
      result.skipped_mounts.push_back(op.target +
                                      (op.source.empty() ? "" : " (from " + op.source + ")"));
    }
  }
  if (messages.final_received) {
    // What the init reaped: the command and its descendants, without the init's own share.
    const StatusMessage& report = messages.final_report;
    result.usage.user_seconds = static_cast<double>(report.user_usec) / 1e6;
    result.usage.system_seconds = static_cast<double>(report.system_usec) / 1e6;
    result.usage.max_rss_kib = report.max_rss_kib;
  } else {
    result.usage.user_seconds = Seconds(usage.ru_utime);
    result.usage.system_seconds = Seconds(usage.ru_stime);
    result.usage.max_rss_kib = static_cast<std::uint64_t>(usage.ru_maxrss);
  }
  result.usage.wall_seconds = SecondsSince(start);
  return result;
}

}  // namespace tollgate
