#pragma once
/// Physical constants used by tsunagu::fragmd (CODATA 2010 values, the ones libefp/efpmd use, so that inputs in
/// angstrom map to the same bohr coordinates).
namespace tsunagu::fragmd {
inline constexpr double kBohrAngstrom = 0.52917721092;       ///< Å per bohr
inline constexpr double kHartreeKcalMol = 627.509474;         ///< kcal/mol per hartree
inline constexpr double kHartreeKJMol = 2625.49962;           ///< kJ/mol per hartree
inline constexpr double kAmuToAu = 1822.888486;               ///< electron masses per amu
inline constexpr double kFemtosecondToAu = 41.341373335;      ///< atomic time units per fs
inline constexpr double kBoltzmannAu = 3.1668114e-6;          ///< hartree per kelvin
}  // namespace tsunagu::fragmd
