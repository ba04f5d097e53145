#pragma once
/// A JSON description of a structure and its space group, shared by `tsunagu structure info --json` and the Python
/// layer so that both report the same thing.
#include <nlohmann/json.hpp>

#include "tsunagu/structure/crystal.hpp"
#include "tsunagu/structure/symmetry.hpp"

namespace tsunagu::structure {

/// {"formula", "n_sites", "periodic", "lattice": {"matrix" (rows a, b, c, Å), "a", "b", "c" (Å), "alpha", "beta",
/// "gamma" (degrees), "volume" (Å^3)}, "sites": [{"label", "element", "frac", "occupancy"}]}.
nlohmann::json to_json(const Crystal& crystal);

/// {"number", "international", "hall_symbol", "hall_number", "choice", "point_group", "n_operations", "symprec",
/// "orbits": [{"element", "wyckoff" ("4f": multiplicity in the input cell + letter), "site_symmetry", "sites"
/// (0-based), "labels" (distinct)}]}.
nlohmann::json to_json(const SymmetryDataset& dataset, const Crystal& crystal);

/// {"uni_number", "bns_number", "og_number", "litvin_number", "type", "family_number", "n_operations",
/// "admits_ferromagnetism", "ferromagnetic_basis" (k x 3 rows), "equivalent_atoms"}.
nlohmann::json to_json(const MagneticSymmetry& magnetic);

/// to_json(crystal) plus "symmetry": to_json(analyze(crystal, symprec, angle_tolerance)), or null with
/// "symmetry_note" saying why when the structure cannot be analysed (a molecule, partial occupancies).
nlohmann::json describe(const Crystal& crystal, double symprec = 1e-3, double angle_tolerance = -1);

}  // namespace tsunagu::structure
