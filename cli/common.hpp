#pragma once
// Shared plumbing of the CLI front end: argument helpers, table loading, output. No science here.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace tsunagu::cli {

/// Split "a,b,c" into names (empty string -> empty list).
std::vector<std::string> split_list(const std::string& s);

/// "256,256" -> {256, 256}; InvalidArgument "--hidden: not a list of integers: '2x5'" naming `option`.
std::vector<int> parse_int_list(const std::string& option, const std::string& text);

/// Validator for counts and seeds read into unsigned types: CLI11 would otherwise wrap "-1" to a huge number.
/// `positive` also refuses 0.
CLI::Validator non_negative(bool positive = false);

/// Print to stderr unless --quiet.
void note(const std::string& message);
void set_quiet(bool quiet);
bool quiet();

/// Register each module's subcommands.
void register_sparse(CLI::App& app);
void register_spectra(CLI::App& app);
void register_bo(CLI::App& app);
void register_campaign(CLI::App& app);
void register_structure(CLI::App& app);
void register_magnetic(CLI::App& app);
void register_features(CLI::App& app);
// xas and bio are built on LibTorch, whose loading costs ~0.35 s per process start; they live in a second executable,
// tsunagu-nn, next to tsunagu, which hands their command lines over (main.cpp) so that no other command pays it.
inline constexpr const char* kXasSummary =
    "structure -> X-ray absorption spectrum prediction (descriptors + neural network)";
inline constexpr const char* kBioSummary =
    "molecular structure -> measured response: RDKit descriptors, ANN ensembles, weight analysis, screening";
void register_xas(CLI::App& app);
void register_bio(CLI::App& app);
void register_fragmd(CLI::App& app);

}  // namespace tsunagu::cli
