#pragma once
/// A magnetic configuration ready to hand to a DFT code: the crystal, one moment per site, and the labels the
/// cluster-multipole basis gave it. Shared by the writers (VASP, Quantum ESPRESSO, magCIF), the pw.x workflow and
/// the results database.
#include <string>

#include <Eigen/Core>

#include "tsunagu/structure/crystal.hpp"

namespace tsunagu::magnetic {

/// Magnetic space group of a configuration, as spglib finds it from the moments.
struct MagneticGroupLabel {
  int uni = 0;           ///< UNI number 1..1651 (0: not determined)
  std::string bns;       ///< BNS number, e.g. "166.101"
  std::string bns_symbol;  ///< BNS symbol, e.g. "R-3m'" (empty when unknown)
  int type = 0;          ///< magnetic space-group type 1..4
};

struct Candidate {
  std::string name;            ///< unique, file-name safe, e.g. "003_T1g_M3_111"
  structure::Crystal crystal;  ///< all sites, magnetic and not
  /// (n_sites, 3) Cartesian moments in μB, same order as crystal's sites; zero rows for non-magnetic sites.
  Eigen::MatrixXd moments = Eigen::MatrixXd(0, 3);
  std::string irrep;      ///< e.g. "T1g"
  std::string multipole;  ///< e.g. "M3", "T2"
  std::string direction;  ///< direction within a multi-dimensional irrep, e.g. "[111]"; empty for a basis vector
  MagneticGroupLabel magnetic_space_group;
  bool ahe_allowed = false;  ///< the magnetic point group admits a net (ferromagnetic-like) moment
};

}  // namespace tsunagu::magnetic
