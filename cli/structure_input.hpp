#pragma once
// Structure-file arguments shared by `structure` and `magnetic` subcommands.
#include <string>

#include <CLI/CLI.hpp>

#include "tsunagu/structure/crystal.hpp"

namespace tsunagu::cli {

struct StructureInput {
  std::string file, format = "auto", block, species;
  double min_distance = 0.5;
};

/// Positional FILE plus --format, --block, --species, --min-distance.
void add_structure_input(CLI::App* command, StructureInput& args);
/// Read the structure the arguments name (structure::read_structure).
structure::Crystal load_structure(const StructureInput& args);

}  // namespace tsunagu::cli
