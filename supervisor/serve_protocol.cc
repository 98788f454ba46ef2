#include "supervisor/serve_protocol.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "supervisor/audit/record.h"
#include "supervisor/kernel/fd_passing.h"
#include "supervisor/kernel/wire_codec.h"

extern char** environ;

namespace tollgate::serve {
namespace {

void PutKey(kernel::Writer& w, const RunRequest& request) {
  w.PutString(request.executable);
  w.PutStrings(request.options);
  w.PutString(request.cwd);
  w.PutStrings(request.env);
  w.Put<std::uint8_t>(request.stderr_is_terminal);
}

}  // namespace

RunRequest RequestOfThisProcess(const std::vector<std::string>& options, bool stderr_is_terminal,
                                const std::vector<std::string>& command) {
  RunRequest request;
  request.executable = ExecutableIdentity();
  request.options = options;
  char cwd[4096];
  if (::getcwd(cwd, sizeof cwd) != nullptr) request.cwd = cwd;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry)
    request.env.emplace_back(*entry);
  request.stderr_is_terminal = stderr_is_terminal;
  request.command = command;
  return request;
}

std::string EncodeRequest(const RunRequest& request) {
  kernel::Writer w;
  PutKey(w, request);
  w.PutStrings(request.command);
  return w.Take();
}

bool DecodeRequest(std::string_view bytes, RunRequest* request) {
  kernel::Reader r(bytes);
  return r.GetString(&request->executable) && r.GetStrings(&request->options) &&
         r.GetString(&request->cwd) && r.GetStrings(&request->env) &&
         r.GetBool(&request->stderr_is_terminal) && r.GetStrings(&request->command) && r.AtEnd();
}

std::string RequestKey(const RunRequest& request) {
  kernel::Writer w;
  PutKey(w, request);
  return audit::Sha256Hex(w.Take());
}

std::string ExecutableIdentity() {
  struct stat st {};
  if (::stat("/proc/self/exe", &st) != 0) return {};
  return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino) + ":" +
         std::to_string(st.st_size) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
         std::to_string(st.st_mtim.tv_nsec);
}

std::string SocketPath() {
  if (const char* given = std::getenv("TOLLGATE_SERVE_SOCKET"); given != nullptr) {
    std::string path = given;
    return path == "off" ? std::string() : path;
  }
  if (::geteuid() == 0) return "/run/tollgate/serve.sock";
  if (const char* runtime = std::getenv("XDG_RUNTIME_DIR"); runtime && runtime[0] == '/')
    return std::string(runtime) + "/tollgate/serve.sock";
  return "/tmp/tollgate-" + std::to_string(::geteuid()) + "/serve.sock";
}

std::string PreparedSocketPath(const std::string& key, const std::string& server_socket) {
  const std::string server = server_socket.empty() ? SocketPath() : server_socket;
  const std::size_t slash = server.rfind('/');
  if (server.empty() || slash == std::string::npos) return {};
  // Half the digest keeps the path within sun_path; the sandbox checks the whole key.
  return server.substr(0, slash) + "/prepared-" + key.substr(0, 32) + ".sock";
}

bool Reply(int socket, char what, const std::string& text) {
  std::string message(1, what);
  message += text;
  return kernel::SendAll(socket, message.data(), message.size());
}

kernel::Status SendFrame(int socket, const std::string& bytes, const int* fds, int count) {
  std::uint32_t size = static_cast<std::uint32_t>(bytes.size());
  if (count == 0 && !kernel::SendAll(socket, &size, sizeof size))
    return kernel::Status::Fail("send", {}, errno == 0 ? EPIPE : errno);
  kernel::Status status = count == 0 ? kernel::Status::Ok()
                                     : kernel::SendWithFds(socket, &size, sizeof size, fds, count);
  if (!status.ok) return status;
  if (!kernel::SendAll(socket, bytes.data(), bytes.size()))
    return kernel::Status::Fail("send", {}, errno == 0 ? EPIPE : errno);
  return kernel::Status::Ok();
}

bool ReceiveFrame(int socket, std::size_t max_size, std::string* bytes, int* fds, int max_fds,
                  int* fd_count) {
  std::uint32_t size = 0;
  std::size_t received = 0;
  *fd_count = 0;
  if (!kernel::ReceiveWithFds(socket, &size, sizeof size, &received, fds, max_fds, fd_count).ok ||
      received == 0) {
    return false;
  }
  auto close_fds = [&] {
    for (int i = 0; i < *fd_count; ++i) ::close(fds[i]);
    *fd_count = 0;
    return false;
  };
  if (received < sizeof size &&
      !kernel::ReceiveAll(socket, reinterpret_cast<char*>(&size) + received,
                          sizeof size - received)) {
    return close_fds();
  }
  if (size > max_size) return close_fds();
  bytes->assign(size, '\0');
  if (!kernel::ReceiveAll(socket, bytes->data(), size)) return close_fds();
  return true;
}

}  // namespace tollgate::serve
