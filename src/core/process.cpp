#include "tsunagu/core/process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <thread>

#include "tsunagu/core/error.hpp"

extern char** environ;

namespace tsunagu::core {
namespace {

using Clock = std::chrono::steady_clock;

constexpr double kOrphanGrace_s = 1.0;  // after the shell exits, wait this long for pipes held elsewhere

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
  void close_end(int i) {
    if (fd[i] >= 0) ::close(fd[i]);
    fd[i] = -1;
  }
};

void set_nonblocking(int fd) {
  const int flags = ::fcntl(fd, F_GETFL);
  if (flags >= 0) ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

// Writing to a pipe whose reader has gone raises SIGPIPE, whose default action would kill the orchestrator. The
// signal is blocked in this thread while we write (a pipe's SIGPIPE goes to the writing thread) and a SIGPIPE our
// writes raised is consumed before unblocking, so the process-wide disposition stays untouched (Python embeds us).
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGPIPE);
    blocked_ = pthread_sigmask(SIG_BLOCK, &block, &old_) == 0;
  }
  void note_epipe() { epipe_ = true; }
  ~SigpipeGuard() {
    if (!blocked_) return;
    if (epipe_ && !was_pending_) {
      sigset_t set;
      sigemptyset(&set);
      sigaddset(&set, SIGPIPE);
      const struct timespec zero = {0, 0};
      while (sigtimedwait(&set, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;

 private:
  sigset_t old_{};
  bool blocked_ = false;
  bool was_pending_ = false;
  bool epipe_ = false;
};

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Wait for `pid` up to `seconds`; true (status set) when it was reaped. ECHILD (SIGCHLD ignored by the host
// process, so the kernel reaped it) counts as reaped with an unknown status of 0.
bool wait_for(pid_t pid, double seconds, int& status) {
  const auto start = Clock::now();
  for (;;) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) {
      status = 0;
      return true;
    }
    if (seconds_since(start) >= seconds) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// True while a process of the group `pgid` is still running. Zombies do not count: killed grandchildren are
// re-parented to init, which may take its time to reap them, and a signal cannot hurt them anyway.
bool group_alive(pid_t pgid) {
  if (!(::kill(-pgid, 0) == 0 || errno == EPERM)) return false;
  std::error_code ec;
  std::filesystem::directory_iterator it("/proc", ec), end;
  if (ec) return true;  // no /proc: assume alive (SIGKILL after the grace period is harmless)
  for (; it != end; it.increment(ec)) {
    if (ec) return true;
    const std::string name = it->path().filename().string();
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::FILE* f = std::fopen((it->path() / "stat").c_str(), "r");
    if (!f) continue;
    char buf[512];
    const std::size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = 0;
    // "pid (comm) state ppid pgrp ...": comm may contain spaces and parentheses, so parse after the last ')'.
    const char* close = std::strrchr(buf, ')');
    char state = 0;
    long ppid = 0, pgrp = 0;
    if (!close || std::sscanf(close + 1, " %c %ld %ld", &state, &ppid, &pgrp) != 3) continue;
    if (pgrp == pgid && state != 'Z' && state != 'X') return true;
  }
  return false;
}

// SIGTERM to the whole group, SIGKILL after the grace period to whatever is left; the leader is reaped.
void kill_group(pid_t pid, bool reaped, int& status, double grace_s) {
  ::kill(-pid, SIGTERM);
  const auto start = Clock::now();
  while (seconds_since(start) < grace_s) {
    if (!reaped) reaped = wait_for(pid, 0.0, status);
    if (reaped && !group_alive(pid)) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(-pid, SIGKILL);
  if (!reaped) {
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  }
  // SIGKILL is delivered asynchronously: return once nothing of the group runs any more (bounded, to be safe
  // against a process stuck in uninterruptible sleep).
  for (int i = 0; i < 100 && group_alive(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}


std::string format_seconds(double s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

}  // namespace

std::string utf8_suffix(const std::string& s, std::size_t limit) {
  if (s.size() <= limit) return s;
  std::size_t start = s.size() - limit;
  while (start < s.size() && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) ++start;
  return s.substr(start);
}

std::string signal_name(int sig) {
  std::string name;
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* abbrev = sigabbrev_np(sig)) name = std::string("SIG") + abbrev;
#endif
  if (name.empty()) name = "signal " + std::to_string(sig);
  const char* description = strsignal(sig);
  return description ? name + " (" + description + ")" : name;
}

bool ProcessResult::exited() const noexcept { return !timed_out && !output_overflow && WIFEXITED(status); }

int ProcessResult::exit_code() const noexcept { return exited() ? WEXITSTATUS(status) : -1; }

std::string ProcessResult::describe(double timeout_s) const {
  if (output_overflow) return "wrote too much to stdout (process group killed)";
  if (timed_out)
    return timeout_s > 0 ? "timed out after " + format_seconds(timeout_s) + " s (process group killed)"
                         : "timed out (process group killed)";
  if (WIFSIGNALED(status)) return "killed by signal " + signal_name(WTERMSIG(status));
  if (WIFEXITED(status)) return WEXITSTATUS(status) == 0 ? "succeeded" : "exited with code " + std::to_string(WEXITSTATUS(status));
  return "ended with wait status " + std::to_string(status);
}

ProcessResult run_process(const std::string& command, const ProcessOptions& options) {
  Pipe in, out, err;
  if (::pipe2(in.fd, O_CLOEXEC) != 0 || ::pipe2(err.fd, O_CLOEXEC) != 0)
    throw IoError(std::string("cannot create pipes for '") + command + "': " + std::strerror(errno));
  const bool to_file = !options.stdout_path.empty();
  int out_file = -1;
  if (to_file) {
    out_file = ::open(options.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out_file < 0)
      throw IoError("cannot open '" + options.stdout_path.string() + "' for writing: " + std::strerror(errno));
  } else if (::pipe2(out.fd, O_CLOEXEC) != 0) {
    throw IoError(std::string("cannot create pipes for '") + command + "': " + std::strerror(errno));
  }
  struct FileCloser {
    int& fd;
    ~FileCloser() {
      if (fd >= 0) ::close(fd);
    }
  } out_file_closer{out_file};

  // Everything the child needs is prepared before fork(): between fork and exec only async-signal-safe calls are
  // allowed (the host may run other threads, e.g. the dashboard).
  const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) {
    const std::string entry(*e);
    const auto eq = entry.find('=');
    const std::string key = entry.substr(0, eq);
    const bool overridden = std::any_of(options.environment.begin(), options.environment.end(),
                                        [&](const auto& kv) { return kv.first == key; });
    if (!overridden) env_strings.push_back(entry);
  }
  for (const auto& [key, value] : options.environment) {
    if (key.empty() || key.find('=') != std::string::npos)
      throw InvalidArgument("process: bad environment variable name '" + key + "'");
    env_strings.push_back(key + "=" + value);
  }
  std::vector<char*> envp;
  envp.reserve(env_strings.size() + 1);
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  const std::string dir = options.working_dir.string();
  const std::string chdir_failed = "cannot enter working directory '" + dir + "'\n";
  sigset_t empty;
  sigemptyset(&empty);

  const auto start = Clock::now();
  const pid_t pid = ::fork();
  if (pid < 0) throw IoError(std::string("fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);  // own process group, so a timeout kills the program's children too
    ::dup2(in.fd[0], STDIN_FILENO);
    ::dup2(to_file ? out_file : out.fd[1], STDOUT_FILENO);
    ::dup2(err.fd[1], STDERR_FILENO);
#ifdef SYS_close_range
    ::syscall(SYS_close_range, 3u, ~0u, 0u);  // sockets/databases of the host are not the program's
#endif
    // Ignored signals and the signal mask survive exec: give the program default SIGPIPE/SIGINT/SIGTERM.
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD}) ::sigaction(sig, &dfl, nullptr);
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);
    if (!dir.empty() && ::chdir(dir.c_str()) != 0) {
      [[maybe_unused]] const ssize_t w = ::write(STDERR_FILENO, chdir_failed.data(), chdir_failed.size());
      _exit(127);
    }
    ::execve("/bin/sh", const_cast<char* const*>(argv), envp.data());
    _exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent: no race with a kill before the child ran setpgid
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);
  if (out_file >= 0) {
    ::close(out_file);
    out_file = -1;
  }
  set_nonblocking(in.fd[1]);
  if (out.fd[0] >= 0) set_nonblocking(out.fd[0]);
  set_nonblocking(err.fd[0]);

  ProcessResult result;
  SigpipeGuard guard;
  const std::string& input = options.input;
  const double timeout_s = options.timeout_s > 0 ? options.timeout_s : 1e300;
  std::size_t written = 0;
  bool reaped = false;
  Clock::time_point reaped_at;
  if (input.empty()) in.close_end(1);
  char buffer[65536];

  for (;;) {
    if (!reaped && wait_for(pid, 0.0, result.status)) {
      reaped = true;
      reaped_at = Clock::now();
    }
    const bool pipes_open = out.fd[0] >= 0 || err.fd[0] >= 0;
    if (reaped && !pipes_open) break;
    // The shell is gone but something it started in the background still holds stdout/stderr open.
    if (reaped && seconds_since(reaped_at) > kOrphanGrace_s) break;
    const double left = timeout_s - seconds_since(start);
    if (left <= 0) {
      result.timed_out = true;
      break;
    }

    struct pollfd fds[3];
    int n = 0;
    int idx_in = -1, idx_out = -1, idx_err = -1;
    if (in.fd[1] >= 0) fds[idx_in = n++] = {in.fd[1], POLLOUT, 0};
    if (out.fd[0] >= 0) fds[idx_out = n++] = {out.fd[0], POLLIN, 0};
    if (err.fd[0] >= 0) fds[idx_err = n++] = {err.fd[0], POLLIN, 0};
    // Wake at least every 50 ms to notice the exit of a child that keeps no pipe open.
    const int wait_ms = static_cast<int>(std::clamp(left * 1000.0, 1.0, 50.0));
    const int ready = ::poll(fds, static_cast<nfds_t>(n), wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      kill_group(pid, reaped, result.status, options.kill_grace_s);
      throw IoError(std::string("poll failed while running '") + command + "': " + std::strerror(errno));
    }

    if (idx_in >= 0 && fds[idx_in].revents) {
      if (fds[idx_in].revents & (POLLERR | POLLHUP)) {
        in.close_end(1);  // the program closed stdin or exited without reading it: fine
      } else {
        const ssize_t w = ::write(in.fd[1], input.data() + written, input.size() - written);
        if (w > 0) {
          written += static_cast<std::size_t>(w);
          if (written == input.size()) in.close_end(1);  // EOF tells the program the input is complete
        } else if (w < 0 && errno == EPIPE) {
          guard.note_epipe();
          in.close_end(1);
        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
          in.close_end(1);
        }
      }
    }
    auto drain = [&](Pipe& p, int idx, bool is_out) {
      if (idx < 0 || !fds[idx].revents) return;
      for (int chunk = 0; chunk < 16; ++chunk) {  // bounded, so an endless writer cannot starve the timeout check
        const ssize_t r = ::read(p.fd[0], buffer, sizeof buffer);
        if (r > 0) {
          std::string& dst = is_out ? result.out : result.err;
          if (is_out) {
            if (dst.size() + static_cast<std::size_t>(r) > options.stdout_limit) {
              result.output_overflow = true;  // a runaway program: stop it below
              return;
            }
            dst.append(buffer, static_cast<std::size_t>(r));
          } else {
            dst.append(buffer, static_cast<std::size_t>(r));
            if (dst.size() > 2 * options.stderr_limit) dst.erase(0, dst.size() - options.stderr_limit);
          }
          continue;
        }
        if (r == 0) p.close_end(0);
        else if (errno == EINTR) continue;
        else if (errno != EAGAIN && errno != EWOULDBLOCK) p.close_end(0);
        return;
      }
    };
    drain(out, idx_out, true);
    drain(err, idx_err, false);
    if (result.output_overflow) break;
  }

  if (result.timed_out || result.output_overflow) {
    kill_group(pid, reaped, result.status, options.kill_grace_s);
  } else if (!reaped) {
    while (::waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
    }
  }
  result.wall_s = seconds_since(start);
  result.err = utf8_suffix(result.err, options.stderr_limit);
  return result;
}

}  // namespace tsunagu::core
