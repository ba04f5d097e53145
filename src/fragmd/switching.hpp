#pragma once
/// libefp's cutoff switching function (private to fragmd).
///
/// For a fragment pair whose centre-of-mass distance is r (bohr) and a cutoff Rc (bohr), with Rs = 0.8 Rc:
///   s(r) = 1                                   r < Rs
///   s(r) = 1 − 10 D³ + 15 D⁴ − 6 D⁵,           D = (r² − Rs²)/(Rc² − Rs²),   Rs ≤ r ≤ Rc
///   s(r) = 0                                   r > Rc
/// The polynomial in r² (not r) is what libefp uses, so periodic energies match its reference values exactly.
/// Pair energies are multiplied by s(r); the gradient of s with respect to the COM displacement is
/// `switching_dr_over_r(r, Rc) * dr`, which is why the derivative below is returned divided by r.

namespace tsunagu::fragmd::detail {

/// s(r); r and cutoff in bohr. cutoff must be > 0.
inline double switching(double r, double cutoff) {
  const double start = 0.8 * cutoff;
  if (r < start) return 1.0;
  if (r > cutoff) return 0.0;
  const double d = (r * r - start * start) / (cutoff * cutoff - start * start);
  const double d3 = d * d * d;
  return 1.0 - 10.0 * d3 + 15.0 * d3 * d - 6.0 * d3 * d * d;
}

/// (1/r) ds/dr, bohr⁻²; zero outside the switching window.
inline double switching_dr_over_r(double r, double cutoff) {
  const double start = 0.8 * cutoff;
  if (r < start || r > cutoff) return 0.0;
  const double a = 1.0 / (cutoff * cutoff - start * start);
  const double d = (r * r - start * start) * a;
  // ds/dD = −30 D² + 60 D³ − 30 D⁴ and dD/dr = 2 r a.
  return 2.0 * a * (-30.0 * d * d + 60.0 * d * d * d - 30.0 * d * d * d * d);
}

}  // namespace tsunagu::fragmd::detail
