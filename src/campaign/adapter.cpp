#include "tsunagu/campaign/adapter.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "tsunagu/core/error.hpp"
#include "tsunagu/core/table.hpp"

// After Eigen (via table.hpp): <resolv.h>, which httplib pulls in, defines a macro `_res` that breaks Eigen.
#include <httplib.h>

namespace tsunagu::campaign {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

constexpr std::size_t kRawLimit = 4096;            // bytes of a reply kept in Outcome::raw
constexpr std::size_t kStderrLimit = 4096;         // bytes of stderr kept for the error message
constexpr std::size_t kStdoutLimit = 64u << 20;    // a reply larger than this is not a reply (runaway program)
constexpr double kKillGrace_s = 2.0;               // SIGTERM -> SIGKILL
constexpr double kOrphanGrace_s = 1.0;             // after the shell exits, wait this long for pipes held elsewhere

// Cut to at most `limit` bytes without splitting a UTF-8 sequence (raw replies end up in JSON/SQLite text).
std::string utf8_prefix(const std::string& s, std::size_t limit) {
  if (s.size() <= limit) return s;
  std::size_t n = limit;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return s.substr(0, n);
}

std::string utf8_suffix(const std::string& s, std::size_t limit) {
  if (s.size() <= limit) return s;
  std::size_t start = s.size() - limit;
  while (start < s.size() && (static_cast<unsigned char>(s[start]) & 0xC0) == 0x80) ++start;
  return s.substr(start);
}

std::string trim(const std::string& s) {
  const char* ws = " \t\r\n\f\v";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

Outcome failed(std::string error, const std::string& raw) {
  Outcome o;
  o.kind = Outcome::Kind::Failed;
  o.error = std::move(error);
  o.raw = utf8_prefix(raw, kRawLimit);
  return o;
}

// Python's json.dumps writes NaN / Infinity / -Infinity for non-finite floats, which is not JSON. An instrument
// script that measured nothing should be told "objective 'x' is not finite", not "malformed JSON", so such bare
// tokens (outside strings) are rewritten as the strings "NaN", "Infinity", "-Infinity" before parsing.
std::string quote_nonfinite_tokens(const std::string& text) {
  std::string out;
  out.reserve(text.size() + 16);
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < text.size()) {
        out += text[++i];
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
      out += c;
      continue;
    }
    bool replaced = false;
    for (const char* token : {"-Infinity", "Infinity", "NaN"}) {
      const std::size_t n = std::strlen(token);
      if (text.compare(i, n, token) == 0) {
        out += '"';
        out += token;
        out += '"';
        i += n - 1;
        replaced = true;
        break;
      }
    }
    if (!replaced) out += c;
  }
  return out;
}

// nlohmann's messages start with "[json.exception.parse_error.101] "; the bracket is noise for a lab log.
std::string json_error_message(const std::exception& e) {
  std::string m = e.what();
  if (!m.empty() && m[0] == '[') {
    const auto close = m.find("] ");
    if (close != std::string::npos) m = m.substr(close + 2);
  }
  return m;
}

// Parse `text` as a JSON document; when the whole text is not JSON but its last non-empty line is an object (a
// program that logs to stdout before the reply), that line is the reply. Returns false with `error` set otherwise.
bool parse_document(const std::string& text, json& doc, std::string& error) {
  const std::string fixed = quote_nonfinite_tokens(text);
  try {
    doc = json::parse(fixed);
    return true;
  } catch (const json::exception& e) {
    error = json_error_message(e);
  }
  const std::string t = trim(fixed);
  const auto nl = t.find_last_of('\n');
  if (nl == std::string::npos) return false;
  const std::string last = trim(t.substr(nl + 1));
  if (last.empty() || last[0] != '{') return false;
  try {
    doc = json::parse(last);
    return doc.is_object();
  } catch (const json::exception&) {
    return false;
  }
}

std::string short_dump(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  if (s.size() > 80) s = utf8_prefix(s, 77) + "...";
  return s;
}

