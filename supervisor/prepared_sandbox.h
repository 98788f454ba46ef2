// The waiting end of a sandbox prepared by `tollgate serve` (docs/SERVE.md): the
// `tollgate run --prepared-fd 3` process, once its sandbox is built, publishes a socket named by
// its configuration's key, tells the server it is ready, and takes the first client that asks.
#pragma once

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "supervisor/serve_protocol.h"

namespace tollgate {

class PreparedSandbox {
 public:
  // For the configuration this process was started with: `options` (tollgate's arguments
  // without the --prepared ones), the working directory, the environment as it is now, and
  // whether the client's stderr is a terminal. Listens at a temporary name next to where the
  // configuration's socket goes. nullptr with `error` when it cannot.
  static std::unique_ptr<PreparedSandbox> Create(int server_fd,
                                                 const std::vector<std::string>& options,
                                                 bool stderr_is_terminal, std::string* error);
  ~PreparedSandbox();
  PreparedSandbox(const PreparedSandbox&) = delete;
  PreparedSandbox& operator=(const PreparedSandbox&) = delete;

  struct Client {
    int connection = -1;  // owned by the caller from here on
    int stdio[3] = {-1, -1, -1};
    serve::RunRequest request;
  };
  // Publishes the socket, says kReady to the server and waits: for a client whose request has
  // this configuration's key (told kTaken to the server), or for the server to let the sandbox
  // go (nullopt). A client of another key, or one that sends no request, is turned away.
  std::optional<Client> Wait();

  // The server is told the sandbox was abandoned because what it was prepared from changed.
  void TellStale();

 private:
  PreparedSandbox() = default;
  // Removes the published name if it is still this sandbox's socket (a later sandbox of the
  // configuration may have been renamed over it).
  void Unpublish();
  int server_fd_ = -1;
  int listener_ = -1;
  std::string key_;
  std::string temporary_path_;
  std::string path_;
  bool published_ = false;
  dev_t published_device_ = 0;
  ino_t published_inode_ = 0;
};

}  // namespace tollgate
