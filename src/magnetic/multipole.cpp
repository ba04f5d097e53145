#include "tsunagu/magnetic/multipole.hpp"

#include <cmath>
#include <numbers>

#include <Eigen/Geometry>

#include "tsunagu/core/error.hpp"

namespace tsunagu::magnetic {

HomogeneousPolynomial::HomogeneousPolynomial(int degree) : degree_(degree) {
  if (degree < 0) throw InvalidArgument("polynomial degree must be >= 0 (got " + std::to_string(degree) + ")");
  c_.assign(static_cast<std::size_t>((degree + 1) * (degree + 2) / 2), 0.0);
}

// Monomials x^a y^b z^c ordered by a, then b: the block of a given a starts after Σ_{a'<a} (degree - a' + 1).
std::size_t HomogeneousPolynomial::index(int a, int b) const {
  if (a < 0 || b < 0 || a + b > degree_)
    throw InvalidArgument("monomial exponents out of range for degree " + std::to_string(degree_));
  const int start = a * (degree_ + 1) - a * (a - 1) / 2;
  return static_cast<std::size_t>(start + b);
}

double& HomogeneousPolynomial::coefficient(int a, int b) { return c_[index(a, b)]; }
double HomogeneousPolynomial::coefficient(int a, int b) const { return c_[index(a, b)]; }

double HomogeneousPolynomial::operator()(const Eigen::Vector3d& r) const {
  // Powers once per call; the polynomial is small (<= ~500 terms) so a plain double loop is fine.
  std::vector<double> px(static_cast<std::size_t>(degree_ + 1)), py(px.size()), pz(px.size());
  px[0] = py[0] = pz[0] = 1;
  for (int k = 1; k <= degree_; ++k) {
    px[k] = px[k - 1] * r.x();
    py[k] = py[k - 1] * r.y();
    pz[k] = pz[k - 1] * r.z();
  }
  double s = 0;
  std::size_t i = 0;
  for (int a = 0; a <= degree_; ++a)
    for (int b = 0; a + b <= degree_; ++b, ++i)
      if (c_[i] != 0) s += c_[i] * px[a] * py[b] * pz[degree_ - a - b];
  return s;
}

HomogeneousPolynomial HomogeneousPolynomial::derivative(int axis) const {
  if (axis < 0 || axis > 2) throw InvalidArgument("derivative axis must be 0, 1 or 2");
  if (degree_ == 0) return HomogeneousPolynomial(0);
  HomogeneousPolynomial d(degree_ - 1);
  for (int a = 0; a <= degree_; ++a)
    for (int b = 0; a + b <= degree_; ++b) {
      const double v = coefficient(a, b);
      if (v == 0) continue;
      const int c = degree_ - a - b;
      if (axis == 0 && a > 0) d.coefficient(a - 1, b) += a * v;
      if (axis == 1 && b > 0) d.coefficient(a, b - 1) += b * v;
      if (axis == 2 && c > 0) d.coefficient(a, b) += c * v;
    }
  return d;
}

HomogeneousPolynomial HomogeneousPolynomial::operator*(const HomogeneousPolynomial& o) const {
  HomogeneousPolynomial p(degree_ + o.degree_);
  for (int a = 0; a <= degree_; ++a)
    for (int b = 0; a + b <= degree_; ++b) {
      const double v = coefficient(a, b);
      if (v == 0) continue;
      for (int a2 = 0; a2 <= o.degree_; ++a2)
        for (int b2 = 0; a2 + b2 <= o.degree_; ++b2) p.coefficient(a + a2, b + b2) += v * o.coefficient(a2, b2);
    }
  return p;
}

HomogeneousPolynomial HomogeneousPolynomial::operator+(const HomogeneousPolynomial& o) const {
  if (o.degree_ != degree_) throw InvalidArgument("adding polynomials of different degree");
  HomogeneousPolynomial p = *this;
  for (std::size_t i = 0; i < c_.size(); ++i) p.c_[i] += o.c_[i];
  return p;
}

HomogeneousPolynomial HomogeneousPolynomial::operator*(double s) const {
  HomogeneousPolynomial p = *this;
  for (double& v : p.c_) v *= s;
  return p;
}

HomogeneousPolynomial HomogeneousPolynomial::laplacian() const {
  if (degree_ < 2) return HomogeneousPolynomial(degree_ >= 2 ? degree_ - 2 : 0);
  return derivative(0).derivative(0) + derivative(1).derivative(1) + derivative(2).derivative(2);
}

namespace {

double binomial(int n, int k) {
  if (k < 0 || k > n) return 0;
  double r = 1;
  for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}

HomogeneousPolynomial monomial(int degree, int a, int b) {
  HomogeneousPolynomial p(degree);
  p.coefficient(a, b) = 1;
  return p;
}

}  // namespace

// r^l P_l^m(cos θ) e^{imφ} = Π_l^m(z, r²) (x + iy)^m with
// Π_l^m = 2^{-l} Σ_k (-1)^k C(l,k) C(2l-2k,l) (l-2k)!/(l-2k-m)! r^{2k} z^{l-2k-m}  (Legendre's explicit sum,
// differentiated m times); the real harmonics take Re/Im of (x + iy)^m and the usual √2 N_lm normalisation.
HomogeneousPolynomial real_solid_harmonic(int l, int m) {
  if (l < 0 || std::abs(m) > l)
    throw InvalidArgument("solid harmonic needs l >= 0 and |m| <= l (got l=" + std::to_string(l) +
                          ", m=" + std::to_string(m) + ")");
  const int am = std::abs(m);
  const HomogeneousPolynomial r2 = monomial(2, 2, 0) + monomial(2, 0, 2) + monomial(2, 0, 0);
  HomogeneousPolynomial pi(l - am);
  for (int k = 0; 2 * k <= l - am; ++k) {
    double coef = std::ldexp(1.0, -l) * ((k % 2) ? -1.0 : 1.0) * binomial(l, k) * binomial(2 * l - 2 * k, l);
    for (int j = l - 2 * k - am + 1; j <= l - 2 * k; ++j) coef *= j;  // (l-2k)!/(l-2k-m)!
    HomogeneousPolynomial term = monomial(l - 2 * k - am, 0, 0);     // z^{l-2k-m}
    for (int i = 0; i < k; ++i) term = term * r2;
    pi = pi + term * coef;
  }
  // (x + iy)^m = Σ_p C(m,p) x^p (iy)^{m-p}; i^{m-p} is real for even m-p (sign (-1)^{(m-p)/2}), imaginary for odd.
  HomogeneousPolynomial ang(am);
  for (int p = 0; p <= am; ++p) {
    const int q = am - p;
    const bool real_part = (q % 2) == 0;
    if (real_part != (m >= 0)) continue;
    const double sign = ((q / 2) % 2) ? -1.0 : 1.0;
    ang.coefficient(p, q) += sign * binomial(am, p);
  }
  double norm = (2.0 * l + 1) / (4 * std::numbers::pi);
  for (int j = l - am + 1; j <= l + am; ++j) norm /= j;  // (l-m)!/(l+m)!
  norm = std::sqrt(norm) * (am == 0 ? 1.0 : std::numbers::sqrt2);
  return (pi * ang) * norm;
}

std::vector<int> component_order(int l) {
  if (l < 1) throw InvalidArgument("multipole rank must be >= 1 (got " + std::to_string(l) + ")");
  std::vector<int> order{1, -1, 0};
  for (int m = 2; m <= l; ++m) {
    order.push_back(m);
    order.push_back(-m);
  }
  return order;
}

Eigen::MatrixXd multipole_pattern(MultipoleType type, int l, int m, const Eigen::MatrixXd& points) {
  if (points.cols() != 3) throw InvalidArgument("multipole pattern: points must have shape (n, 3)");
  if (l < 1) throw InvalidArgument("multipole rank must be >= 1 (got " + std::to_string(l) + ")");
  const HomogeneousPolynomial f = real_solid_harmonic(l, m);
  const HomogeneousPolynomial g[3] = {f.derivative(0), f.derivative(1), f.derivative(2)};
  Eigen::MatrixXd out(points.rows(), 3);
  for (Eigen::Index i = 0; i < points.rows(); ++i) {
    const Eigen::Vector3d r = points.row(i).transpose();
    const Eigen::Vector3d grad(g[0](r), g[1](r), g[2](r));
    out.row(i) = (type == MultipoleType::Magnetic ? grad : Eigen::Vector3d(r.cross(grad))).transpose();
  }
  return out;
}

std::string multipole_name(MultipoleType type, int l) {
  return (type == MultipoleType::Magnetic ? "M" : "T") + std::to_string(l);
}

}  // namespace tsunagu::magnetic