// One objective value from a values object; sets `error` (naming the objective) when it is unusable.
bool objective_value(const json& values, const std::string& name, double& value, std::string& error) {
  const auto it = values.find(name);
  if (it == values.end()) {
    error = "reply has no value for objective '" + name + "'";
    return false;
  }
  if (it->is_null()) {
    error = "objective '" + name + "' is null (no measurement)";
    return false;
  }
  if (it->is_string()) {
    std::string s = it->get<std::string>();
    std::string lower = s;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char ch) { return std::tolower(ch); });
    if (lower == "nan" || lower == "infinity" || lower == "-infinity" || lower == "inf" || lower == "-inf") {
      error = "objective '" + name + "' is not finite (" + s + ")";
    } else {
      error = "objective '" + name + "' is not a number (got " + short_dump(*it) + ")";
    }
    return false;
  }
  if (!it->is_number()) {
    error = "objective '" + name + "' is not a number (got " + short_dump(*it) + ")";
    return false;
  }
  value = it->get<double>();
  if (!std::isfinite(value)) {
    error = "objective '" + name + "' is not finite (" + short_dump(*it) + ")";
    return false;
  }
  return true;
}

Outcome parse_values(const json& values, const std::vector<std::string>& objectives, const std::string& raw) {
  Outcome o;
  o.kind = Outcome::Kind::Done;
  o.raw = utf8_prefix(raw, kRawLimit);
  if (objectives.empty()) {  // nothing expected: keep every finite number
    for (const auto& [k, v] : values.items())
      if (v.is_number() && std::isfinite(v.get<double>())) o.values[k] = v.get<double>();
    return o;
  }
  for (const auto& name : objectives) {
    double value = 0;
    std::string error;
    if (!objective_value(values, name, value, error)) return failed(error, raw);
    o.values[name] = value;
  }
  return o;
}

