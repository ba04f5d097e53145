#include "tsunagu/bayesopt/transform.hpp"

#include <cmath>
#include <limits>

#include "tsunagu/core/error.hpp"

namespace tsunagu::bayesopt {

YTransform parse_y_transform(const std::string& name) {
  if (name == "none") return YTransform::None;
  if (name == "power") return YTransform::Power;
  throw InvalidArgument("y transform: unknown '" + name + "' (none, power)");
}

std::string y_transform_name(YTransform t) { return t == YTransform::Power ? "power" : "none"; }

namespace {

constexpr double kLambdaMin = -3, kLambdaMax = 3;
constexpr double kEps = 1e-10;  // |lambda| or |lambda - 2| below this: the logarithmic limit of the formula

// Yeo-Johnson psi_lambda(z).
double psi(double z, double l) {
  if (z >= 0) return std::abs(l) < kEps ? std::log1p(z) : std::expm1(l * std::log1p(z)) / l;
  return std::abs(l - 2) < kEps ? -std::log1p(-z) : -std::expm1((2 - l) * std::log1p(-z)) / (2 - l);
}

}  // namespace

double PowerTransform::log_likelihood(const Eigen::VectorXd& z, double lambda) {
  // Gaussian profile likelihood of psi(z) (mean and variance at their MLE) plus the log Jacobian
  // (lambda - 1) sum sign(z) log(1 + |z|): scikit-learn's PowerTransformer._yeo_johnson_log_likelihood.
  const auto n = static_cast<double>(z.size());
  Eigen::VectorXd t(z.size());
  double jac = 0;
  for (Eigen::Index i = 0; i < z.size(); ++i) {
    t[i] = psi(z[i], lambda);
    jac += std::copysign(std::log1p(std::abs(z[i])), z[i]);
  }
  const double var = (t.array() - t.mean()).square().mean();
  if (!(var > 0)) return -std::numeric_limits<double>::infinity();
  return -0.5 * n * std::log(var) + (lambda - 1) * jac;
}

PowerTransform PowerTransform::fit(const Eigen::VectorXd& y) {
  if (!y.allFinite()) throw InvalidArgument("power transform: non-finite objective value");
  PowerTransform p;
  if (y.size() == 0) return p;
  p.mean = y.mean();
  const double sd = std::sqrt((y.array() - p.mean).square().mean());
  if (!(sd > 0)) return p;  // constant: identity
  p.scale = sd;
  const Eigen::VectorXd z = (y.array() - p.mean) / sd;
  // Golden-section search on a unimodal-in-practice profile; a coarse grid first guards against a local maximum.
  double best = 1, fbest = log_likelihood(z, 1);
  for (double l = kLambdaMin; l <= kLambdaMax + 1e-12; l += 0.25) {
    const double f = log_likelihood(z, l);
    if (f > fbest) {
      fbest = f;
      best = l;
    }
  }
  double a = std::max(kLambdaMin, best - 0.25), b = std::min(kLambdaMax, best + 0.25);
  const double g = 0.5 * (std::sqrt(5.0) - 1);
  double c = b - g * (b - a), d = a + g * (b - a);
  double fc = log_likelihood(z, c), fd = log_likelihood(z, d);
  for (int it = 0; it < 60 && b - a > 1e-9; ++it) {
    if (fc > fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = log_likelihood(z, c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = log_likelihood(z, d);
    }
  }
  const double l = 0.5 * (a + b);
  p.lambda = log_likelihood(z, l) >= fbest ? l : best;
  return p;
}

double PowerTransform::forward(double y) const { return psi((y - mean) / scale, lambda); }

double PowerTransform::inverse(double t) const {
  const double l = lambda;
  double z;
  if (t >= 0) {
    if (std::abs(l) < kEps) {
      z = std::expm1(t);
    } else {
      const double u = 1 + l * t;  // > 0 on the image; l < 0 bounds t above by -1/l
      z = u > 0 ? std::expm1(std::log(u) / l) : std::numeric_limits<double>::max();
    }
  } else {
    const double m = 2 - l;
    if (std::abs(m) < kEps) {
      z = -std::expm1(-t);
    } else {
      const double u = 1 - m * t;  // > 0 on the image; m < 0 (l > 2) bounds t below by 1/m
      z = u > 0 ? -std::expm1(std::log(u) / m) : -std::numeric_limits<double>::max();
    }
  }
  return mean + scale * z;
}

double PowerTransform::inverse_derivative(double t) const {
  const double l = lambda;
  double dz;
  if (t >= 0) {
    const double u = 1 + l * t;
    dz = std::abs(l) < kEps ? std::exp(t) : (u > 0 ? std::pow(u, 1 / l - 1) : 0.0);
  } else {
    const double m = 2 - l, u = 1 - m * t;
    dz = std::abs(m) < kEps ? std::exp(-t) : (u > 0 ? std::pow(u, 1 / m - 1) : 0.0);
  }
  return scale * dz;
}

}  // namespace tsunagu::bayesopt
