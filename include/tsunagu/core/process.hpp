#pragma once
/// Running an external program through /bin/sh with a wall-clock limit. The program runs in its own process group,
/// so a timeout (SIGTERM, then SIGKILL after a grace period) also stops whatever it started (mpirun and its ranks).
/// Between fork and exec only async-signal-safe calls are made, so this is safe in a multi-threaded host (the
/// campaign dashboard, Python). Used by the campaign's CommandAdapter and the magnetic pw.x workflow.
#include <cstddef>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace tsunagu::core {

struct ProcessOptions {
  double timeout_s = 0;                 ///< wall-clock limit in seconds; <= 0: none
  double kill_grace_s = 2.0;            ///< SIGTERM -> SIGKILL delay after a timeout
  std::filesystem::path working_dir;    ///< directory the command runs in; empty: the caller's
  std::string input;                    ///< written to the program's stdin, which is then closed (empty: closed at once)
  /// Non-empty: the program's stdout goes to this file (created or truncated, mode 0644) instead of being captured.
  std::filesystem::path stdout_path;
  std::size_t stdout_limit = std::size_t{64} << 20;  ///< captured stdout beyond this stops the program (overflow)
  std::size_t stderr_limit = 4096;                   ///< only the last this many bytes of stderr are kept
  /// Variables set in the program's environment (overriding inherited ones), e.g. {"OMP_NUM_THREADS", "1"}.
  std::vector<std::pair<std::string, std::string>> environment;
};

struct ProcessResult {
  bool timed_out = false;        ///< killed for exceeding timeout_s
  bool output_overflow = false;  ///< killed for writing more than stdout_limit bytes
  int status = 0;                ///< raw waitpid status (use the predicates below)
  std::string out;               ///< captured stdout (empty when it went to stdout_path)
  std::string err;               ///< the last stderr_limit bytes of stderr (never splits a UTF-8 sequence)
  double wall_s = 0;             ///< seconds from start to exit

  bool exited() const noexcept;   ///< ended normally (not killed by us or a signal)
  int exit_code() const noexcept; ///< exit code when exited(), else -1
  bool ok() const noexcept { return exited() && exit_code() == 0; }
  /// One line for messages: "exited with code 2", "killed by signal SIGSEGV (Segmentation fault)",
  /// "timed out after 30 s (process group killed)", ... ; "succeeded" when ok().
  std::string describe(double timeout_s = 0) const;
};

/// Run `command` with /bin/sh -c. Throws IoError only when the process cannot be started (pipes, fork, opening
/// stdout_path); everything the program does (non-zero exit, signal, timeout) is reported in the result. A working
/// directory that cannot be entered makes the child exit with code 127 and a message on stderr.
ProcessResult run_process(const std::string& command, const ProcessOptions& options = {});

/// "SIGTERM (Terminated)" for messages.
std::string signal_name(int sig);

/// The last at most `limit` bytes of `s` without splitting a UTF-8 sequence.
std::string utf8_suffix(const std::string& s, std::size_t limit);

}  // namespace tsunagu::core
