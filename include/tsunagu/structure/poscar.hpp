#pragma once
/// VASP POSCAR/CONTCAR files.
///
/// Reader: comment line; scale (one number: > 0 multiplies the lattice, < 0 is the target cell volume in Å^3; or
/// three positive numbers scaling a, b, c); three lattice vectors (rows, Å before scaling); the species line (VASP 5)
/// or, in VASP 4 files, none (the species then come from PoscarOptions::species); counts; optional "Selective
/// dynamics"; "Direct" or "Cartesian" (first letter d/c/k, case-insensitive); one position per atom (Cartesian
/// positions are scaled like the lattice) with optional T/F flags. Velocities and anything after the positions
/// are ignored. Errors are ParseError "FILE:LINE: message".
#include <array>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tsunagu/structure/crystal.hpp"

namespace tsunagu::structure {

struct PoscarOptions {
  /// Species names in the order of the counts line, for VASP 4 files without a species line (ignored otherwise
  /// unless non-empty, in which case they must match the file's species line).
  std::vector<std::string> species;
  double min_distance = 0.5;  ///< Å, Crystal::validate's overlap check (0 disables)
};

struct Poscar {
  Crystal crystal;                               ///< labels are "Mn1", "Mn2", ... per species
  std::string comment;                           ///< first line
  std::vector<std::array<bool, 3>> selective;    ///< (n_sites) T/F flags, empty without "Selective dynamics"
};

Poscar parse_poscar(std::string_view text, const std::string& source = "<string>", const PoscarOptions& options = {});
/// Read a POSCAR file (the crystal only); IoError if it cannot be read.
Crystal read_poscar(const std::filesystem::path& path, const PoscarOptions& options = {});

struct PoscarWriteOptions {
  std::string comment;    ///< first line; empty = the crystal's formula
  bool cartesian = false; ///< positions in Cartesian Å instead of Direct
  std::vector<std::array<bool, 3>> selective;  ///< (n_sites) in the crystal's site order, or empty
};

/// POSCAR text (VASP 5, scale 1.0): atoms grouped by species in order of first appearance, the relative order of
/// the atoms of one species kept. Throws InvalidArgument for partial occupancies or a wrong `selective` size.
std::string format_poscar(const Crystal& crystal, const PoscarWriteOptions& options = {});
/// Write format_poscar atomically.
void write_poscar(const std::filesystem::path& path, const Crystal& crystal, const PoscarWriteOptions& options = {});

}  // namespace tsunagu::structure
