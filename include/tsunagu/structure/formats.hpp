#pragma once
/// Further structure formats and a reader that picks the format:
///   * pymatgen / Materials Project JSON: `Structure.as_dict()` ({"lattice": {"matrix": 3x3 rows Å}, "sites":
///     [{"species": [{"element": "Mn", "occu": 1}], "abc": [x, y, z], "label": "Mn1"}]}), also wrapped as
///     {"structure": {...}} as the MP API returns it; `Molecule.as_dict()` (sites with "xyz", no lattice) gives a
///     molecule. A site with several species becomes one site per species at the same position.
///   * XYZ: count line, comment line, "symbol x y z" per atom (Å); extended XYZ with Lattice="ax ay az bx by bz cx
///     cy cz" in the comment line is periodic, otherwise the result is a molecule (Crystal::periodic false, the
///     lattice a bounding box 10 Å larger than the atoms, frac = cartesian * lattice^-1, not wrapped). Only the
///     first frame is read.
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tsunagu/structure/crystal.hpp"

namespace tsunagu::structure {

enum class Format { Auto, Cif, Poscar, Json, Xyz };

/// "auto" | "cif" | "poscar" (also "vasp") | "json" | "xyz"; throws InvalidArgument listing the names.
Format parse_format(std::string_view name);
const char* format_name(Format f);
/// Format of a file from its name (.cif; .vasp, .poscar, POSCAR*, CONTCAR*; .json; .xyz, .extxyz), else from the
/// content (a '{' first, a line starting with "data_", a first line that is an integer, otherwise POSCAR).
Format detect_format(const std::filesystem::path& path, std::string_view content);

/// min_distance: Å, Crystal::validate's overlap check (0 disables).
Crystal parse_pymatgen_json(std::string_view text, const std::string& source = "<string>", double min_distance = 0.5);
Crystal parse_xyz(std::string_view text, const std::string& source = "<string>", double min_distance = 0.5);

struct ReadOptions {
  Format format = Format::Auto;
  std::string cif_block;              ///< CIF: data block name (empty = first)
  std::vector<std::string> species;   ///< POSCAR (VASP 4): species names
  double min_distance = 0.5;          ///< Å: overlap check of Crystal::validate (0 disables)
};

/// Read a structure in any supported format. IoError if the file cannot be read; ParseError for bad content.
Crystal read_structure(const std::filesystem::path& path, const ReadOptions& options = {});

}  // namespace tsunagu::structure
