#pragma once
/// EFP2 fragment parameters (GAMESS MAKEFP `$FRAGNAME` files) and fragments placed in space.
///
/// Units: everything here is atomic units — lengths in bohr, charges in e, multipoles in e·bohr^k, polarisabilities
/// in bohr^3, energies in hartree. Input files in angstrom are converted by the input reader (input.hpp).
///
/// Multipole component order follows the GAMESS file:
///   quadrupole (6)  xx yy zz xy xz yz
///   octupole  (10)  xxx yyy zzz xxy xxz xyy yyz xzz yzz xyz
/// FragmentType keeps the raw moments as written by MAKEFP. A placed Fragment holds, exactly like libefp 1.5 after
/// efp_update_elec, the rotated moments with the Buckingham correction applied (Q' = 3/2 Q − 1/2 tr Q δ,
/// O' = 5/2 O − 1/2 (trace terms)), so interaction formulas use Fragment::multipoles directly.
/// MultipolePoint::monopole is the ELECTRONIC charge only (first MONOPOLES column); nuclear charges live on
/// Fragment::atoms (libefp 1.5 treats nuclei as separate point charges).
#include <array>
#include <string>
#include <vector>

#include <Eigen/Core>

namespace tsunagu::fragmd {

/// One atom of a fragment (COORDINATES entries with non-zero mass).
struct Atom {
  std::string label;    ///< e.g. "A01O1"
  Eigen::Vector3d r;    ///< position, bohr
  double mass = 0.0;    ///< amu
  double znuc = 0.0;    ///< nuclear charge, e
};

/// One distributed multipole expansion point (every COORDINATES entry: atoms and bond midpoints).
struct MultipolePoint {
  std::string label;
  Eigen::Vector3d r;                      ///< bohr
  double znuc = 0.0;                      ///< nuclear charge at this point, e (second MONOPOLES column)
  double monopole = 0.0;                  ///< electronic charge, e (first MONOPOLES column; total = monopole + znuc)
  Eigen::Vector3d dipole = Eigen::Vector3d::Zero();  ///< e·bohr
  std::array<double, 6> quadrupole{};     ///< e·bohr², order xx yy zz xy xz yz
  std::array<double, 10> octupole{};      ///< e·bohr³, order xxx yyy zzz xxy xxz xyy yyz xzz yzz xyz
  double screen2 = 0.0;                   ///< SCREEN2 exponent (charge-penetration damping, frag–frag), bohr⁻¹
  double screen0 = 0.0;                   ///< SCREEN exponent (frag–point-charge damping), bohr⁻¹
  bool has_screen2 = false;
  bool has_screen0 = false;
};

/// A static polarisable point (an LMO centroid) with its full (non-symmetric in general) 3×3 tensor.
struct PolarizablePoint {
  Eigen::Vector3d r;      ///< bohr
  Eigen::Matrix3d alpha;  ///< bohr³; alpha(i,j) with file order xx yy zz xy xz yz yx zx zy
};

/// A dynamic polarisable point: 12 tensors at imaginary frequencies (Gauss–Legendre points of the Casimir–Polder
/// integral, as MAKEFP writes them).
struct DynamicPolarizablePoint {
  Eigen::Vector3d r;                       ///< bohr
  std::array<Eigen::Matrix3d, 12> alpha;   ///< bohr³
};

/// One contracted shell of the projection basis. Exponents in bohr⁻², coefficients as in the file (GAMESS
/// normalisation convention; the integral code normalises). For an L (sp) shell `coef_p` holds the p coefficients.
struct Shell {
  char type = 'S';                  ///< 'S', 'L', 'P', 'D' (6 Cartesian), 'F' (10 Cartesian)
  Eigen::Vector3d r;                ///< centre, bohr
  std::vector<double> exponents;
  std::vector<double> coef;
  std::vector<double> coef_p;       ///< only for 'L'
};

/// A fragment type as read from a `$NAME` block (body frame = the file's frame).
struct FragmentType {
  std::string name;                                ///< lower-case, e.g. "h2o_l"
  std::string source;                              ///< file it came from (for messages)
  std::vector<Atom> atoms;
  std::vector<MultipolePoint> multipoles;
  bool has_screen2 = false, has_screen0 = false;
  std::vector<PolarizablePoint> polarizable;
  std::vector<DynamicPolarizablePoint> dynamic_polarizable;
  std::vector<Shell> basis;                        ///< projection basis, shells in file order
  int n_basis = 0;                                 ///< Cartesian basis functions (S 1, L 4, P 3, D 6, F 10)
  int multiplicity = 1;
  int n_lmo = 0;
  Eigen::MatrixXd wavefunction;                    ///< n_lmo × n_basis LMO coefficients (PROJECTION WAVEFUNCTION)
  Eigen::MatrixXd fock;                            ///< n_lmo × n_lmo symmetric (FOCK MATRIX ELEMENTS, packed lower)
  std::vector<Eigen::Vector3d> lmo_centroids;      ///< bohr
  double pol_damp = 0.6;                           ///< polarisation damping parameter (POLAB), bohr⁻²

  Eigen::Vector3d center_of_mass() const;          ///< bohr, mass-weighted over atoms
};

/// Read every `$NAME … $END` block of a MAKEFP file. Throws ParseError naming the file, line and section.
std::vector<FragmentType> read_fragment_file(const std::string& path);

/// A fragment placed in the lab frame: `com` + rotation `R` (lab = R·(body − body_com) + com).
/// All coordinates and tensors below are already transformed to the lab frame.
struct Fragment {
  const FragmentType* type = nullptr;
  Eigen::Vector3d com;             ///< bohr
  Eigen::Matrix3d R;               ///< proper rotation, body → lab
  std::vector<Atom> atoms;
  std::vector<MultipolePoint> multipoles;          ///< rotated dipoles/quadrupoles/octupoles
  std::vector<PolarizablePoint> polarizable;       ///< alpha_lab = R alpha R^T
  std::vector<DynamicPolarizablePoint> dynamic_polarizable;
  std::vector<Shell> basis;                        ///< shell centres moved; shells themselves are rotation-free
  Eigen::MatrixXd wavefunction;                    ///< LMO coefficients rotated (p, d, f blocks transformed)
  std::vector<Eigen::Vector3d> lmo_centroids;
};

/// Euler angles (a, b, c) in radians, libefp/efpmd `xyzabc` convention (z–x–z rotation, see placement.cpp).
Eigen::Matrix3d euler_to_matrix(double a, double b, double c);

/// Place a fragment: centre of mass at `com` (bohr) with orientation `R`.
Fragment place(const FragmentType& type, const Eigen::Vector3d& com, const Eigen::Matrix3d& R);

/// Place a fragment by matching three (or more) of its atoms to lab positions (bohr) — efpmd's `points` input.
Fragment place_by_points(const FragmentType& type, const std::vector<Eigen::Vector3d>& points);

}  // namespace tsunagu::fragmd
