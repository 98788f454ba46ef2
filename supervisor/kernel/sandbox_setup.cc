#include "supervisor/kernel/sandbox_setup.h"

#include <cstdint>

#include "supervisor/kernel/wire_codec.h"

namespace tollgate::kernel {
namespace {

void PutMountOp(Writer& w, const policy::MountOp& op) {
  w.Put<std::uint32_t>(static_cast<std::uint32_t>(op.kind));
  w.PutString(op.source);
  w.PutString(op.target);
  w.PutString(op.beneath);
  w.Put<std::uint8_t>(op.writable);
  w.Put<std::uint8_t>(op.exec);
  w.Put<std::uint8_t>(op.device);
  w.Put<std::uint8_t>(op.optional);
  w.Put<std::uint8_t>(op.file);
  w.Put<std::uint8_t>(op.size.has_value());
  w.Put<std::uint64_t>(op.size.value_or(0));
  w.Put<std::uint32_t>(op.mode);
}

bool GetMountOp(Reader& r, policy::MountOp* op) {
  std::uint32_t kind = 0;
  if (!r.Get(&kind) || kind > static_cast<std::uint32_t>(policy::MountOpKind::kShim)) return false;
  op->kind = static_cast<policy::MountOpKind>(kind);
  bool has_size = false;
  std::uint64_t size = 0;
  if (!r.GetString(&op->source) || !r.GetString(&op->target) || !r.GetString(&op->beneath) ||
      !r.GetBool(&op->writable) || !r.GetBool(&op->exec) || !r.GetBool(&op->device) ||
      !r.GetBool(&op->optional) || !r.GetBool(&op->file) || !r.GetBool(&has_size) ||
      !r.Get(&size) || !r.Get(&op->mode)) {
    return false;
  }
  if (has_size) op->size = size;
  return true;
}

// The argv and envp arrays of an ExecSpec whose storage is in place.
void PointIntoStorage(ExecSpec* exec) {
  exec->argv.clear();
  exec->envp.clear();
  for (auto& s : exec->argv_storage) exec->argv.push_back(s.data());
  exec->argv.push_back(nullptr);
  for (auto& s : exec->env_storage) exec->envp.push_back(s.data());
  exec->envp.push_back(nullptr);
}

}  // namespace

std::string EncodeSandboxSetup(const SandboxSetup& setup) {
  Writer w;
  w.Put<std::uint32_t>(static_cast<std::uint32_t>(setup.mounts.ops.size()));
  for (const auto& op : setup.mounts.ops) PutMountOp(w, op);
  w.PutString(setup.cwd);
  w.PutString(setup.hostname);
  w.Put<std::uint8_t>(setup.new_network_namespace);
  w.Put<std::uint8_t>(setup.proxy_listeners);
  w.Put<std::uint8_t>(setup.deferred_command);

  const policy::LandlockPlan& landlock = setup.landlock;
  w.Put<std::uint32_t>(static_cast<std::uint32_t>(landlock.mode));
  w.Put<std::uint32_t>(static_cast<std::uint32_t>(landlock.rules.size()));
  for (const auto& rule : landlock.rules) {
    w.PutString(rule.path);
    w.Put<std::uint32_t>(rule.access);
  }
  w.Put<std::uint8_t>(landlock.deny_tcp);
  w.Put<std::uint8_t>(landlock.scope_abstract_unix);
  w.Put<std::uint8_t>(landlock.scope_signals);
  w.Put<std::int32_t>(setup.landlock_abi);

  w.PutStrings(setup.exec.argv_storage);
  w.PutStrings(setup.exec.env_storage);
  w.PutStrings(setup.exec.candidates);

  w.Put<std::uint32_t>(static_cast<std::uint32_t>(setup.rlimits.count));
  for (std::size_t i = 0; i < setup.rlimits.count; ++i) {
    const RlimitSetting& limit = setup.rlimits.items[i];
    w.Put<std::int32_t>(limit.resource);
    w.Put<std::uint64_t>(limit.soft);
    w.Put<std::uint64_t>(limit.hard);
  }

  const InitSampling& s = setup.sampling;
  w.Put<std::uint64_t>(s.processes);
  w.Put<std::uint64_t>(s.memory_bytes);
  w.Put<std::uint64_t>(s.cpu_seconds);
  w.Put<std::uint8_t>(s.file_size);
  w.PutStrings(s.tmpfs_paths);
  return w.Take();
}

bool DecodeSandboxSetup(std::string_view bytes, SandboxSetup* setup) {
  Reader r(bytes);
  std::uint32_t count = 0;
  // A mount op takes at least its kind, two string lengths, five flags, size and mode.
  if (!r.GetCount(4 + 4 + 4 + 5 + 8 + 4, &count)) return false;
  setup->mounts.ops.assign(count, policy::MountOp{});
  for (auto& op : setup->mounts.ops) {
    if (!GetMountOp(r, &op)) return false;
  }
  if (!r.GetString(&setup->cwd) || !r.GetString(&setup->hostname) ||
      !r.GetBool(&setup->new_network_namespace) || !r.GetBool(&setup->proxy_listeners) ||
      !r.GetBool(&setup->deferred_command)) {
    return false;
  }

  policy::LandlockPlan& landlock = setup->landlock;
  std::uint32_t mode = 0;
  if (!r.Get(&mode) || mode > static_cast<std::uint32_t>(policy::LandlockMode::kOff)) return false;
  landlock.mode = static_cast<policy::LandlockMode>(mode);
  if (!r.GetCount(4 + 4, &count)) return false;
  landlock.rules.assign(count, policy::LandlockRule{});
  for (auto& rule : landlock.rules) {
    if (!r.GetString(&rule.path) || !r.Get(&rule.access)) return false;
  }
  if (!r.GetBool(&landlock.deny_tcp) || !r.GetBool(&landlock.scope_abstract_unix) ||
      !r.GetBool(&landlock.scope_signals) || !r.Get(&setup->landlock_abi)) {
    return false;
  }

  ExecSpec& exec = setup->exec;
  if (!r.GetStrings(&exec.argv_storage) || !r.GetStrings(&exec.env_storage) ||
      !r.GetStrings(&exec.candidates)) {
    return false;
  }
  PointIntoStorage(&exec);

  if (!r.Get(&count) || count > setup->rlimits.items.size()) return false;
  setup->rlimits.count = count;
  for (std::size_t i = 0; i < count; ++i) {
    RlimitSetting& limit = setup->rlimits.items[i];
    std::uint64_t soft = 0;
    std::uint64_t hard = 0;
    if (!r.Get(&limit.resource) || !r.Get(&soft) || !r.Get(&hard)) return false;
    limit.soft = static_cast<rlim_t>(soft);
    limit.hard = static_cast<rlim_t>(hard);
  }

  InitSampling& s = setup->sampling;
  return r.Get(&s.processes) && r.Get(&s.memory_bytes) && r.Get(&s.cpu_seconds) &&
         r.GetBool(&s.file_size) && r.GetStrings(&s.tmpfs_paths) && r.AtEnd();
}

}  // namespace tollgate::kernel
