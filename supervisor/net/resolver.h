// Name resolution for the network proxy, off the supervisor's event loop.
//
// getaddrinfo() blocks, and a DNS server that does not answer holds it for seconds: run on the
// event loop, one such name would stall every tool call and every other connection. So a few
// worker threads resolve, and the loop collects their answers when the eventfd says there are
// some. A worker stuck in getaddrinfo() cannot be cancelled; the proxy's connect timeout gives
// up on the name instead, and a resolver destroyed meanwhile leaves that worker to finish on
// its own (the state they share outlives both).
//
// The proxy resolves each name exactly once and connects to the addresses it checked: the
// answer is the only source of addresses (SECURITY.md 26, DNS rebinding between check and use).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "policy/net_rules.h"

namespace tollgate::net {

struct ResolveAnswer {
  std::uint64_t id = 0;
  int error = 0;                             // 0, or an EAI_* code of getaddrinfo()
  std::vector<policy::IpAddress> addresses;  // in the resolver's order, without duplicates
};

class Resolver {
 public:
  explicit Resolver(int workers = 4);
  ~Resolver();
  Resolver(const Resolver&) = delete;
  Resolver& operator=(const Resolver&) = delete;

  // Readable (EPOLLIN) when answers wait.
  int fd() const;
  // Queues `name` (a normalised host name, never an address literal); its answer carries `id`.
  void Resolve(std::uint64_t id, std::string name);
  // Drops `id`'s name if no worker has taken it yet (its connection ended).
  void Cancel(std::uint64_t id);
  // The answers that arrived, and clears the eventfd.
  std::vector<ResolveAnswer> TakeAnswers();

  struct Shared;  // with the worker threads, which may outlive the resolver

 private:
  std::shared_ptr<Shared> shared_;
  int workers_;
  int started_ = 0;
};

}  // namespace tollgate::net
