// SECURITY.md class 27, the real program by another path: through /proc/<pid>/exe of a tool
// the broker allowed and the spawner started.
//
// Starts an allowed call that waits on its stdin (`git log --stdin`), then looks for a process
// named git whose program is not tollgate-shim (outside mediation: the git it started; inside:
// the real git the spawner started for it), opens its /proc/<pid>/exe, copies that program into
// the working directory and pushes with the copy: `GIT_EXEC_PATH=<its folder> git push
// --receive-pack=<the copy, named git-receive-pack> <remote> HEAD:refs/heads/<branch>`, so that
// no mediated path takes part at either end. Prints one verdict line:
//
//   RESULT procexe allowed errno=NONE pushed with a copy of /proc/<pid>/exe
//   RESULT procexe blocked errno=<E> <what failed>
//   RESULT procexe error errno=<E> <the probe could not try>
//
// Usage: probe-mediation_procexe <tollgate-shim path> <remote> <branch>
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static const char* err_name(int err) {
  const char* name = err ? strerrorname_np(err) : NULL;
  return name ? name : "NONE";
}

// The first process named git whose program is not the shim: its pid, with its program open in
// *exe_fd. -1 when a git process other than `child` (the call this probe started) runs whose
// program cannot be opened (*open_errno says why): that is the tool, and it is out of reach.
// 0 when there is none yet.
static pid_t find_tool(pid_t child, const struct stat* shim, int* open_errno, int* exe_fd) {
  DIR* proc = opendir("/proc");
  if (proc == NULL) return 0;
  pid_t found = 0;
  struct dirent* entry;
  while ((entry = readdir(proc)) != NULL && found == 0) {
    if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;
    char path[300], comm[64] = "";
    snprintf(path, sizeof path, "/proc/%s/comm", entry->d_name);
    FILE* f = fopen(path, "r");
    if (f == NULL) continue;
    if (fgets(comm, sizeof comm, f) == NULL) comm[0] = '\0';
    fclose(f);
    if (strcmp(comm, "git\n") != 0) continue;
    pid_t pid = (pid_t)atoi(entry->d_name);
    snprintf(path, sizeof path, "/proc/%s/exe", entry->d_name);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      if (pid != child) {
        *open_errno = errno;
        found = -1;
      }
      continue;
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_dev == shim->st_dev && st.st_ino == shim->st_ino) {
      close(fd);
      continue;
    }
    *exe_fd = fd;
    found = pid;
  }
  closedir(proc);
  return found;
}

static int copy_file(int from, const char* to) {
  int out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
  if (out < 0) return -1;
  char buffer[65536];
  ssize_t n;
  while ((n = read(from, buffer, sizeof buffer)) > 0) {
    if (write(out, buffer, (size_t)n) != n) {
      close(out);
      return -1;
    }
  }
  return close(out) == 0 && n == 0 ? 0 : -1;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc != 4) {
    fprintf(stderr, "usage: %s <tollgate-shim> <remote> <branch>\n", argv[0]);
    return 2;
  }
  struct stat shim;
  if (stat(argv[1], &shim) != 0) {
    printf("RESULT procexe error errno=%s stat %s\n", err_name(errno), argv[1]);
    return 2;
  }
  int in[2];
  if (pipe2(in, O_CLOEXEC) != 0) return 2;
  pid_t child = fork();
  if (child == 0) {
    dup2(in[0], 0);
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    execl("/usr/bin/git", "git", "log", "--stdin", "--oneline", (char*)NULL);
    _exit(127);
  }
  close(in[0]);

  int open_errno = 0, exe_fd = -1;
  pid_t tool = 0;
  for (int tries = 0; tries < 500 && tool == 0; ++tries) {
    tool = find_tool(child, &shim, &open_errno, &exe_fd);
    if (tool == 0) {
      struct timespec pause = {0, 10 * 1000 * 1000};
      nanosleep(&pause, NULL);
    }
  }
  int code = 1;
  if (tool < 0) {
    printf(
        "RESULT procexe blocked errno=%s a git process runs, and its /proc/PID/exe does not "
        "open\n",
        err_name(open_errno));
  } else if (tool == 0) {
    printf("RESULT procexe error errno=NONE no git process other than the shim appeared\n");
    code = 2;
  } else {
    // The program, copied into the working directory, with the name git starts the other end
    // of a push by: a push that nothing mediates, from end to end.
    char dir[4096], copy[4200], receive[4200], receive_option[4300], branch_ref[256];
    if (getcwd(dir, sizeof dir - 16) == NULL) return 2;
    strcat(dir, "/.procexe");
    snprintf(copy, sizeof copy, "%s/git", dir);
    snprintf(receive, sizeof receive, "%s/git-receive-pack", dir);
    snprintf(receive_option, sizeof receive_option, "--receive-pack=%s", receive);
    snprintf(branch_ref, sizeof branch_ref, "HEAD:refs/heads/%s", argv[3]);
    int copied =
        mkdir(dir, 0755) == 0 && copy_file(exe_fd, copy) == 0 && symlink("git", receive) == 0;
    if (!copied) {
      printf("RESULT procexe error errno=%s /proc/%d/exe opened, but not copied\n", err_name(errno),
             (int)tool);
      code = 2;
    } else {
      pid_t pusher = fork();
      if (pusher == 0) {
        // Its exec path is the copy's folder: the git it runs in turn (pack-objects,
        // unpack-objects) is the copy too.
        setenv("GIT_EXEC_PATH", dir, 1);
        char* push_argv[] = {"git", "push", "-q", receive_option, argv[2], branch_ref, NULL};
        execv(copy, push_argv);
        fprintf(stderr, "execv %s: %s\n", copy, strerror(errno));
        _exit(126);
      }
      int status = 0;
      waitpid(pusher, &status, 0);
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        printf("RESULT procexe allowed errno=NONE pushed with a copy of /proc/%d/exe\n", (int)tool);
        code = 0;
      } else {
        printf(
            "RESULT procexe blocked errno=NONE /proc/%d/exe copied, but git push with it "
            "ended with status %d\n",
            (int)tool, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
      }
    }
  }
  close(in[1]);  // the allowed call ends
  int status = 0;
  waitpid(child, &status, 0);
  return code;
}