std::string error_text(const json& doc, const std::string& fallback) {
  const auto it = doc.find("error");
  if (it == doc.end() || it->is_null()) return fallback;
  if (it->is_string()) {
    const std::string s = trim(it->get<std::string>());
    return s.empty() ? fallback : s;
  }
  return short_dump(*it);
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

std::string format_seconds(double s) {
  std::ostringstream os;
  os << s;
  return os.str();
}

// ---------------------------------------------------------------------------------------------------------------
// Child process plumbing for CommandAdapter.

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
void kill_group(pid_t pid, bool reaped, int& status) {
  ::kill(-pid, SIGTERM);
  const auto start = Clock::now();
  while (seconds_since(start) < kKillGrace_s) {
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

struct ChildResult {
  bool timed_out = false;
  bool output_overflow = false;
  int status = 0;
  std::string out;
  std::string err;  // last kStderrLimit bytes
};

ChildResult run_child(const std::string& command, const std::string& input, double timeout_s) {
  Pipe in, out, err;
  if (::pipe2(in.fd, O_CLOEXEC) != 0 || ::pipe2(out.fd, O_CLOEXEC) != 0 || ::pipe2(err.fd, O_CLOEXEC) != 0)
    throw IoError(std::string("adapter: cannot create pipes: ") + std::strerror(errno));

  // Everything the child needs is prepared before fork(): between fork and exec only async-signal-safe calls are
  // allowed (the orchestrator may run other threads, e.g. the dashboard).
  const char* argv[] = {"sh", "-c", command.c_str(), nullptr};
  sigset_t empty;
  sigemptyset(&empty);

  const pid_t pid = ::fork();
  if (pid < 0) throw IoError(std::string("adapter: fork failed: ") + std::strerror(errno));
  if (pid == 0) {
    ::setpgid(0, 0);  // own process group, so a timeout kills the program's children too
    ::dup2(in.fd[0], STDIN_FILENO);
    ::dup2(out.fd[1], STDOUT_FILENO);
    ::dup2(err.fd[1], STDERR_FILENO);
#ifdef SYS_close_range
    ::syscall(SYS_close_range, 3u, ~0u, 0u);  // sockets/databases of the orchestrator are not the program's
#endif
    // Ignored signals and the signal mask survive exec: give the program default SIGPIPE/SIGINT/SIGTERM.
    struct sigaction dfl;
    std::memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD}) ::sigaction(sig, &dfl, nullptr);
    ::sigprocmask(SIG_SETMASK, &empty, nullptr);
    ::execv("/bin/sh", const_cast<char* const*>(argv));
    _exit(127);
  }
  ::setpgid(pid, pid);  // also from the parent: no race with a kill before the child ran setpgid
  in.close_end(0);
  out.close_end(1);
  err.close_end(1);
  set_nonblocking(in.fd[1]);
  set_nonblocking(out.fd[0]);
  set_nonblocking(err.fd[0]);

  ChildResult result;
  SigpipeGuard guard;
  const auto start = Clock::now();
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
      throw IoError(std::string("adapter: poll failed: ") + std::strerror(errno));
    }

    if (idx_in >= 0 && fds[idx_in].revents) {
      if (fds[idx_in].revents & (POLLERR | POLLHUP)) {
        in.close_end(1);  // the program closed stdin or exited without reading it: fine
      } else {
        const ssize_t w = ::write(in.fd[1], input.data() + written, input.size() - written);
        if (w > 0) {
          written += static_cast<std::size_t>(w);
          if (written == input.size()) in.close_end(1);  // EOF tells the program the request is complete
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
            if (dst.size() + static_cast<std::size_t>(r) > kStdoutLimit) {
              result.output_overflow = true;  // a runaway program, not a reply: stop it below
              return;
            } else {
              dst.append(buffer, static_cast<std::size_t>(r));
            }
          } else {
            dst.append(buffer, static_cast<std::size_t>(r));
            if (dst.size() > 2 * kStderrLimit) dst.erase(0, dst.size() - kStderrLimit);
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
    kill_group(pid, reaped, result.status);
  } else if (!reaped) {
    while (::waitpid(pid, &result.status, 0) < 0 && errno == EINTR) {
    }
  }
  result.err = utf8_suffix(result.err, kStderrLimit);
  return result;
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP helpers.

struct HttpUrl {
  std::string origin;  // "http://host:port"
  std::string prefix;  // "" or "/api/v1" (no trailing slash)
};

HttpUrl split_url(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind("https://", 0) == 0)
    throw InvalidArgument("adapter: https is not supported, use an http:// URL (got '" + url + "')");
  if (url.rfind(scheme, 0) != 0)
    throw InvalidArgument("adapter: expected an http://HOST[:PORT][/PREFIX] URL (got '" + url + "')");
  const std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  HttpUrl u;
  const std::string hostport = rest.substr(0, slash);
  if (hostport.empty() || hostport.find_first_of(" \t?#@") != std::string::npos)
    throw InvalidArgument("adapter: bad host in URL '" + url + "'");
  u.origin = scheme + hostport;
  if (slash != std::string::npos) {
    u.prefix = rest.substr(slash);
    while (!u.prefix.empty() && u.prefix.back() == '/') u.prefix.pop_back();
  }
  return u;
}

// Percent-encode everything but RFC 3986 unreserved characters (a job id is one path segment).
std::string encode_segment(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

void configure(httplib::Client& client, double timeout_s) {
  const auto t = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::duration<double>(timeout_s));
  client.set_connection_timeout(t);
  client.set_read_timeout(t);
  client.set_write_timeout(t);
  client.set_follow_location(true);
  client.set_url_encode(false);  // paths are encoded here
  client.set_keep_alive(false);
}

// Outcome of one HTTP exchange: transport errors and status >= 400 are failures, a 2xx/3xx body is a reply.
Outcome http_outcome(const httplib::Result& res, const std::string& what, const std::vector<std::string>& objectives,
                     const std::string* poll_ref) {
  if (!res) {
    const auto e = res.error();
    std::string why = httplib::to_string(e);
    if (e == httplib::Error::Connection) why = "connection failed (is the controller running?)";
    else if (e == httplib::Error::ConnectionTimeout) why = "connection timed out";
    else if (e == httplib::Error::Read) why = "no complete reply (read error or timeout)";
    else if (e == httplib::Error::Write) why = "request could not be sent (write error or timeout)";
    return failed("HTTP " + what + ": " + why, "");
  }
  const std::string& body = res->body;
  if (res->status >= 400) {
    std::string msg = "HTTP " + std::to_string(res->status) + " from " + what;
    const std::string text = trim(utf8_prefix(body, 512));
    if (!text.empty()) msg += ": " + text;
    return failed(msg, body);
  }
  if (res->status < 200 || res->status >= 300)
    return failed("HTTP " + std::to_string(res->status) + " from " + what + " (expected 2xx)", body);
  if (poll_ref) {
    // A poll may answer {"status": "running"} without repeating the id: the job is the one we asked about.
    json doc;
    std::string error;
    if (parse_document(body, doc, error) && doc.is_object()) {
      const auto st = doc.find("status");
      if (st != doc.end() && st->is_string() && st->get<std::string>() == "running" && !doc.contains("id")) {
        Outcome o;
        o.kind = Outcome::Kind::Running;
        o.ref = *poll_ref;
        o.raw = utf8_prefix(body, kRawLimit);
        return o;
      }
    }
  }
  return parse_reply(body, objectives);
}

// A word the shell passes through unchanged: as it is when it has only safe characters, else in single quotes.
std::string shell_word(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=@%+-") ==
                        std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void print_block(const ExperimentRequest& request, const std::string& database) {
  const std::string db = database.empty() ? "CAMPAIGN.sqlite" : shell_word(database);
  std::ostringstream os;
  const std::string rule(64, '=');
  os << "\n" << rule << "\n";
  os << "MANUAL EXPERIMENT " << request.experiment;
  if (!request.campaign.empty()) os << "  (campaign \"" << request.campaign << "\"";
  if (!request.campaign.empty()) os << ", attempt " << request.attempt << ")";
  os << "\n\nSet the conditions:\n";
  std::size_t width = 0;
  if (request.parameters.is_object())
    for (const auto& [k, v] : request.parameters.items()) width = std::max(width, k.size());
  if (request.parameters.is_object()) {
    for (const auto& [k, v] : request.parameters.items()) {
      std::string value;
      if (v.is_number()) value = core::format_double(v.get<double>());
      else if (v.is_string()) value = v.get<std::string>();
      else value = v.dump();
      os << "  " << k << std::string(width - k.size(), ' ') << " = " << value << "\n";
    }
  }
  os << "\nMeasure: ";
  for (std::size_t i = 0; i < request.objectives.size(); ++i) os << (i ? ", " : "") << request.objectives[i];
  os << "\n\nRecord the result with:\n";
  if (request.objectives.size() <= 1) {
    const std::string v = request.objectives.empty() ? "V" : request.objectives[0];
    os << "  tsunagu campaign record --db " << db << " --experiment " << request.experiment << " --value <"
       << v << ">\n";
  } else {
    os << "  tsunagu campaign record --db " << db << " --experiment " << request.experiment;
    for (const auto& name : request.objectives) os << " --value " << name << "=<V>";
    os << "\n";
  }
  os << rule << "\n";
  const std::string text = os.str();
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

}  // namespace

// ---------------------------------------------------------------------------------------------------------------

nlohmann::json ExperimentRequest::to_json() const {
  json j;
  j["campaign"] = campaign;
  j["experiment"] = experiment;
  j["attempt"] = attempt;
  j["key"] = campaign + "/" + std::to_string(experiment) + "/" + std::to_string(attempt);
  j["parameters"] = parameters.is_null() ? json::object() : parameters;
  j["objectives"] = objectives;
  return j;
}

Outcome parse_reply(const std::string& text, const std::vector<std::string>& objectives) {
  try {
    if (trim(text).empty()) return failed("malformed JSON reply: empty output", text);
    json doc;
    std::string error;
    if (!parse_document(text, doc, error)) return failed("malformed JSON reply: " + error, text);
    if (!doc.is_object())
      return failed(std::string("malformed JSON reply: expected an object, got ") + doc.type_name(), text);

    const auto st = doc.find("status");
    if (st == doc.end()) {
      // A bare {"objective": value} object means done; a bare {"error": "..."} means failed.
      if (doc.contains("error") && (objectives.empty() || !doc.contains(objectives[0])))
        return failed(error_text(doc, "instrument reported an error"), text);
      return parse_values(doc, objectives, text);
    }
    if (!st->is_string()) return failed("reply 'status' is not a string (got " + short_dump(*st) + ")", text);
    const std::string status = st->get<std::string>();
    if (status == "done") {
      const auto v = doc.find("values");
      if (v == doc.end()) return parse_values(doc, objectives, text);  // {"status":"done","resistivity":...}
      if (!v->is_object())
        return failed("reply 'values' is not an object (got " + short_dump(*v) + ")", text);
      return parse_values(*v, objectives, text);
    }
    if (status == "failed") return failed(error_text(doc, "instrument reported failure without a message"), text);
    if (status == "infeasible") {
      Outcome o;
      o.kind = Outcome::Kind::Infeasible;
      o.error = error_text(doc, "instrument reported infeasible conditions");
      o.raw = utf8_prefix(text, kRawLimit);
      return o;
    }
    if (status == "running") {
      const auto id = doc.find("id");
      std::string ref;
      if (id != doc.end() && id->is_string()) ref = id->get<std::string>();
      else if (id != doc.end() && id->is_number_integer()) ref = id->dump();
      if (ref.empty()) return failed("reply status 'running' without a job 'id' to poll", text);
      Outcome o;
      o.kind = Outcome::Kind::Running;
      o.ref = ref;
      o.raw = utf8_prefix(text, kRawLimit);
      return o;
    }
    return failed("unknown reply status '" + status + "' (expected done, failed, infeasible or running)", text);
  } catch (const std::exception& e) {  // never throws: a faulty robot must not stop the campaign
    return failed(std::string("cannot interpret reply: ") + e.what(), text);
  }
}

// ---------------------------------------------------------------------------------------------------------------

CommandAdapter::CommandAdapter(std::string command, AdapterOptions options)
    : command_(std::move(command)), options_(options) {
  if (trim(command_).empty()) throw InvalidArgument("adapter: command is empty");
  if (!(options_.timeout_s > 0)) throw InvalidArgument("adapter: timeout must be > 0 seconds");
}

Outcome CommandAdapter::start(const ExperimentRequest& request) {
  ChildResult r;
  try {
    r = run_child(command_, request.to_json().dump() + "\n", options_.timeout_s);
  } catch (const std::exception& e) {
    return failed(e.what(), "");
  }
  const std::string tail = trim(r.err);
  auto with_stderr = [&](std::string msg) {
    if (!tail.empty()) msg += "; stderr: " + tail;
    return msg;
  };
  if (r.output_overflow)  // checked first: the program was killed for it
    return failed("command wrote more than " + std::to_string(kStdoutLimit >> 20) +
                      " MiB to stdout (process group killed)",
                  r.out);
  if (r.timed_out)
    return failed(with_stderr("command timed out after " + format_seconds(options_.timeout_s) +
                              " s (process group killed)"),
                  r.out);
  if (WIFSIGNALED(r.status))
    return failed(with_stderr("command killed by signal " + signal_name(WTERMSIG(r.status))), r.out);
  if (WIFEXITED(r.status) && WEXITSTATUS(r.status) != 0) {
    std::string msg = "command exited with code " + std::to_string(WEXITSTATUS(r.status));
    msg += tail.empty() ? " (no stderr output)" : ": " + tail;
    return failed(msg, r.out);
  }
  Outcome o = parse_reply(r.out, request.objectives);
  if (o.kind == Outcome::Kind::Running) {
    // A command is synchronous: nothing could poll its job later.
    return failed("command replied 'running', which only an HTTP controller may do", r.out);
  }
  if (o.kind == Outcome::Kind::Failed && o.error.rfind("malformed JSON reply", 0) == 0) o.error = with_stderr(o.error);
  return o;
}

Outcome CommandAdapter::poll(const std::string& ref, const std::vector<std::string>&) {
  return failed("command adapter cannot poll experiment '" + ref + "' (commands run synchronously)", "");
}

// ---------------------------------------------------------------------------------------------------------------

HttpAdapter::HttpAdapter(std::string url, AdapterOptions options) : url_(std::move(url)), options_(options) {
  const HttpUrl u = split_url(url_);  // validates
  url_ = u.origin + u.prefix;
  if (!(options_.timeout_s > 0)) throw InvalidArgument("adapter: timeout must be > 0 seconds");
  if (!(options_.poll_interval_s > 0)) throw InvalidArgument("adapter: poll interval must be > 0 seconds");
}

Outcome HttpAdapter::start(const ExperimentRequest& request) {
  try {
    const HttpUrl u = split_url(url_);
    httplib::Client client(u.origin);
    configure(client, options_.timeout_s);
    const std::string path = u.prefix + "/experiments";
    const auto res = client.Post(path.c_str(), request.to_json().dump(), "application/json");
    return http_outcome(res, "POST " + url_ + "/experiments", request.objectives, nullptr);
  } catch (const std::exception& e) {
    return failed(std::string("HTTP POST ") + url_ + "/experiments: " + e.what(), "");
  }
}

Outcome HttpAdapter::poll(const std::string& ref, const std::vector<std::string>& objectives) {
  try {
    const HttpUrl u = split_url(url_);
    httplib::Client client(u.origin);
    configure(client, options_.timeout_s);
    const std::string path = u.prefix + "/experiments/" + encode_segment(ref);
    const auto res = client.Get(path.c_str());
    return http_outcome(res, "GET " + url_ + "/experiments/" + encode_segment(ref), objectives, &ref);
  } catch (const std::exception& e) {
    return failed(std::string("HTTP GET ") + url_ + "/experiments/" + ref + ": " + e.what(), "");
  }
}

// ---------------------------------------------------------------------------------------------------------------

Outcome ManualAdapter::start(const ExperimentRequest& request) {
  print_block(request, options_.database);
  Outcome o;
  o.kind = Outcome::Kind::Running;
  o.ref = std::to_string(request.experiment);
  return o;
}

Outcome ManualAdapter::poll(const std::string& ref, const std::vector<std::string>&) {
  Outcome o;
  o.kind = Outcome::Kind::Running;
  o.ref = ref;
  return o;
}

// ---------------------------------------------------------------------------------------------------------------

std::unique_ptr<Adapter> make_adapter(const std::string& spec, const AdapterOptions& options) {
  const std::string forms = "expected command:CMD, http://HOST:PORT[/PREFIX], http:URL or manual";
  if (spec.rfind("command:", 0) == 0) {
    const std::string cmd = spec.substr(8);
    if (trim(cmd).empty()) throw InvalidArgument("adapter: 'command:' needs a command to run (" + forms + ")");
    return std::make_unique<CommandAdapter>(cmd, options);
  }
  if (spec.rfind("http://", 0) == 0 || spec.rfind("https://", 0) == 0)
    return std::make_unique<HttpAdapter>(spec, options);
  if (spec.rfind("http:", 0) == 0) {
    std::string url = trim(spec.substr(5));
    if (url.empty()) throw InvalidArgument("adapter: 'http:' needs a URL (" + forms + ")");
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) url = "http://" + url;
    return std::make_unique<HttpAdapter>(url, options);
  }
  if (spec == "manual") return std::make_unique<ManualAdapter>(options);
  throw InvalidArgument("adapter: unknown adapter '" + spec + "' (" + forms + ")");
}

}  // namespace tsunagu::campaign
