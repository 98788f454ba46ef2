// Class 4: a nested user namespace (unshare, clone, clone3) to regain capabilities and detach
// read-only mounts; setns.
//
// unshare/clone/clone3 are made for real (the probe's own namespace, gone when it exits).
// clone3 with a size the kernel rejects answers EINVAL from the kernel and ENOSYS/EPERM from a
// filter; setns on a closed fd answers EBADF from the kernel.
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int Allowed(const char* name, const char* detail) {
  printf("RESULT %s allowed errno=NONE %s\n", name, detail);
  return 0;
}

static int Blocked(const char* name, int err) {
  printf("RESULT %s blocked errno=%s\n", name, strerrorname_np(err));
  return 1;
}

// fork-like clone: the child exits at once; the parent reaps it.
static int CloneChild(const char* name, unsigned long flags) {
  long pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
  if (pid < 0) return Blocked(name, errno);
  if (pid == 0) _exit(0);
  waitpid((pid_t)pid, NULL, 0);
  return Allowed(name, "a child was created in a new namespace");
}

static int Clone3Child(const char* name, uint64_t flags, size_t size) {
  struct clone_args args;
  memset(&args, 0, sizeof args);
  args.flags = flags;
  args.exit_signal = SIGCHLD;
  long pid = syscall(SYS_clone3, &args, size);
  if (pid < 0) {
    if (size < CLONE_ARGS_SIZE_VER0 && errno == EINVAL) {
      printf("RESULT %s allowed errno=EINVAL clone3 reached the kernel\n", name);
      return 0;
    }
    return Blocked(name, errno);
  }
  if (pid == 0) _exit(0);
  waitpid((pid_t)pid, NULL, 0);
  return Allowed(name, "clone3 created a child");
}

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr,
            "usage: %s unshare-user|unshare-user-mnt|unshare-all|clone-user|clone-user-mnt|"
            "clone3-user|clone3-badsize|setns\n",
            argv[0]);
    return 2;
  }
  const char* what = argv[1];
  const unsigned long all = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET |
                            CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP;
  if (strcmp(what, "unshare-user") == 0) {
    return unshare(CLONE_NEWUSER) == 0 ? Allowed(what, "new user namespace") : Blocked(what, errno);
  }
  if (strcmp(what, "unshare-user-mnt") == 0) {
    return unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 ? Allowed(what, "new user+mount namespace")
                                                     : Blocked(what, errno);
  }
  if (strcmp(what, "unshare-all") == 0) {
    return unshare(all) == 0 ? Allowed(what, "new namespaces of every kind") : Blocked(what, errno);
  }
  if (strcmp(what, "clone-user") == 0) return CloneChild(what, CLONE_NEWUSER);
  if (strcmp(what, "clone-user-mnt") == 0) return CloneChild(what, CLONE_NEWUSER | CLONE_NEWNS);
  if (strcmp(what, "clone3-user") == 0) {
    return Clone3Child(what, CLONE_NEWUSER | CLONE_NEWNS, sizeof(struct clone_args));
  }
  if (strcmp(what, "clone3-badsize") == 0) return Clone3Child(what, 0, 1);
  if (strcmp(what, "setns") == 0) {
    if (setns(987, CLONE_NEWUSER) == 0) return Allowed(what, "setns succeeded");
    if (errno == EBADF) {
      printf("RESULT %s allowed errno=EBADF setns reached the kernel\n", what);
      return 0;
    }
    return Blocked(what, errno);
  }
  fprintf(stderr, "unknown sub-command %s\n", what);
  return 2;
}
