// tsunagu <module> <verb> [options]. Exit codes: 0 success, 1 failure (bad file, numerical problem), 2 usage
// (unknown option, invalid value).
#include <cstdio>
#include <exception>
#include <memory>

#include <CLI/CLI.hpp>

#include "common.hpp"
#include "tsunagu/core/error.hpp"
#include "tsunagu/core/progress.hpp"
#include "tsunagu/core/version.hpp"
#include "tsunagu/spectra/batch.hpp"

int main(int argc, char** argv) {
  // MPI is initialised only when launched by mpirun (spectra batch across ranks); a no-op otherwise.
  std::unique_ptr<tsunagu::spectra::MpiSession> mpi;
  try {
    mpi = std::make_unique<tsunagu::spectra::MpiSession>(&argc, &argv);
  } catch (const tsunagu::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 2;
  }
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
  tsunagu::cli::register_sparse(app);
  tsunagu::cli::register_spectra(app);
  tsunagu::cli::register_bo(app);
  tsunagu::cli::register_campaign(app);
  tsunagu::cli::register_structure(app);
  tsunagu::cli::register_magnetic(app);
  tsunagu::cli::register_features(app);
  tsunagu::cli::register_xas(app);
  tsunagu::cli::register_bio(app);
  tsunagu::cli::register_fragmd(app);
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
