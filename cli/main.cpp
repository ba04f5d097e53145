// tsunagu <module> <verb> [options]. Exit codes: 0 success, 1 failure (bad file, numerical problem), 2 usage
// (unknown option, invalid value).
//
// Built twice: as `tsunagu` (every module but the LibTorch-based xas and bio) and, with TSUNAGU_CLI_NN, as
// `tsunagu-nn` (xas and bio only). Loading LibTorch costs ~0.35 s per process start, which a loop of `bo suggest`
// calls would otherwise pay every time; `tsunagu xas|bio ...` replaces itself by `tsunagu-nn xas|bio ...` from the
// same directory, so users only ever type `tsunagu`.
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "common.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/progress.hpp"
#include "tsunagu/core/version.hpp"
#ifndef TSUNAGU_CLI_NN
#include "tsunagu/spectra/batch.hpp"
#endif

namespace {

#ifndef TSUNAGU_CLI_NN
/// The module named on the command line (the first argument that is not --quiet), or empty when an option such as
/// --help or --version comes first.
std::string_view module_argument(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-q" || a == "--quiet") continue;
    return a.empty() || a[0] == '-' ? std::string_view() : a;
  }
  return {};
}

/// Replace this process by tsunagu-nn (next to this executable) with the same arguments; returns only on failure.
int exec_nn(char** argv) {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  const std::filesystem::path dir = ec ? std::filesystem::path(argv[0]).parent_path() : self.parent_path();
  const std::filesystem::path nn = dir / "tsunagu-nn";
  if (dir.empty())
    ::execvp("tsunagu-nn", argv);  // started from PATH without /proc: look it up the same way
  else
    ::execv(nn.c_str(), argv);
  std::fprintf(stderr, "error: cannot run %s (%s); the xas and bio commands live there, installed next to tsunagu\n",
               nn.c_str(), std::strerror(errno));
  return 1;
}
#endif

}  // namespace

int main(int argc, char** argv) {
#ifndef TSUNAGU_CLI_NN
  if (const auto m = module_argument(argc, argv); m == "xas" || m == "bio") return exec_nn(argv);
  // MPI is initialised only when launched by mpirun (spectra batch across ranks); a no-op otherwise.
  std::unique_ptr<tsunagu::spectra::MpiSession> mpi;
  try {
    mpi = std::make_unique<tsunagu::spectra::MpiSession>(&argc, &argv);
  } catch (const tsunagu::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
#endif
  CLI::App app{"tsunagu: materials informatics connecting experiment, theory, computation and data science",
               "tsunagu"};
  app.set_version_flag("--version", std::string("tsunagu ") + tsunagu::version());
  bool quiet = false;
  app.add_flag("-q,--quiet", quiet, "no progress or notes on stderr")->configurable(false);
  app.require_subcommand(1);
  app.fallthrough();  // --quiet is accepted after the module/verb too
  app.parse_complete_callback([&] {
    tsunagu::cli::set_quiet(quiet);
    tsunagu::core::set_progress_enabled(!quiet);
  });
#ifdef TSUNAGU_CLI_NN
  tsunagu::cli::register_xas(app);
  tsunagu::cli::register_bio(app);
#else
  tsunagu::cli::register_sparse(app);
  tsunagu::cli::register_spectra(app);
  tsunagu::cli::register_bo(app);
  tsunagu::cli::register_campaign(app);
  tsunagu::cli::register_structure(app);
  tsunagu::cli::register_magnetic(app);
  tsunagu::cli::register_features(app);
  // Listed in --help here; their command lines never reach this parser (exec_nn above).
  app.add_subcommand("xas", tsunagu::cli::kXasSummary)->allow_extras();
  app.add_subcommand("bio", tsunagu::cli::kBioSummary)->allow_extras();
  tsunagu::cli::register_fragmd(app);
#endif
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "error: %s (see --help)\n", e.what());
    return 2;
  } catch (const tsunagu::InvalidArgument& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  } catch (const tsunagu::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: internal: %s\n", e.what());
    return 1;
  }
  return 0;
}
