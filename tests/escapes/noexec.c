// Class 18: execute a file written into a writable, non-exec area: copy /bin/true into DIR and
// exec it, run it through the dynamic loader (ld.so DIR/x), map it PROT_EXEC, and exec a copy
// held in a memfd (no mount at all).
//
//   exec DIR | ldso DIR | mmap DIR | memfd      (DIR may be "$HOME" or "$TMPDIR": read from env)
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static int CopyTrue(int out) {
  int in = open("/bin/true", O_RDONLY | O_CLOEXEC);
  if (in < 0) return errno;
  char buf[65536];
  ssize_t n;
  while ((n = read(in, buf, sizeof buf)) > 0) {
    if (write(out, buf, (size_t)n) != n) {
      close(in);
      return errno ? errno : EIO;
    }
  }
  close(in);
  return n < 0 ? errno : 0;
}

// Runs argv[0] (or fd when >= 0) in a child; returns its exit status, or -errno when exec failed.
static int Run(char* const argv[], int fd) {
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) != 0) return -errno;
  pid_t pid = fork();
  if (pid < 0) return -errno;
  if (pid == 0) {
    close(pipefd[0]);
    if (fd >= 0) {
      fexecve(fd, argv, environ);
    } else {
      execve(argv[0], argv, environ);
    }
    int err = errno;
    write(pipefd[1], &err, sizeof err);
    _exit(127);
  }
  close(pipefd[1]);
  int err = 0;
  ssize_t n = read(pipefd[0], &err, sizeof err);
  close(pipefd[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (n == (ssize_t)sizeof err) return -err;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static const char* LoaderPath(void) {
  static const char* const kLoaders[] = {"/lib64/ld-linux-x86-64.so.2",
                                         "/lib/ld-linux-aarch64.so.1", "/lib/ld-linux.so.2"};
  for (size_t i = 0; i < sizeof kLoaders / sizeof kLoaders[0]; ++i) {
    if (access(kLoaders[i], X_OK) == 0) return kLoaders[i];
  }
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s exec DIR | ldso DIR | mmap DIR | memfd | memfd-exec-flag\n",
            argv[0]);
    return 2;
  }
  const char* what = argv[1];
  if (strcmp(what, "memfd") == 0 || strcmp(what, "memfd-exec-flag") == 0) {
    // Without flags (executable by default) or asking for MFD_EXEC (0x10) explicitly.
    unsigned flags = MFD_CLOEXEC | (strcmp(what, "memfd-exec-flag") == 0 ? 0x10u : 0u);
    int fd = memfd_create("tollgate-probe", flags);
    if (fd < 0) {
      printf("RESULT %s blocked errno=%s memfd_create\n", what, strerrorname_np(errno));
      return 1;
    }
    int err = CopyTrue(fd);
    if (err != 0) {
      printf("RESULT %s error errno=%s copying /bin/true\n", what, strerrorname_np(err));
      return 2;
    }
    char* args[] = {"true", NULL};
    int status = Run(args, fd);
    if (status == 0) {
      printf("RESULT %s allowed errno=NONE executed a memfd copy of /bin/true\n", what);
      return 0;
    }
    printf("RESULT %s blocked errno=%s status=%d\n", what,
           status < 0 ? strerrorname_np(-status) : "NONE", status);
    return 1;
  }
  if (argc < 3) return 2;
  const char* dir = argv[2];
  if (dir[0] == '$') dir = getenv(dir + 1);
  if (dir == NULL || dir[0] == 0) dir = "/tmp";
  char path[4096];
  snprintf(path, sizeof path, "%s/tollgate-true-%d", dir, (int)getpid());
  int out = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
  if (out < 0) {
    // Nothing can be planted there: the attack is stopped before it starts.
    printf("RESULT %s blocked errno=%s cannot write %s\n", what, strerrorname_np(errno), path);
    return 1;
  }
  int err = CopyTrue(out);
  close(out);
  if (err != 0) {
    printf("RESULT %s error errno=%s copying /bin/true to %s\n", what, strerrorname_np(err), path);
    unlink(path);
    return 2;
  }
  int status;
  if (strcmp(what, "exec") == 0) {
    char* args[] = {path, NULL};
    status = Run(args, -1);
  } else if (strcmp(what, "ldso") == 0) {
    const char* loader = LoaderPath();
    if (loader == NULL) {
      printf("RESULT %s error errno=NONE no dynamic loader found\n", what);
      unlink(path);
      return 2;
    }
    char* args[] = {(char*)loader, path, NULL};
    status = Run(args, -1);
  } else if (strcmp(what, "mmap") == 0) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    void* map = fd < 0 ? MAP_FAILED : mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
    status = map == MAP_FAILED ? -errno : 0;
    if (fd >= 0) close(fd);
  } else {
    fprintf(stderr, "unknown sub-command %s\n", what);
    unlink(path);
    return 2;
  }
  unlink(path);
  if (status == 0) {
    printf("RESULT %s allowed errno=NONE executed %s\n", what, path);
    return 0;
  }
  printf("RESULT %s blocked errno=%s status=%d %s\n", what,
         status < 0 ? strerrorname_np(-status) : "NONE", status, path);
  return 1;
}
