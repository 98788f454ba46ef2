// Class 5: mount, umount2, pivot_root, chroot and the new mount API.
//
// Each call gets a bad pointer, a closed fd or undefined flags, so the kernel answers EFAULT,
// EBADF or EINVAL once the call reaches it, and nothing is ever mounted. Calls the kernel checks
// for CAP_SYS_ADMIN before looking at their arguments (pivot_root, fsopen, ...) would answer EPERM
// to an ordinary user outside the sandbox; the probe first enters a user and mount namespace of
// its own when it can, so that outside the sandbox the kernel's errno shows. Inside the sandbox
// that unshare is refused, and what remains is the filter's (or the kernel's) EPERM.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BAD ((void*)1)

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr,
            "usage: %s mount|umount2|pivot_root|chroot|fsopen|fsmount|fspick|fsconfig|open_tree|"
            "move_mount|mount_setattr\n",
            argv[0]);
    return 2;
  }
  const char* ns = "own-userns=no";
  if (geteuid() != 0)
    ns = unshare(CLONE_NEWUSER | CLONE_NEWNS) == 0 ? "own-userns=yes" : "own-userns=refused";

  const char* what = argv[1];
  long ret;
  int kernel = EFAULT;
  if (strcmp(what, "mount") == 0) {
    ret = syscall(SYS_mount, BAD, "/", BAD, 0, NULL);
  } else if (strcmp(what, "umount2") == 0) {
    ret = syscall(SYS_umount2, BAD, 0);
  } else if (strcmp(what, "pivot_root") == 0) {
    ret = syscall(SYS_pivot_root, BAD, BAD);
  } else if (strcmp(what, "chroot") == 0) {
    ret = syscall(SYS_chroot, BAD);
  } else if (strcmp(what, "fsopen") == 0) {
    ret = syscall(SYS_fsopen, BAD, 0);
  } else if (strcmp(what, "fsmount") == 0) {
    ret = syscall(SYS_fsmount, 987, 0, 0);
    kernel = EBADF;
  } else if (strcmp(what, "fspick") == 0) {
    ret = syscall(SYS_fspick, AT_FDCWD, BAD, 0);
  } else if (strcmp(what, "fsconfig") == 0) {
    ret = syscall(SYS_fsconfig, 987, 6 /* FSCONFIG_CMD_CREATE */, NULL, NULL, 0);
    kernel = EBADF;
  } else if (strcmp(what, "open_tree") == 0) {
    ret = syscall(SYS_open_tree, AT_FDCWD, BAD, OPEN_TREE_CLONE);
  } else if (strcmp(what, "move_mount") == 0) {
    ret = syscall(SYS_move_mount, AT_FDCWD, BAD, AT_FDCWD, BAD, 0);
  } else if (strcmp(what, "mount_setattr") == 0) {
    ret = syscall(SYS_mount_setattr, AT_FDCWD, BAD, 0, BAD, 32);
  } else {
    fprintf(stderr, "unknown sub-command %s\n", what);
    return 2;
  }
  int err = errno;
  if (ret >= 0 || err == kernel) {
    printf("RESULT %s allowed errno=%s the call reached the kernel %s\n", what,
           ret >= 0 ? "NONE" : strerrorname_np(err), ns);
    return 0;
  }
  printf("RESULT %s blocked errno=%s %s\n", what, strerrorname_np(err), ns);
  return 1;
}
