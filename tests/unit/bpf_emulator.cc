#include "tests/unit/bpf_emulator.h"

#include <cstddef>
#include <cstring>

namespace tollgate::emulator {
namespace {

std::string Hex(std::uint32_t value) {
  static const char kDigits[] = "0123456789abcdef";
  std::string text = "0x";
  bool started = false;
  for (int shift = 28; shift >= 0; shift -= 4) {
    unsigned digit = (value >> shift) & 0xf;
    if (digit != 0 || started || shift == 0) {
      text += kDigits[digit];
      started = true;
    }
  }
  return text;
}

BpfVerdict Error(const std::string& what, std::size_t pc) {
  return BpfVerdict{0, what + " at instruction " + std::to_string(pc)};
}

}  // namespace

seccomp_data MakeSeccompData(std::uint32_t arch, int nr, std::vector<std::uint64_t> args) {
  seccomp_data data{};
  data.nr = nr;
  data.arch = arch;
  data.instruction_pointer = 0x401000;
  for (std::size_t i = 0; i < args.size() && i < 6; ++i) data.args[i] = args[i];
  return data;
}

BpfVerdict RunSeccompBpf(const std::vector<sock_filter>& program, const seccomp_data& data) {
  if (program.empty() || program.size() > BPF_MAXINSNS) {
    return BpfVerdict{0, "program length " + std::to_string(program.size())};
  }
  std::uint32_t a = 0;
  std::uint32_t x = 0;
  std::uint32_t scratch[BPF_MEMWORDS] = {};

  std::size_t pc = 0;
  while (pc < program.size()) {
    const sock_filter& insn = program[pc];
    const std::uint16_t code = insn.code;
    std::size_t next = pc + 1;
    switch (code) {
      case BPF_LD | BPF_W | BPF_ABS: {
        // The kernel accepts only aligned 32-bit loads inside struct seccomp_data.
        if (insn.k % 4 != 0 || insn.k + 4 > sizeof(seccomp_data)) {
          return Error("load outside seccomp_data (offset " + std::to_string(insn.k) + ")", pc);
        }
        std::memcpy(&a, reinterpret_cast<const unsigned char*>(&data) + insn.k, sizeof(a));
        break;
      }
      case BPF_LD | BPF_W | BPF_LEN:
        a = sizeof(seccomp_data);
        break;
      case BPF_LDX | BPF_W | BPF_LEN:
        x = sizeof(seccomp_data);
        break;
      case BPF_LD | BPF_IMM:
        a = insn.k;
        break;
      case BPF_LDX | BPF_IMM:
        x = insn.k;
        break;
      case BPF_LD | BPF_MEM:
      case BPF_LDX | BPF_MEM:
      case BPF_ST:
      case BPF_STX:
        if (insn.k >= BPF_MEMWORDS) return Error("scratch slot " + std::to_string(insn.k), pc);
        if (code == (BPF_LD | BPF_MEM)) a = scratch[insn.k];
        if (code == (BPF_LDX | BPF_MEM)) x = scratch[insn.k];
        if (code == BPF_ST) scratch[insn.k] = a;
        if (code == BPF_STX) scratch[insn.k] = x;
        break;
      case BPF_ALU | BPF_AND | BPF_K:
        a &= insn.k;
        break;
      case BPF_ALU | BPF_OR | BPF_K:
        a |= insn.k;
        break;
      case BPF_MISC | BPF_TAX:
        x = a;
        break;
      case BPF_MISC | BPF_TXA:
        a = x;
        break;
      case BPF_JMP | BPF_JA:
        next = pc + 1 + insn.k;
        break;
      case BPF_JMP | BPF_JEQ | BPF_K:
      case BPF_JMP | BPF_JGT | BPF_K:
      case BPF_JMP | BPF_JGE | BPF_K:
      case BPF_JMP | BPF_JSET | BPF_K:
      case BPF_JMP | BPF_JEQ | BPF_X:
      case BPF_JMP | BPF_JGT | BPF_X:
      case BPF_JMP | BPF_JGE | BPF_X:
      case BPF_JMP | BPF_JSET | BPF_X: {
        const std::uint32_t operand = BPF_SRC(code) == BPF_X ? x : insn.k;
        bool taken = false;
        switch (BPF_OP(code)) {
          case BPF_JEQ:
            taken = a == operand;
            break;
          case BPF_JGT:
            taken = a > operand;
            break;
          case BPF_JGE:
            taken = a >= operand;
            break;
          case BPF_JSET:
            taken = (a & operand) != 0;
            break;
        }
        next = pc + 1 + (taken ? insn.jt : insn.jf);
        break;
      }
      case BPF_RET | BPF_K:
        return BpfVerdict{insn.k, {}};
      case BPF_RET | BPF_A:
        return BpfVerdict{a, {}};
      default:
        return Error("unknown opcode " + Hex(code), pc);
    }
    if (next >= program.size()) return Error("jump or fall past the end", pc);
    pc = next;
  }
  return Error("fell off the end", pc);
}

std::uint32_t SeccompReturnValue(const policy::SeccompAction& action) {
  switch (action.kind) {
    case policy::SeccompActionKind::kErrno:
      return SECCOMP_RET_ERRNO |
             (static_cast<std::uint32_t>(action.errno_value) & SECCOMP_RET_DATA);
    case policy::SeccompActionKind::kKillProcess:
      return SECCOMP_RET_KILL_PROCESS;
    case policy::SeccompActionKind::kLog:
      return SECCOMP_RET_LOG;
    case policy::SeccompActionKind::kNotify:
      return SECCOMP_RET_USER_NOTIF;
  }
  return SECCOMP_RET_KILL_PROCESS;
}

std::uint32_t EvaluateSeccompPlan(const policy::SeccompPlan& plan, std::string_view syscall,
                                  const std::array<std::uint64_t, 6>& args, std::string* conflict) {
  auto holds = [&](const policy::ArgCondition& c) {
    std::uint64_t arg = args.at(c.index);
    if (c.low32) arg &= 0xffffffffu;
    switch (c.op) {
      case policy::ArgCompare::kEq:
        return arg == c.value;
      case policy::ArgCompare::kNe:
        return arg != c.value;
      case policy::ArgCompare::kLt:
        return arg < c.value;
      case policy::ArgCompare::kLe:
        return arg <= c.value;
      case policy::ArgCompare::kGt:
        return arg > c.value;
      case policy::ArgCompare::kGe:
        return arg >= c.value;
      case policy::ArgCompare::kMaskedEq:
        return (arg & c.mask) == c.value;
    }
    return false;
  };
  const policy::SeccompRule* matched = nullptr;
  for (const policy::SeccompRule& rule : plan.rules) {
    if (rule.syscall != syscall) continue;
    bool all = true;
    for (const policy::ArgCondition& c : rule.conditions) all = all && holds(c);
    if (!all) continue;
    if (matched != nullptr && !(matched->action == rule.action) && conflict != nullptr) {
      *conflict = std::string(syscall) + ": rules with different actions match";
    }
    if (matched == nullptr) matched = &rule;
  }
  return matched == nullptr ? SECCOMP_RET_ALLOW : SeccompReturnValue(matched->action);
}

}  // namespace tollgate::emulator
