#include "supervisor/net/resolver.h"

#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <system_error>
#include <thread>
#include <utility>

namespace tollgate::net {

struct Resolver::Shared {
  std::mutex mutex;
  std::condition_variable work;
  std::deque<std::pair<std::uint64_t, std::string>> queue;
  std::vector<ResolveAnswer> answers;
  bool stopping = false;
  int event_fd = -1;

  Shared() { event_fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); }
  ~Shared() {
    if (event_fd >= 0) ::close(event_fd);
  }
};

namespace {

ResolveAnswer Lookup(std::uint64_t id, const std::string& name) {
  ResolveAnswer answer;
  answer.id = id;
  struct addrinfo hints {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  // Not AI_ADDRCONFIG: whether the host has IPv6 is decided by the connect, and the checks must
  // see every address the name has.
  struct addrinfo* list = nullptr;
  answer.error = ::getaddrinfo(name.c_str(), nullptr, &hints, &list);
  if (answer.error != 0) return answer;
  for (struct addrinfo* entry = list; entry != nullptr; entry = entry->ai_next) {
    policy::IpAddress address;
    if (entry->ai_family == AF_INET) {
      const auto* v4 = reinterpret_cast<const struct sockaddr_in*>(entry->ai_addr);
      std::memcpy(address.bytes.data(), &v4->sin_addr, 4);
    } else if (entry->ai_family == AF_INET6) {
      const auto* v6 = reinterpret_cast<const struct sockaddr_in6*>(entry->ai_addr);
      address.v6 = true;
      std::memcpy(address.bytes.data(), &v6->sin6_addr, 16);
    } else {
      continue;
    }
    if (std::find(answer.addresses.begin(), answer.addresses.end(), address) ==
        answer.addresses.end())
      answer.addresses.push_back(address);
  }
  ::freeaddrinfo(list);
  return answer;
}

void Work(std::shared_ptr<Resolver::Shared> shared) {
  // The name asked for is the name resolved: no search domains, no appended default domain
  // (with "search corp.example", an unknown allowed name would otherwise resolve as
  // NAME.corp.example, another host). _res is per thread.
  if (::res_init() == 0) _res.options &= ~static_cast<unsigned long>(RES_DNSRCH | RES_DEFNAMES);
  for (;;) {
    std::pair<std::uint64_t, std::string> job;
    {
      std::unique_lock lock(shared->mutex);
      shared->work.wait(lock, [&] { return shared->stopping || !shared->queue.empty(); });
      if (shared->stopping) return;
      job = std::move(shared->queue.front());
      shared->queue.pop_front();
    }
    ResolveAnswer answer = Lookup(job.first, job.second);
    std::lock_guard lock(shared->mutex);
    if (shared->stopping) return;
    shared->answers.push_back(std::move(answer));
    std::uint64_t one = 1;
    (void)!::write(shared->event_fd, &one, sizeof one);
  }
}

}  // namespace

Resolver::Resolver(int workers) : shared_(std::make_shared<Shared>()), workers_(workers) {}

Resolver::~Resolver() {
  {
    std::lock_guard lock(shared_->mutex);
    shared_->stopping = true;
  }
  shared_->work.notify_all();
}

int Resolver::fd() const {
  return shared_->event_fd;
}

void Resolver::Resolve(std::uint64_t id, std::string name) {
  // Threads start with the first name: most runs never resolve one.
  std::size_t waiting;
  {
    std::lock_guard lock(shared_->mutex);
    shared_->queue.emplace_back(id, std::move(name));
    waiting = shared_->queue.size();
  }
  if (started_ < workers_ && waiting > 0) {
    try {
      std::thread(Work, shared_).detach();
      ++started_;
    } catch (const std::system_error&) {
      // No thread: with none running, the name is answered as a temporary failure.
      if (started_ == 0) {
        std::lock_guard lock(shared_->mutex);
        shared_->queue.pop_back();
        shared_->answers.push_back(ResolveAnswer{id, EAI_AGAIN, {}});
        std::uint64_t one = 1;
        (void)!::write(shared_->event_fd, &one, sizeof one);
        return;
      }
    }
  }
  shared_->work.notify_one();
}

void Resolver::Cancel(std::uint64_t id) {
  std::lock_guard lock(shared_->mutex);
  auto& queue = shared_->queue;
  queue.erase(
      std::remove_if(queue.begin(), queue.end(), [id](const auto& job) { return job.first == id; }),
      queue.end());
}

std::vector<ResolveAnswer> Resolver::TakeAnswers() {
  std::uint64_t count;
  (void)!::read(shared_->event_fd, &count, sizeof count);
  std::lock_guard lock(shared_->mutex);
  return std::exchange(shared_->answers, {});
}

}  // namespace tollgate::net
